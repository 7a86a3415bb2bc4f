"""How a Value is made: the one node constructor `make`, and `unary` / `binary`, which turn a row of
the op table (ops.py) into a Value method (value.py writes `tanh = unary("tanh")` in the class body).

Also the two kinds of error every op can raise: a non-number given as input, and an input outside
the op's domain. Read value.py first; this file is its plumbing.
"""

from __future__ import annotations

import numbers

from .grad_mode import _grad_enabled
from .ops import OPS, Op

Value = None  # the class nodes are made of: value.py sets it right after defining `Value`
_new = object.__new__


def make(data: float, op: Op, x, y=None):
    """The one node constructor: the Value `op` computed from `x` (and `y`; for an n-ary op `x` is the
    tuple of inputs). In no_grad mode the result remembers nothing: it is a leaf."""
    out = _new(Value)
    out._data = data
    out.grad = 0.0
    out.label = ""
    out._mark = None
    if _grad_enabled.get():
        out._op, out._x, out._y = op, x, y
    else:
        out._op = out._x = out._y = None
    return out


def apply(op: Op, inputs: tuple):
    """Run `op` forward on the inputs' data and record it (the general path, for any arity)."""
    datas = [v._data for v in inputs]
    try:
        data = op.forward(*datas) if op.arity else op.forward(datas)
    except (ValueError, ArithmeticError) as exc:
        raise op_error(op, tuple(datas), exc) from None
    if op.arity == 1:
        return make(data, op, inputs[0])
    if op.arity == 2:
        return make(data, op, *inputs)
    return make(data, op, inputs)


# --- op table row -> Value method ------------------------------------------------------------------
# The methods below are the hottest lines in the library (one call per node of every forward pass),
# so each writes out make()'s five lines instead of calling it: a call there costs 10-15% on a long
# chain (bench/compare.py). tests/test_engine_lesson.py checks that they build exactly what make() builds.


def _named(method, name: str, op: Op, signature: str):
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__module__ = "autograd_core.value"
    method.__doc__ = f"{signature}: {op.formula}" if op.formula else signature
    return method


def binary(op_name: str, name: str | None = None, *, reflected: bool = False):
    """The method `self <op> other`, or `other <op> self` when `reflected` (Python calls that one
    when `other` is a number: `2 * x`)."""
    op = OPS[op_name]
    forward = op.forward

    def method(self, other):
        if not isinstance(other, Value):
            other = Value(as_float(other, f"{op.name}: the other operand"))
        try:
            data = forward(self._data, other._data)
        except (ValueError, ArithmeticError) as exc:
            raise op_error(op, (self._data, other._data), exc) from None
        out = _new(Value)  # make(data, op, self, other), inlined: see below
        out._data = data
        out.grad = 0.0
        out.label = ""
        out._mark = None
        if _grad_enabled.get():
            out._op, out._x, out._y = op, self, other
        else:
            out._op = out._x = out._y = None
        return out

    def reflected_method(self, other):
        if not isinstance(other, Value):
            other = Value(as_float(other, f"{op.name}: the other operand"))
        return method(other, self)

    if reflected:
        return _named(reflected_method, name or op.name, op, f"{op.name}(other, self)")
    return _named(method, name or op.name, op, f"{op.name}(self, other)")


def unary(op_name: str, name: str | None = None):
    """The method `op(self)` for a unary op; settings (an exponent, a slope) as keyword arguments."""
    op = OPS[op_name]
    forward = op.forward

    def method(self):
        try:
            data = forward(self._data)
        except (ValueError, ArithmeticError) as exc:
            raise op_error(op, (self._data,), exc) from None
        out = _new(Value)  # make(data, op, self), inlined: see below
        out._data = data
        out.grad = 0.0
        out.label = ""
        out._mark = None
        if _grad_enabled.get():
            out._op, out._x, out._y = op, self, None
        else:
            out._op = out._x = out._y = None
        return out

    def method_with_settings(self, *args, **settings):
        names = list(op.params)
        if len(args) > len(names):
            raise TypeError(f"{op.name}() takes at most {len(names)} setting(s) ({', '.join(names)}), "
                            f"got {len(args)}")
        settings.update(zip(names, args))
        return apply(op.bind(**settings), (self,))

    defaults = ", ".join(f"{k}={v:g}" for k, v in op.params.items())
    signature = f"{op.name}(self{', ' + defaults if defaults else ''})"
    return _named(method_with_settings if op.params else method, name or op.name, op, signature)


# --- errors --------------------------------------------------------------------------------------

_LARGEST = "the largest float is about 1.8e308"


def as_float(x, where: str) -> float:
    """`x` as a float if it is a real number (int, float, bool, numpy scalar), else a TypeError."""
    if type(x) is float:
        return x
    is_number = isinstance(x, numbers.Real) and not isinstance(x, Value)
    kind = getattr(getattr(x, "dtype", None), "kind", "")
    if is_number or (kind in ("b", "i", "u", "f") and getattr(x, "ndim", 1) == 0):  # numpy, 0-d arrays
        try:
            return float(x)
        except OverflowError:
            text = repr(x) if len(repr(x)) <= 24 else f"{repr(x)[:12]}…({len(repr(x))} digits)"
            raise OverflowError(f"{where}: {text} is too large for a float ({_LARGEST})") from None
    if isinstance(x, Value):
        raise TypeError(f"{where}: got a Value where a plain number is needed; "
                        f"use value.data for its number, or value.detach() for a copy")
    raise TypeError(f"{where}: expected a real number (int or float), got {type(x).__name__} {x!r:.60}")


_PLAIN_REASONS = {  # math's terse messages, said plainly
    "math domain error": "the input is outside the domain of the function",
    "float division by zero": "division by zero",
}


def op_error(op: Op, args: tuple, exc: Exception, during: str = "") -> Exception:
    """The same kind of exception as `exc`, naming the op, its inputs and what to do."""
    call = f"{op.name}({', '.join(repr(a) for a in args)})"
    settings = ", ".join(f"{k}={v:g}" for k, v in op.params.items())
    if settings:
        call = f"{call[:-1]}, {settings})" if args else f"{op.name}({settings})"
    if isinstance(exc, OverflowError):  # math says "math range error" or an errno tuple
        reason = f"the result is too large for a float ({_LARGEST})"
    else:
        reason = _PLAIN_REASONS.get(str(exc), str(exc))
    hint = f" {op.hint}" if op.hint else ""
    return type(exc)(f"{during}{call}: {reason}.{hint}")
