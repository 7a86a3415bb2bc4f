"""The formulas behind ops.py's table that do not fit in one row: helpers that work on floats and
on Values alike (so one derivative rule serves first order and higher order), forward functions on
floats that `math` lacks, the longer derivative rules, and the n-ary ops' first-order fast paths.

Read ops.py first: each name here is used by a row there.
"""

from __future__ import annotations

import math
import operator

# --- helpers that work on floats and on Values alike (a Value has a method of the same name) ------


def exp(x):
    """e**x for a float or a Value."""
    return math.exp(x) if type(x) is float else x.exp()


def log(x):
    """Natural log for a float or a Value."""
    return math.log(x) if type(x) is float else x.log()


def sqrt(x):
    """Square root for a float or a Value."""
    return math.sqrt(x) if type(x) is float else x.sqrt()


def sin(x):
    """sin(x) for a float or a Value."""
    return math.sin(x) if type(x) is float else x.sin()


def cos(x):
    """cos(x) for a float or a Value."""
    return math.cos(x) if type(x) is float else x.cos()


def sinh(x):
    """sinh(x) for a float or a Value."""
    return math.sinh(x) if type(x) is float else x.sinh()


def cosh(x):
    """cosh(x) for a float or a Value."""
    return math.cosh(x) if type(x) is float else x.cosh()


def erf(x):
    """The error function for a float or a Value."""
    return math.erf(x) if type(x) is float else x.erf()


def sigmoid(x):
    """The logistic function for a float or a Value."""
    return sigmoid_float(x) if type(x) is float else x.sigmoid()


def number(x) -> float:
    """The number of a float or a Value (`==` on Values is identity, so rules compare these)."""
    return x if type(x) is float else x.data


def is_zero(x) -> bool:
    """x == 0 for a float or a Value."""
    return number(x) == 0.0


# --- forward functions on floats that math does not provide --------------------------------------


def log_float(x: float) -> float:
    """ln x, with an exact message at 0 (math says only "math domain error")."""
    if x == 0.0:  # math.log(0) says "math domain error"; be exact about why
        raise ValueError("log of zero is -infinity")
    return math.log(x)


def sigmoid_float(x: float) -> float:
    """1 / (1 + e^-x) without overflow for any x."""
    # exp of a non-positive number only: no overflow for any x
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus_float(x: float) -> float:
    """ln(1 + e^x) without overflow for any x."""
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for any x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def relu_float(x: float) -> float:
    """max(x, 0); NaN propagates."""
    return 0.0 if x <= 0.0 else x  # NaN falls through and propagates


def leaky_relu_float(x: float, slope: float) -> float:
    """x for x > 0, else slope * x."""
    return x if x > 0.0 else slope * x


def elu_float(x: float, alpha: float) -> float:
    """x for x > 0, else alpha (e^x - 1)."""
    return x if x > 0.0 else alpha * math.expm1(x)


def gelu_float(x: float) -> float:
    """x P(X <= x) for a standard normal X (exact, with erf)."""
    return 0.5 * x * (1.0 + math.erf(x * SQRT_HALF))


def silu_float(x: float) -> float:
    """x sigmoid(x)."""
    return x * sigmoid_float(x)


def maximum_float(x: float, y: float) -> float:
    """The larger of x and y; NaN if either is NaN (as torch.maximum)."""
    return x if x > y or x != x else y


def minimum_float(x: float, y: float) -> float:
    """The smaller of x and y; NaN if either is NaN (as torch.minimum)."""
    return x if x < y or x != x else y


def pow_float(x: float, exponent: float) -> float:
    """x ** exponent, refusing the complex results math would give."""
    if x < 0.0 and not float(exponent).is_integer():
        raise ValueError("a negative base to a non-integer power is a complex number")
    return x ** exponent


def rpow_float(x: float, base: float) -> float:
    """base ** x for a constant base (the op `rpow`)."""
    return pow_float(base, x)


def dot_float(xs: list) -> float:
    """w1 x1 + ... + wn xn (+ b), the inputs given as one list."""
    # inputs are (w1..wn, x1..xn) or (w1..wn, x1..xn, b)
    n = len(xs) // 2
    total = sum(map(operator.mul, xs[:n], xs[n : 2 * n]), 0.0)
    return total + xs[-1] if len(xs) % 2 else total


def sum_float(xs: list) -> float:
    """x1 + ... + xn, from 0.0."""
    return sum(xs, 0.0)


SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# --- derivative rules that need more than one line -----------------------------------------------


def pow_grad(x, out, exponent):
    """d/dx x^c."""
    # d/dx x^c = c x^(c-1); 0 when c == 0, also at x = 0 (PyTorch's convention)
    return 0.0 if exponent == 0.0 else exponent * x ** (exponent - 1.0)


def power_grads(x, y, out):
    """(d/dx, d/dy) of x^y."""
    # d/dx x^y = y x^(y-1) (0 at x = y = 0);  d/dy x^y = x^y ln x (0 where x == 0, NaN where x < 0),
    # PyTorch's conventions at the points where the formulas divide by zero
    dx = 0.0 if is_zero(y) and is_zero(x) else y * x ** (y - 1.0)
    dy = out * log(x) if x > 0.0 else (0.0 if is_zero(x) else math.nan)
    return dx, dy


def maximum_grads(x, y, out):
    """(d/dx, d/dy) of max(x, y)."""
    # 1 for the larger input, 0 for the other; a tie splits the gradient, 1/2 each (PyTorch's rule)
    if number(x) == number(y):
        return 0.5, 0.5
    return (1.0, 0.0) if x > y else (0.0, 1.0)


def minimum_grads(x, y, out):
    """(d/dx, d/dy) of min(x, y)."""
    # 1 for the smaller input, 0 for the other; a tie splits the gradient, 1/2 each (PyTorch's rule)
    if number(x) == number(y):
        return 0.5, 0.5
    return (1.0, 0.0) if x < y else (0.0, 1.0)


def dot_grads(xs, out):
    """d/d(each input) of dot."""
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    n = len(xs) // 2
    return [*xs[n : 2 * n], *xs[:n], 1.0] if len(xs) % 2 else [*xs[n:], *xs[:n]]


# --- first-order fast paths for n-ary ops: the same partials, added straight into .grad ------------


def sum_accumulate(parents: tuple, grad_out: float) -> None:
    """sum's partials added straight into each parent's .grad (first order)."""
    for parent in parents:
        parent.grad += grad_out  # times d/dx_i sum = 1


def dot_accumulate(parents: tuple, grad_out: float) -> None:
    """dot's partials added straight into each parent's .grad (first order)."""
    n = len(parents) // 2  # the weights' terms first, then the inputs', as the readable sweep adds them
    for i in range(n):
        parents[i].grad += grad_out * parents[n + i]._data  # times d/dw_i = x_i
    for i in range(n):
        parents[n + i].grad += grad_out * parents[i]._data  # times d/dx_i = w_i
    if len(parents) % 2:
        parents[-1].grad += grad_out  # times d/db = 1
