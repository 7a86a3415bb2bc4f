"""Reference solutions to notebook 05's exercises (try them yourself first)."""

import math


def bce(score: float, label: int) -> float:
    """Exercise 1: binary cross-entropy of one score (a logit) against a 0/1 label."""
    p = 1 / (1 + math.exp(-score))
    return -math.log(p if label == 1 else 1 - p)


def momentum_step(p: float, buf: float, g: float, lr: float, beta: float) -> tuple:
    """Exercise 2: one step of SGD with momentum (PyTorch's rule): buf = beta·buf + g."""
    buf = beta * buf + g
    return p - lr * buf, buf


def batches(n: int, batch_size: int) -> list:
    """Exercise 3: the row indices 0..n-1 cut into consecutive batches of batch_size."""
    return [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
