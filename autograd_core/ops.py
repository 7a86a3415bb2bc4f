"""Every primitive operation, each defined once: name, forward on floats, local derivatives, the math.

A derivative rule takes the inputs and the output and returns the partial derivative of the output
with respect to each input. Rules use only arithmetic and the helpers of formulas.py, so the same
rule runs on floats (first-order `backward()`) and on Values (`create_graph=True`, `grad`, higher
order). registry.py says what a row is; the README's "Adding an op" and notebook 02 explain more.
"""

from __future__ import annotations

import math
import operator

from .formulas import (INV_SQRT_2PI, SQRT_HALF, TWO_OVER_SQRT_PI, cos, cosh, dot_accumulate,
                       dot_float, dot_grads, elu_float, erf, exp, gelu_float, leaky_relu_float,
                       log_float, maximum_float, maximum_grads, minimum_float, minimum_grads,
                       pow_float, pow_grad, power_grads, relu_float, rpow_float, sigmoid,
                       sigmoid_float, silu_float, sin, sinh, softplus_float, sqrt, sum_accumulate,
                       sum_float)
from .registry import NARY, OPS, Op, binary_op, register, unary_op

__all__ = ["NARY", "OPS", "Op"]

_POS = ((0.2, 3.0),)
_SYM = ((-0.9, 0.9),)
_PAIR = ((0.3, 3.0), (-3.0, 3.0))

# name            forward on floats   local derivative(s): floats or Values      the math (docstrings)
binary_op("add",    operator.add,       lambda x, y, out: (1.0, 1.0),              "x + y;  d = (1, 1)")
binary_op("sub",    operator.sub,       lambda x, y, out: (1.0, -1.0),             "x - y;  d = (1, -1)")
binary_op("mul",    operator.mul,       lambda x, y, out: (y, x),                  "x * y;  d = (y, x)")
binary_op("div",    operator.truediv,   lambda x, y, out: (1.0 / y, -out / y),     "x / y;  d = (1/y, -x/y^2)",
        domain=((-3.0, 3.0), (0.5, 3.0)), hint="Divide by a nonzero number.")
binary_op("power",  pow_float,               power_grads,                              "x ** y;  d = (y x^(y-1), x^y ln x)",
        domain=((0.2, 3.0), (-2.0, 2.0)),
        hint="x ** y is real for x >= 0 or a whole-number y, and infinite at x = 0 for y < 0.")
binary_op("atan2",  math.atan2,         lambda y, x, out: (x / (x * x + y * y), -y / (x * x + y * y)),
        "atan2(y, x), the angle of the point (x, y);  d = (x, -y) / (x^2 + y^2)",
        domain=_PAIR, method=True, hint="atan2 is not differentiable at the origin.")
binary_op("maximum", maximum_float,   maximum_grads,                           "max(x, y);  d = (1, 0) if x > y, (0, 1) if x < y, (1/2, 1/2) at a tie",
          method=True, kinks=(0.0,))
binary_op("minimum", minimum_float,   minimum_grads,                           "min(x, y);  d = (1, 0) if x < y, (0, 1) if x > y, (1/2, 1/2) at a tie",
          method=True, kinks=(0.0,))
binary_op("hypot",  math.hypot,         lambda x, y, out: (x / out, y / out),      "sqrt(x^2 + y^2);  d = (x, y) / hypot",
        domain=_PAIR, method=True, hint="hypot is not differentiable at the origin.")
unary_op("identity", float,             lambda x, out: 1.0,                        "x (a variable's copy);  d = 1",
       method=False)
unary_op("neg",     operator.neg,       lambda x, out: -1.0,                       "-x;  d = -1", method=False)
unary_op("pow",     pow_float,               pow_grad,                                 "x ** c;  d = c x^(c-1) (0 for c = 0)",
       params={"exponent": 2.0}, domain=_POS, method=False,
       test_params=({"exponent": 2}, {"exponent": 3}, {"exponent": 0.5}, {"exponent": -1.5}),
       hint="x ** c is real for x >= 0 or a whole-number c, and infinite at x = 0 for c < 0.")
unary_op("rpow",    rpow_float,              lambda x, out, base: out * math.log(base), "c ** x;  d = c^x ln c",
       params={"base": 2.0}, domain=((-2.0, 2.0),), method=False,
       test_params=({"base": 2}, {"base": 0.5}, {"base": math.e}),
       hint="c ** x with a constant base is differentiable for c > 0.")
unary_op("exp",     math.exp,           lambda x, out: out,                        "e^x;  d = e^x",
       hint="exp overflows a float above x = 709.78; scale the input down.")
unary_op("expm1",   math.expm1,         lambda x, out: out + 1.0,                  "e^x - 1, exact near 0;  d = e^x",
       hint="expm1 overflows a float above x = 709.78; scale the input down.")
unary_op("log",     log_float,               lambda x, out: 1.0 / x,                    "ln x;  d = 1/x",
       domain=_POS, hint="log is defined for x > 0.")
unary_op("log1p",   math.log1p,         lambda x, out: 1.0 / (1.0 + x),            "ln(1 + x), exact near 0;  d = 1/(1 + x)",
       domain=((-0.5, 3.0),), hint="log1p is defined for x > -1.")
unary_op("log2",    math.log2,          lambda x, out: 1.0 / (x * math.log(2.0)),  "log2 x;  d = 1/(x ln 2)",
       domain=_POS, hint="log2 is defined for x > 0.")
unary_op("log10",   math.log10,         lambda x, out: 1.0 / (x * math.log(10.0)), "log10 x;  d = 1/(x ln 10)",
       domain=_POS, hint="log10 is defined for x > 0.")
unary_op("sqrt",    math.sqrt,          lambda x, out: 0.5 / out,                  "sqrt x;  d = 1/(2 sqrt x)",
       domain=_POS, hint="sqrt is defined for x >= 0 (its slope is infinite at 0).")
unary_op("sin",     math.sin,           lambda x, out: cos(x),                     "sin x;  d = cos x")
unary_op("cos",     math.cos,           lambda x, out: -sin(x),                    "cos x;  d = -sin x")
unary_op("tan",     math.tan,           lambda x, out: 1.0 + out * out,            "tan x;  d = 1 + tan^2 x",
       domain=((-1.2, 1.2),))
unary_op("asin",    math.asin,          lambda x, out: 1.0 / sqrt(1.0 - x * x),    "arcsin x;  d = 1/sqrt(1 - x^2)",
       domain=_SYM, hint="asin is defined for -1 <= x <= 1 (its slope is infinite at the ends).")
unary_op("acos",    math.acos,          lambda x, out: -1.0 / sqrt(1.0 - x * x),   "arccos x;  d = -1/sqrt(1 - x^2)",
       domain=_SYM, hint="acos is defined for -1 <= x <= 1 (its slope is infinite at the ends).")
unary_op("atan",    math.atan,          lambda x, out: 1.0 / (1.0 + x * x),        "arctan x;  d = 1/(1 + x^2)")
unary_op("sinh",    math.sinh,          lambda x, out: cosh(x),                    "sinh x;  d = cosh x",
       hint="sinh overflows a float above |x| = 710.")
unary_op("cosh",    math.cosh,          lambda x, out: sinh(x),                    "cosh x;  d = sinh x",
       hint="cosh overflows a float above |x| = 710.")
unary_op("tanh",    math.tanh,          lambda x, out: 1.0 - out * out,            "tanh x;  d = 1 - tanh^2 x")
unary_op("erf",     math.erf,           lambda x, out: TWO_OVER_SQRT_PI * exp(-(x * x)),
       "the error function;  d = 2/sqrt(pi) e^(-x^2)")
unary_op("sigmoid", sigmoid_float,           lambda x, out: out * (1.0 - out),          "s(x) = 1/(1 + e^-x);  d = s (1 - s)")
unary_op("softplus", softplus_float,         lambda x, out: sigmoid(x),                 "ln(1 + e^x);  d = s(x)")
unary_op("silu",    silu_float,              lambda x, out: sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))),
       "x s(x);  d = s(x) (1 + x (1 - s(x)))")
unary_op("gelu",    gelu_float,              lambda x, out: 0.5 * (1.0 + erf(x * SQRT_HALF))
                                                     + x * INV_SQRT_2PI * exp(-0.5 * (x * x)),
       "x P(X <= x), X ~ N(0, 1) (exact, with erf);  d = P(X <= x) + x e^(-x^2/2)/sqrt(2 pi)")
unary_op("relu",    relu_float,              lambda x, out: 1.0 if x > 0.0 else 0.0,    "max(x, 0);  d = 1 for x > 0, 0 at and below 0",
       kinks=(0.0,))
unary_op("leaky_relu", leaky_relu_float,     lambda x, out, slope: 1.0 if x > 0.0 else slope,
       "x for x > 0, slope x below;  d = 1 for x > 0, slope at and below 0",
       params={"slope": 0.01}, kinks=(0.0,), test_params=({}, {"slope": 0.2}))
unary_op("elu",     elu_float,               lambda x, out, alpha: 1.0 if x > 0.0 else (out + alpha if x < 0.0 else alpha),
       "x for x > 0, alpha (e^x - 1) below;  d = 1 for x > 0, alpha e^x at and below 0 (flat at 0)",
       params={"alpha": 1.0}, kinks=(0.0,), test_params=({}, {"alpha": 0.5}))
unary_op("abs",     abs,                lambda x, out: 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),
       "|x|;  d = sign(x), 0 at 0", kinks=(0.0,), method=False)
register(Op("sum", NARY, sum_float,        lambda xs, out: [1.0] * len(xs),           "x1 + ... + xn;  d/dx_i = 1",
            method=False, accumulate=sum_accumulate))
register(Op("dot", NARY, dot_float,        dot_grads,                                "w1 x1 + ... + wn xn (+ b);  d/dw_i = x_i, d/dx_i = w_i, d/db = 1",
            method=False, accumulate=dot_accumulate))
