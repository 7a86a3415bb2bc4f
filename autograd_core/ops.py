"""Every primitive operation, each defined once: name, forward on floats, local derivatives.

A derivative rule takes the inputs and the output and returns the partial derivative of the output
with respect to each input. Rules use only arithmetic and the helpers below, so the same rule runs on
floats (first-order `backward()`) and on Values (`create_graph=True`, `grad`, higher order). Read the
README's "Adding an op" and notebook 02 (the chain rule) next.
"""

from __future__ import annotations

import math
import operator
from typing import Callable

# --- helpers that work on floats and on Values alike ---------------------------------------------


def exp(x):
    """e**x for a float or a Value."""
    return math.exp(x) if type(x) is float else x.exp()


def log(x):
    """Natural log for a float or a Value."""
    return math.log(x) if type(x) is float else x.log()


def sin(x):
    """sin(x) for a float or a Value."""
    return math.sin(x) if type(x) is float else x.sin()


def cos(x):
    """cos(x) for a float or a Value."""
    return math.cos(x) if type(x) is float else x.cos()


def sigmoid(x):
    """The logistic function for a float or a Value."""
    return _sigmoid(x) if type(x) is float else x.sigmoid()


# --- forward functions on floats that math does not provide --------------------------------------


def _log(x: float) -> float:
    if x == 0.0:  # math.log(0) says "math domain error"; be exact about why
        raise ValueError("log of zero is -infinity")
    return math.log(x)


def _sigmoid(x: float) -> float:
    # exp of a non-positive number only: no overflow for any x
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for any x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # NaN falls through and propagates


def _leaky_relu(x: float, slope: float) -> float:
    return x if x > 0.0 else slope * x


def _pow(x: float, exponent: float) -> float:
    if x < 0.0 and not float(exponent).is_integer():
        raise ValueError("a negative base to a non-integer power is a complex number")
    return x ** exponent


def _power(x: float, y: float) -> float:
    return _pow(x, y)


def _rpow(x: float, base: float) -> float:
    return _pow(base, x)


def _dot(xs: list) -> float:
    # inputs are (w1..wn, x1..xn) or (w1..wn, x1..xn, b)
    n = len(xs) // 2
    total = sum(map(operator.mul, xs[:n], xs[n : 2 * n]))
    return total + xs[-1] if len(xs) % 2 else total


def _sum(xs: list) -> float:
    return sum(xs)


# --- derivative rules that need more than one line -----------------------------------------------


def _power_grads(x, y, out):
    # d/dx x^y = y x^(y-1);  d/dy x^y = x^y ln x  (0 where x == 0 and NaN where x < 0, as PyTorch)
    dy = out * log(x) if x > 0.0 else (0.0 if x == 0.0 else math.nan)
    return y * x ** (y - 1.0), dy


def _dot_grads(xs, out):
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    n = len(xs) // 2
    return [*xs[n : 2 * n], *xs[:n], 1.0] if len(xs) % 2 else [*xs[n:], *xs[:n]]


# --- first-order fast paths for n-ary ops: the same partials, added straight into .grad ------------


def _sum_accumulate(parents: tuple, grad_out: float) -> None:
    for parent in parents:
        parent.grad += grad_out  # times d/dx_i sum = 1


def _dot_accumulate(parents: tuple, grad_out: float) -> None:
    n = len(parents) // 2
    for w, x in zip(parents[:n], parents[n : 2 * n]):
        w.grad += grad_out * x.data  # times d/dw_i = x_i
        x.grad += grad_out * w.data  # times d/dx_i = w_i
    if len(parents) % 2:
        parents[-1].grad += grad_out  # times d/db = 1


# --- the registry --------------------------------------------------------------------------------

NARY = 0  # arity of ops that take any number of inputs


class Op:
    """A primitive: `forward` on floats and `derivative`, the local partials on floats or Values.

    Unary rules are `derivative(x, out) -> dx`, binary `derivative(x, y, out) -> (dx, dy)`, n-ary
    `derivative(xs, out) -> [dx_i]`. Settings that are not differentiated (an exponent, a slope) are
    keyword `params`, bound with `bind()`; tests sample inputs from `domain`, away from `kinks`.
    An n-ary op may add `accumulate(parents, grad_out)`, a first-order fast path that adds the
    same partials straight into each parent's `.grad` (tests check that it agrees with `derivative`).
    """

    __slots__ = ("name", "arity", "forward", "derivative", "params", "domain", "kinks", "hint",
                 "method", "test_params", "accumulate", "_bound")

    def __init__(self, name: str, arity: int, forward: Callable, derivative: Callable, *,
                 params: dict | None = None, domain=((-3.0, 3.0),), kinks: tuple = (),
                 hint: str = "", method: bool = True, test_params: tuple = ({},),
                 accumulate: Callable | None = None) -> None:
        self.name = name
        self.arity = arity
        self.forward = forward
        self.derivative = derivative
        self.params = params or {}
        self.domain = domain  # one (low, high) per input (n-ary: the first, for every input)
        self.kinks = kinks  # points where the derivative jumps: tests keep away from them
        self.hint = hint
        self.method = method  # generate a Value method of the same name
        self.test_params = test_params
        self.accumulate = accumulate
        self._bound: dict = {}

    def bind(self, **params) -> "Op":
        """This op with its settings fixed, e.g. `OPS["leaky_relu"].bind(slope=0.2)` (cached)."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise TypeError(f"{self.name}() got unexpected setting(s) {sorted(unknown)}; "
                            f"it takes {sorted(self.params) or 'none'}")
        values = {k: float(params.get(k, default)) for k, default in self.params.items()}
        key = tuple(values.values())
        op = self._bound.get(key)
        if op is None:
            op = Op(self.name, self.arity, _with_params(self.forward, values),
                    _with_params(self.derivative, values), params=values, domain=self.domain,
                    kinks=self.kinks, hint=self.hint, method=self.method, test_params=self.test_params)
            if len(self._bound) < 1024:  # exponents are usually few; never grow without bound
                self._bound[key] = op
        return op

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"Op({self.name}{', ' + settings if settings else ''})"


def _with_params(fn: Callable, params: dict) -> Callable:
    if not params:
        return fn
    values = tuple(params.values())
    return lambda *args: fn(*args, *values)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry: Value gets a method of the same name, the tests pick it up."""
    if op.name in OPS:
        raise ValueError(f"an op named {op.name!r} is already registered")
    OPS[op.name] = op
    return op


def _unary(name, forward, derivative, **kwargs):
    return register(Op(name, 1, forward, derivative, **kwargs))


def _binary(name, forward, derivative, **kwargs):
    kwargs.setdefault("domain", ((-3.0, 3.0), (-3.0, 3.0)))
    return register(Op(name, 2, forward, derivative, method=False, **kwargs))


_POS = ((0.2, 3.0),)

# name           forward on floats    local derivative(s): floats or Values             # the math
_binary("add",   operator.add,        lambda x, y, out: (1.0, 1.0))                      # d(x+y) = (1, 1)
_binary("sub",   operator.sub,        lambda x, y, out: (1.0, -1.0))                     # d(x-y) = (1, -1)
_binary("mul",   operator.mul,        lambda x, y, out: (y, x))                          # d(xy) = (y, x)
_binary("div",   operator.truediv,    lambda x, y, out: (1.0 / y, -out / y),             # d(x/y) = (1/y, -x/y^2)
        domain=((-3.0, 3.0), (0.5, 3.0)), hint="Divide by a nonzero number.")
_binary("power", _power,              _power_grads,                                      # see _power_grads
        domain=((0.2, 3.0), (-2.0, 2.0)),
        hint="x ** y is real for x >= 0 or a whole-number y, and infinite at x = 0 for y < 0.")
_unary("identity", float,            lambda x, out: 1.0, method=False)                  # d x = 1 (a variable's copy)
_unary("neg",    operator.neg,        lambda x, out: -1.0, method=False)                 # d(-x) = -1
_unary("pow",    _pow,                lambda x, out, exponent: exponent * x ** (exponent - 1.0),  # d x^c = c x^(c-1)
       params={"exponent": 2.0}, domain=_POS, method=False,
       test_params=({"exponent": 2}, {"exponent": 3}, {"exponent": 0.5}, {"exponent": -1.5}),
       hint="x ** c is real for x >= 0 or a whole-number c, and infinite at x = 0 for c < 0.")
_unary("rpow",   _rpow,               lambda x, out, base: out * math.log(base),         # d c^x = c^x ln c
       params={"base": 2.0}, domain=((-2.0, 2.0),), method=False,
       test_params=({"base": 2}, {"base": 0.5}, {"base": math.e}),
       hint="c ** x with a constant base is differentiable for c > 0.")
_unary("exp",    math.exp,            lambda x, out: out,                                # d e^x = e^x
       hint="exp overflows a float above x = 709.78; scale the input down.")
_unary("log",    _log,                lambda x, out: 1.0 / x, domain=_POS,               # d ln x = 1/x
       hint="log is defined for x > 0.")
_unary("sqrt",   math.sqrt,           lambda x, out: 0.5 / out, domain=_POS,             # d sqrt(x) = 1/(2 sqrt(x))
       hint="sqrt is defined for x >= 0.")
_unary("tanh",   math.tanh,           lambda x, out: 1.0 - out * out)                    # d tanh = 1 - tanh^2
_unary("sigmoid", _sigmoid,           lambda x, out: out * (1.0 - out))                  # d s = s (1 - s)
_unary("softplus", _softplus,         lambda x, out: sigmoid(x))                         # d ln(1+e^x) = s(x)
_unary("relu",   _relu,               lambda x, out: 1.0 if x > 0.0 else 0.0,            # 1 for x > 0, 0 at and below 0
       kinks=(0.0,))
_unary("leaky_relu", _leaky_relu,     lambda x, out, slope: 1.0 if x > 0.0 else slope,   # 1 for x > 0, slope at and below 0
       params={"slope": 0.01}, kinks=(0.0,),
       test_params=({}, {"slope": 0.2}))
_unary("abs",    abs,                 lambda x, out: 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),  # sign(x); 0 at 0
       kinks=(0.0,), method=False)
_unary("sin",    math.sin,            lambda x, out: cos(x))                             # d sin = cos
_unary("cos",    math.cos,            lambda x, out: -sin(x))                            # d cos = -sin
register(Op("sum", NARY, _sum,        lambda xs, out: [1.0] * len(xs), method=False,     # d/dx_i sum = 1
            accumulate=_sum_accumulate))
register(Op("dot", NARY, _dot,        _dot_grads, method=False,                          # see _dot_grads
            accumulate=_dot_accumulate))
