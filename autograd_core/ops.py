"""Every primitive operation, each defined once: name, forward on floats, local derivatives, the math.

A derivative rule takes the inputs and the output and returns the partial derivative of the output
with respect to each input. Rules use only arithmetic and the helpers below, so the same rule runs on
floats (first-order `backward()`) and on Values (`create_graph=True`, `grad`, higher order). Read the
README's "Adding an op" and notebook 02 (the chain rule) next.
"""

from __future__ import annotations

import math
import operator
from typing import Callable

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
    return _sigmoid(x) if type(x) is float else x.sigmoid()


def is_zero(x) -> bool:
    """x == 0 for a float or a Value (`==` on Values is identity, so read the number)."""
    return (x if type(x) is float else x.data) == 0.0


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


def _elu(x: float, alpha: float) -> float:
    return x if x > 0.0 else alpha * math.expm1(x)


def _gelu(x: float) -> float:
    return 0.5 * x * (1.0 + math.erf(x * _SQRT_HALF))


def _silu(x: float) -> float:
    return x * _sigmoid(x)


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
    total = sum(map(operator.mul, xs[:n], xs[n : 2 * n]), 0.0)
    return total + xs[-1] if len(xs) % 2 else total


def _sum(xs: list) -> float:
    return sum(xs, 0.0)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# --- derivative rules that need more than one line -----------------------------------------------


def _pow_grad(x, out, exponent):
    # d/dx x^c = c x^(c-1); 0 when c == 0, also at x = 0 (PyTorch's convention)
    return 0.0 if exponent == 0.0 else exponent * x ** (exponent - 1.0)


def _power_grads(x, y, out):
    # d/dx x^y = y x^(y-1) (0 at x = y = 0);  d/dy x^y = x^y ln x (0 where x == 0, NaN where x < 0),
    # PyTorch's conventions at the points where the formulas divide by zero
    dx = 0.0 if is_zero(y) and is_zero(x) else y * x ** (y - 1.0)
    dy = out * log(x) if x > 0.0 else (0.0 if is_zero(x) else math.nan)
    return dx, dy


def _dot_grads(xs, out):
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    n = len(xs) // 2
    return [*xs[n : 2 * n], *xs[:n], 1.0] if len(xs) % 2 else [*xs[n:], *xs[:n]]


# --- first-order fast paths for n-ary ops: the same partials, added straight into .grad ------------


def _sum_accumulate(parents: tuple, grad_out: float) -> None:
    for parent in parents:
        parent.grad += grad_out  # times d/dx_i sum = 1


def _dot_accumulate(parents: tuple, grad_out: float) -> None:
    n = len(parents) // 2  # the weights' terms first, then the inputs', as the readable sweep adds them
    for i in range(n):
        parents[i].grad += grad_out * parents[n + i]._data  # times d/dw_i = x_i
    for i in range(n):
        parents[n + i].grad += grad_out * parents[i]._data  # times d/dx_i = w_i
    if len(parents) % 2:
        parents[-1].grad += grad_out  # times d/db = 1


# --- the registry --------------------------------------------------------------------------------

NARY = 0  # arity of ops that take any number of inputs


class Op:
    """A primitive: `forward` on floats and `derivative`, the local partials on floats or Values.

    Unary rules are `derivative(x, out) -> dx`, binary `derivative(x, y, out) -> (dx, dy)`, n-ary
    `derivative(xs, out) -> [dx_i]`. `formula` says both in words (it becomes the method's docstring).
    Settings that are not differentiated (an exponent, a slope) are keyword `params`, bound with
    `bind()`; tests sample inputs from `domain`, away from `kinks`. An n-ary op may add
    `accumulate(parents, grad_out)`, the first-order fast path's way of adding the same partials
    straight into each parent's `.grad` (tests check that it agrees with `derivative`).
    """

    __slots__ = ("name", "arity", "forward", "derivative", "formula", "params", "domain", "kinks",
                 "hint", "method", "test_params", "accumulate", "_bound")

    def __init__(self, name: str, arity: int, forward: Callable, derivative: Callable, formula: str = "",
                 *, params: dict | None = None, domain=((-3.0, 3.0),), kinks: tuple = (),
                 hint: str = "", method: bool = True, test_params: tuple = ({},),
                 accumulate: Callable | None = None) -> None:
        self.name = name
        self.arity = arity
        self.forward = forward
        self.derivative = derivative
        self.formula = formula
        self.params = params or {}
        self.domain = domain  # one (low, high) per input (n-ary: the first, for every input)
        self.kinks = kinks  # points where the derivative jumps: tests keep away from them
        self.hint = hint
        self.method = method  # Value has a method of this name (value.py declares it)
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
            op = Op(self.name, self.arity, _Bound(self.forward, key), _Bound(self.derivative, key),
                    self.formula, params=values, domain=self.domain, kinks=self.kinks, hint=self.hint,
                    method=self.method, test_params=self.test_params)
            if len(self._bound) < 1024:  # exponents are usually few; never grow without bound
                self._bound[key] = op
        return op

    def __reduce__(self):
        # pickled by name and settings, so graphs pickle although rules are lambdas
        return (_lookup, (self.name, tuple(self.params.items())))

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"Op({self.name}{', ' + settings if settings else ''})"


class _Bound:
    """`fn` with its trailing settings filled in: `_Bound(f, (2.0,))(x, out) == f(x, out, 2.0)`."""

    __slots__ = ("fn", "settings")

    def __init__(self, fn: Callable, settings: tuple) -> None:
        self.fn, self.settings = fn, settings

    def __call__(self, *args):
        return self.fn(*args, *self.settings)


def _lookup(name: str, settings: tuple) -> Op:
    """The registered op `name` with `settings` bound (how pickled Values find their ops again)."""
    op = OPS[name]
    return op.bind(**dict(settings)) if settings else op


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry (the tests pick it up; value.py declares its method)."""
    if op.name in OPS:
        raise ValueError(f"an op named {op.name!r} is already registered")
    OPS[op.name] = op
    return op


def _unary(name, forward, derivative, formula, **kwargs):
    return register(Op(name, 1, forward, derivative, formula, **kwargs))


def _binary(name, forward, derivative, formula, **kwargs):
    kwargs.setdefault("domain", ((-3.0, 3.0), (-3.0, 3.0)))
    kwargs.setdefault("method", False)
    return register(Op(name, 2, forward, derivative, formula, **kwargs))


_POS = ((0.2, 3.0),)
_SYM = ((-0.9, 0.9),)
_PAIR = ((0.3, 3.0), (-3.0, 3.0))

# name            forward on floats   local derivative(s): floats or Values      the math (docstrings)
_binary("add",    operator.add,       lambda x, y, out: (1.0, 1.0),              "x + y;  d = (1, 1)")
_binary("sub",    operator.sub,       lambda x, y, out: (1.0, -1.0),             "x - y;  d = (1, -1)")
_binary("mul",    operator.mul,       lambda x, y, out: (y, x),                  "x * y;  d = (y, x)")
_binary("div",    operator.truediv,   lambda x, y, out: (1.0 / y, -out / y),     "x / y;  d = (1/y, -x/y^2)",
        domain=((-3.0, 3.0), (0.5, 3.0)), hint="Divide by a nonzero number.")
_binary("power",  _power,             _power_grads,                              "x ** y;  d = (y x^(y-1), x^y ln x)",
        domain=((0.2, 3.0), (-2.0, 2.0)),
        hint="x ** y is real for x >= 0 or a whole-number y, and infinite at x = 0 for y < 0.")
_binary("atan2",  math.atan2,         lambda y, x, out: (x / (x * x + y * y), -y / (x * x + y * y)),
        "atan2(y, x), the angle of the point (x, y);  d = (x, -y) / (x^2 + y^2)",
        domain=_PAIR, method=True, hint="atan2 is not differentiable at the origin.")
_binary("hypot",  math.hypot,         lambda x, y, out: (x / out, y / out),      "sqrt(x^2 + y^2);  d = (x, y) / hypot",
        domain=_PAIR, method=True, hint="hypot is not differentiable at the origin.")
_unary("identity", float,             lambda x, out: 1.0,                        "x (a variable's copy);  d = 1",
       method=False)
_unary("neg",     operator.neg,       lambda x, out: -1.0,                       "-x;  d = -1", method=False)
_unary("pow",     _pow,               _pow_grad,                                 "x ** c;  d = c x^(c-1) (0 for c = 0)",
       params={"exponent": 2.0}, domain=_POS, method=False,
       test_params=({"exponent": 2}, {"exponent": 3}, {"exponent": 0.5}, {"exponent": -1.5}),
       hint="x ** c is real for x >= 0 or a whole-number c, and infinite at x = 0 for c < 0.")
_unary("rpow",    _rpow,              lambda x, out, base: out * math.log(base), "c ** x;  d = c^x ln c",
       params={"base": 2.0}, domain=((-2.0, 2.0),), method=False,
       test_params=({"base": 2}, {"base": 0.5}, {"base": math.e}),
       hint="c ** x with a constant base is differentiable for c > 0.")
_unary("exp",     math.exp,           lambda x, out: out,                        "e^x;  d = e^x",
       hint="exp overflows a float above x = 709.78; scale the input down.")
_unary("expm1",   math.expm1,         lambda x, out: out + 1.0,                  "e^x - 1, exact near 0;  d = e^x",
       hint="expm1 overflows a float above x = 709.78; scale the input down.")
_unary("log",     _log,               lambda x, out: 1.0 / x,                    "ln x;  d = 1/x",
       domain=_POS, hint="log is defined for x > 0.")
_unary("log1p",   math.log1p,         lambda x, out: 1.0 / (1.0 + x),            "ln(1 + x), exact near 0;  d = 1/(1 + x)",
       domain=((-0.5, 3.0),), hint="log1p is defined for x > -1.")
_unary("log2",    math.log2,          lambda x, out: 1.0 / (x * math.log(2.0)),  "log2 x;  d = 1/(x ln 2)",
       domain=_POS, hint="log2 is defined for x > 0.")
_unary("log10",   math.log10,         lambda x, out: 1.0 / (x * math.log(10.0)), "log10 x;  d = 1/(x ln 10)",
       domain=_POS, hint="log10 is defined for x > 0.")
_unary("sqrt",    math.sqrt,          lambda x, out: 0.5 / out,                  "sqrt x;  d = 1/(2 sqrt x)",
       domain=_POS, hint="sqrt is defined for x >= 0 (its slope is infinite at 0).")
_unary("sin",     math.sin,           lambda x, out: cos(x),                     "sin x;  d = cos x")
_unary("cos",     math.cos,           lambda x, out: -sin(x),                    "cos x;  d = -sin x")
_unary("tan",     math.tan,           lambda x, out: 1.0 + out * out,            "tan x;  d = 1 + tan^2 x",
       domain=((-1.2, 1.2),))
_unary("asin",    math.asin,          lambda x, out: 1.0 / sqrt(1.0 - x * x),    "arcsin x;  d = 1/sqrt(1 - x^2)",
       domain=_SYM, hint="asin is defined for -1 <= x <= 1 (its slope is infinite at the ends).")
_unary("acos",    math.acos,          lambda x, out: -1.0 / sqrt(1.0 - x * x),   "arccos x;  d = -1/sqrt(1 - x^2)",
       domain=_SYM, hint="acos is defined for -1 <= x <= 1 (its slope is infinite at the ends).")
_unary("atan",    math.atan,          lambda x, out: 1.0 / (1.0 + x * x),        "arctan x;  d = 1/(1 + x^2)")
_unary("sinh",    math.sinh,          lambda x, out: cosh(x),                    "sinh x;  d = cosh x",
       hint="sinh overflows a float above |x| = 710.")
_unary("cosh",    math.cosh,          lambda x, out: sinh(x),                    "cosh x;  d = sinh x",
       hint="cosh overflows a float above |x| = 710.")
_unary("tanh",    math.tanh,          lambda x, out: 1.0 - out * out,            "tanh x;  d = 1 - tanh^2 x")
_unary("erf",     math.erf,           lambda x, out: _TWO_OVER_SQRT_PI * exp(-(x * x)),
       "the error function;  d = 2/sqrt(pi) e^(-x^2)")
_unary("sigmoid", _sigmoid,           lambda x, out: out * (1.0 - out),          "s(x) = 1/(1 + e^-x);  d = s (1 - s)")
_unary("softplus", _softplus,         lambda x, out: sigmoid(x),                 "ln(1 + e^x);  d = s(x)")
_unary("silu",    _silu,              lambda x, out: sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))),
       "x s(x);  d = s(x) (1 + x (1 - s(x)))")
_unary("gelu",    _gelu,              lambda x, out: 0.5 * (1.0 + erf(x * _SQRT_HALF))
                                                     + x * _INV_SQRT_2PI * exp(-0.5 * (x * x)),
       "x P(X <= x), X ~ N(0, 1) (exact, with erf);  d = P(X <= x) + x e^(-x^2/2)/sqrt(2 pi)")
_unary("relu",    _relu,              lambda x, out: 1.0 if x > 0.0 else 0.0,    "max(x, 0);  d = 1 for x > 0, 0 at and below 0",
       kinks=(0.0,))
_unary("leaky_relu", _leaky_relu,     lambda x, out, slope: 1.0 if x > 0.0 else slope,
       "x for x > 0, slope x below;  d = 1 for x > 0, slope at and below 0",
       params={"slope": 0.01}, kinks=(0.0,), test_params=({}, {"slope": 0.2}))
_unary("elu",     _elu,               lambda x, out, alpha: 1.0 if x > 0.0 else (out + alpha if x < 0.0 else alpha),
       "x for x > 0, alpha (e^x - 1) below;  d = 1 for x > 0, alpha e^x at and below 0 (flat at 0)",
       params={"alpha": 1.0}, kinks=(0.0,), test_params=({}, {"alpha": 0.5}))
_unary("abs",     abs,                lambda x, out: 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),
       "|x|;  d = sign(x), 0 at 0", kinks=(0.0,), method=False)
register(Op("sum", NARY, _sum,        lambda xs, out: [1.0] * len(xs),           "x1 + ... + xn;  d/dx_i = 1",
            method=False, accumulate=_sum_accumulate))
register(Op("dot", NARY, _dot,        _dot_grads,                                "w1 x1 + ... + wn xn (+ b);  d/dw_i = x_i, d/dx_i = w_i, d/db = 1",
            method=False, accumulate=_dot_accumulate))
