"""How a row of the op table (ops.py) becomes a method of `Value`: value.py writes
`tanh = unary("tanh")` in the class body, and `unary` / `binary` build that method.

The method is built when Python creates the class (it calls `__set_name__` on each attribute of a
class body), so it knows the class it makes nodes of without importing value.py. Also `make`, the
one node constructor, and `apply`, the general path for any arity. Read value.py first: this file
is its plumbing.
"""

from __future__ import annotations

from typing import Callable

from .errors import as_float, op_error
from .grad_mode import grad_enabled
from .ops import OPS, Op

_new = object.__new__


def make(cls: type, data: float, op: Op, x, y=None):
    """The one node constructor: the `cls` (a Value) that `op` computed from `x` (and `y`; for an
    n-ary op `x` is the tuple of inputs). In no_grad mode the result remembers nothing: a leaf."""
    out = _new(cls)
    out._data = data
    out.grad = 0.0
    out.label = ""
    out._mark = None
    if grad_enabled.get():
        out._op, out._x, out._y = op, x, y
    else:
        out._op = out._x = out._y = None
    return out


def apply(cls: type, op: Op, inputs: tuple):
    """Run `op` forward on the inputs' data and record it (the general path, for any arity)."""
    datas = [v._data for v in inputs]
    try:
        data = op.forward(*datas) if op.arity else op.forward(datas)
    except (ValueError, ArithmeticError) as exc:
        raise op_error(op, tuple(datas), exc) from None
    if op.arity == 1:
        return make(cls, data, op, inputs[0])
    if op.arity == 2:
        return make(cls, data, op, *inputs)
    return make(cls, data, op, inputs)


# --- op table row -> Value method ------------------------------------------------------------------


class _Method:
    """What `unary` / `binary` put in the class body: when the class is created, it replaces
    itself with the real method, built by `build(cls)` for that class."""

    def __init__(self, build: Callable) -> None:
        self.build = build

    def __set_name__(self, owner: type, name: str) -> None:
        setattr(owner, name, self.build(owner, name))


def _named(method, name: str, op: Op, signature: str):
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__module__ = "autograd_core.value"
    method.__doc__ = f"{signature}: {op.formula}" if op.formula else signature
    return method


# The methods below are the hottest lines in the library (one call per node of every forward pass),
# so each writes out make()'s five lines instead of calling it: a call there costs 10-15% on a long
# chain (bench/compare.py). tests/core/test_engine_lesson.py checks that they build what make() builds.


def binary(op_name: str, *, reflected: bool = False) -> _Method:
    """The method `self <op> other`, or `other <op> self` when `reflected` (Python calls that one
    when `other` is a number: `2 * x`)."""
    op = OPS[op_name]
    forward = op.forward

    def build(Value: type, name: str):
        def method(self, other):
            if not isinstance(other, Value):
                other = Value(as_float(other, f"{op.name}: the other operand"))
            try:
                data = forward(self._data, other._data)
            except (ValueError, ArithmeticError) as exc:
                raise op_error(op, (self._data, other._data), exc) from None
            out = _new(Value)  # make(data, op, self, other), inlined: see above
            out._data = data
            out.grad = 0.0
            out.label = ""
            out._mark = None
            if grad_enabled.get():
                out._op, out._x, out._y = op, self, other
            else:
                out._op = out._x = out._y = None
            return out

        def reflected_method(self, other):
            if not isinstance(other, Value):
                other = Value(as_float(other, f"{op.name}: the other operand"))
            return method(other, self)

        if reflected:
            return _named(reflected_method, name, op, f"{op.name}(other, self)")
        return _named(method, name, op, f"{op.name}(self, other)")

    return _Method(build)


def unary(op_name: str) -> _Method:
    """The method `op(self)` for a unary op; settings (an exponent, a slope) as keyword arguments."""
    op = OPS[op_name]
    forward = op.forward

    def build(Value: type, name: str):
        def method(self):
            try:
                data = forward(self._data)
            except (ValueError, ArithmeticError) as exc:
                raise op_error(op, (self._data,), exc) from None
            out = _new(Value)  # make(data, op, self), inlined: see above
            out._data = data
            out.grad = 0.0
            out.label = ""
            out._mark = None
            if grad_enabled.get():
                out._op, out._x, out._y = op, self, None
            else:
                out._op = out._x = out._y = None
            return out

        def method_with_settings(self, *args, **settings):
            names = list(op.params)
            if len(args) > len(names):
                raise TypeError(f"{op.name}() takes at most {len(names)} setting(s) "
                                f"({', '.join(names)}), got {len(args)}")
            settings.update(zip(names, args))
            return apply(Value, op.bind(**settings), (self,))

        defaults = ", ".join(f"{k}={v:g}" for k, v in op.params.items())
        signature = f"{op.name}(self{', ' + defaults if defaults else ''})"
        return _named(method_with_settings if op.params else method, name, op, signature)

    return _Method(build)
