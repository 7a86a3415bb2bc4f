"""Reference solutions to notebook 03's exercises (try them yourself first)."""

import math

from autograd_core import grad, jvp


def d_softplus(x: float) -> float:
    """Exercise 1: d/dx log(1 + e^x) = e^x / (1 + e^x), the sigmoid."""
    return 1 / (1 + math.exp(-x))


def newton_step(f, x: float) -> float:
    """Exercise 2: one Newton step towards a minimum of f: x - f'(x) / f''(x)."""
    return x - grad(f)(x) / grad(grad(f))(x)


def hvp(f, point: tuple, v: tuple) -> list:
    """Exercise 3: the Hessian of f at point times v, one jvp over grad per row."""
    n = len(point)
    return [jvp(grad(f, argnums=i), point, v)[1] for i in range(n)]
