"""Reference solutions to notebook 06's exercises (try them yourself first)."""

import math


def standardize_column(values: list) -> list:
    """Exercise 1: (v - mean) / std for each value, std over the column (divide by n)."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return [(v - mean) / std for v in values]


def softmax(scores: list) -> list:
    """Exercise 2: e^s_i / sum_j e^s_j, shifted by the largest score so nothing overflows."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def early_stop(val_losses: list, patience: int) -> tuple:
    """Exercise 3: (index of the best loss, index where training stops) for EarlyStopping."""
    best, wait = 0, 0
    for i in range(1, len(val_losses)):
        if val_losses[i] < val_losses[best]:
            best, wait = i, 0
        else:
            wait += 1
            if wait >= patience:
                return best, i
    return best, len(val_losses) - 1
