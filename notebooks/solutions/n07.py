"""Reference solutions to notebook 07's exercises (try them yourself first)."""


def rates(tp: int, fn: int, fp: int, tn: int) -> tuple:
    """Exercise 1: (sensitivity, specificity) = (TP / (TP + FN), TN / (TN + FP))."""
    return tp / (tp + fn), tn / (tn + fp)


def roc_point(probs: list, labels: list, threshold: float) -> tuple:
    """Exercise 2: (false-positive rate, true-positive rate) when saying 1 for p > threshold."""
    said = [p > threshold for p in probs]
    positives = sum(labels)
    negatives = len(labels) - positives
    tp = sum(s and t == 1 for s, t in zip(said, labels))
    fp = sum(s and t == 0 for s, t in zip(said, labels))
    return fp / negatives, tp / positives


def safest_threshold(probs: list, labels: list) -> float:
    """Exercise 3: just below the lowest probability given to a true 1: every 1 is caught."""
    return min(p for p, t in zip(probs, labels) if t == 1) * 0.999
