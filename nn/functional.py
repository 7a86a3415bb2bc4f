"""Functions of lists of Values that are not single ops: `softmax` and `log_softmax` (torch.nn.functional).

Both subtract the largest logit first (the max shift), so logits of +-1000 give exact, finite results;
the shift is a constant, so the gradients are unchanged. Notebook 06 uses them for cross-entropy.
"""

from __future__ import annotations

from autograd_core import Value, sum_values


def _logits(logits, where: str) -> list:
    if isinstance(logits, Value) or not isinstance(logits, (list, tuple)):
        raise TypeError(f"{where} expects a list of logits (Values or numbers), got "
                        f"{type(logits).__name__}")
    if not logits:
        raise ValueError(f"{where} of an empty list is undefined; pass at least one logit")
    return [v if isinstance(v, Value) else Value(v) for v in logits]


def logsumexp(logits) -> Value:
    """log(sum_i e^{x_i}) computed as m + log(sum_i e^{x_i - m}) with m = max x_i: never overflows."""
    xs = _logits(logits, "logsumexp")
    m = max(v.data for v in xs)
    return sum_values([(v - m).exp() for v in xs]).log() + m


def softmax(logits) -> list:
    """[e^{x_i} / sum_j e^{x_j}], via the max shift; a list of Values that sums to 1."""
    xs = _logits(logits, "softmax")
    m = max(v.data for v in xs)
    exps = [(v - m).exp() for v in xs]
    total = sum_values(exps)
    return [e / total for e in exps]


def log_softmax(logits) -> list:
    """[x_i - logsumexp(x)]: log-probabilities, exact where log(softmax(x)) would underflow to log(0)."""
    xs = _logits(logits, "log_softmax")
    lse = logsumexp(xs)
    return [v - lse for v in xs]
