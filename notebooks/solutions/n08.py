"""Reference solutions to notebook 08's exercises (try them yourself first)."""

from autograd_core import Value


def weighted_backward(outputs: list, v: list) -> None:
    """Exercise 1: what PyTorch's y.backward(gradient=v) does, with scalars: backward on Σ v_i y_i."""
    total = sum((vi * yi for vi, yi in zip(v, outputs)), Value(0.0))
    total.backward()


def square_with_half_gradient(x: Value) -> Value:
    """Exercise 2: x² in value, but gradient x instead of 2x: one factor is detached."""
    return x * x.detach()


def linear(W: list, b: list, x: list) -> list:
    """Exercise 3: a Linear layer in plain lists: W has one row per output, y = W x + b."""
    return [sum(w * xi for w, xi in zip(row, x)) + bi for row, bi in zip(W, b)]
