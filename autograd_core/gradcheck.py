"""Check analytic derivatives against central differences, to any order, in reverse and forward mode.

`numerical_grad` is the slope you can compute by hand; `gradcheck` compares it with what the engine
computes and says exactly where they disagree. Notebook 03 uses both.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from .functional import grad, jvp
from .errors import as_float
from .value import Value


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with central differences."""


def _evaluate(f: Callable, xs: Sequence[float]) -> float:
    out = f(*[Value(x) for x in xs])
    return out.data if isinstance(out, Value) else as_float(out, "gradcheck: the function's result")


def numerical_grad(f: Callable, inputs: Sequence, eps: float = 1e-6) -> list[float]:
    """Central differences (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for each input i."""
    xs = [x.data if isinstance(x, Value) else as_float(x, "numerical_grad: input") for x in inputs]
    slopes = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        slopes.append((_evaluate(f, up) - _evaluate(f, down)) / (2 * eps))
    return slopes


def _analytic(f: Callable, xs: list[float], mode: str) -> list[float]:
    n = len(xs)
    if mode == "rev":
        return [float(g) for g in grad(f, tuple(range(n)))(*xs)]
    if mode == "fwd":
        return [float(jvp(f, xs, [1.0 if j == i else 0.0 for j in range(n)])[1]) for i in range(n)]
    raise ValueError(f"gradcheck: mode {mode!r} is not 'rev' (reverse) or 'fwd' (forward)")


def _partial(f: Callable, i: int) -> Callable:
    """The function x -> df/dx_i(x), itself differentiable."""
    first = grad(f, i)
    return lambda *xs: first(*xs)


def gradcheck(f: Callable, inputs: Sequence, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, order: int = 1, modes: Sequence[str] = ("rev", "fwd")) -> bool:
    """True if every derivative of f up to `order` matches central differences at `inputs`.

    Order k compares each analytic k-th derivative with central differences of the (k-1)-th
    derivatives, in each mode ("rev": reverse mode, "fwd": forward mode). Otherwise raises
    GradcheckError naming the derivative, the input index, and both numbers.
    """
    xs = [x.data if isinstance(x, Value) else as_float(x, "gradcheck: input") for x in inputs]
    if order < 1:
        raise ValueError(f"gradcheck: order must be 1 or more, got {order}")
    functions = [(f, "f")]
    for k in range(1, order + 1):
        for g, name in functions:
            numeric = numerical_grad(g, xs, eps)
            for mode in modes:
                analytic = _analytic(g, xs, mode)
                for i, (a, n) in enumerate(zip(analytic, numeric)):
                    if not math.isclose(a, n, rel_tol=rtol, abs_tol=atol):
                        how = "reverse mode" if mode == "rev" else "forward mode"
                        raise GradcheckError(
                            f"gradcheck failed for d({name})/dx[{i}] at x = {xs}: {how} gives "
                            f"{a!r}, central differences give {n!r} (difference {abs(a - n):.3g} > "
                            f"atol {atol:g} + rtol {rtol:g} * |numeric|). Check the derivative rule "
                            f"of the ops in f, or whether f reads .data and so hides a dependency.")
        functions = [(_partial(g, i), f"d({name})/dx[{i}]") for g, name in functions
                     for i in range(len(xs))]
    return True
