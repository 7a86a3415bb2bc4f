"""`Value`: a scalar that remembers how it was computed, so `backward()` can apply the chain rule.

Every operation makes a new Value whose `parents` are its inputs and whose `op` names the primitive
(see ops.py); `backward()` (engine.py) walks that graph in reverse. Notebook 01 builds Values by hand.
"""

from __future__ import annotations

import numbers
from typing import Iterable

from . import engine
from .grad_mode import _grad_enabled
from .ops import OPS, Op

_new = object.__new__


def _as_float(x, where: str) -> float:
    """`x` as a float if it is a real number (int, float, bool, numpy scalar), else a TypeError."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return float(x)
    kind = getattr(getattr(x, "dtype", None), "kind", "")
    if kind in ("b", "i", "u", "f") and getattr(x, "ndim", 1) == 0:  # numpy bool_ and 0-d arrays
        return float(x)
    if isinstance(x, Value):
        raise TypeError(f"{where}: got a Value where a plain number is needed; "
                        f"use value.data for its number, or value.detach() for a copy")
    raise TypeError(f"{where}: expected a real number (int or float), got {type(x).__name__} {x!r:.60}")


def _op_error(op: Op, args: tuple, exc: Exception, during: str = "") -> Exception:
    """The same kind of exception as `exc`, naming the op, its inputs and what to do."""
    call = f"{op.name}({', '.join(repr(a) for a in args)})"
    settings = ", ".join(f"{k}={v:g}" for k, v in op.params.items())
    if settings:
        call = f"{call[:-1]}, {settings})" if args else f"{op.name}({settings})"
    reason = _PLAIN_REASONS.get(str(exc), str(exc))
    hint = f" {op.hint}" if op.hint else ""
    return type(exc)(f"{during}{call}: {reason}.{hint}")


_PLAIN_REASONS = {  # math's terse messages, said plainly
    "math domain error": "the input is outside the domain of the function",
    "math range error": "the result is too large for a float",
    "float division by zero": "division by zero",
}


def _make(data: float, parents: tuple, op: Op) -> "Value":
    """A new Value from an op; in no_grad mode, a leaf that remembers nothing."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._mark = None
    if _grad_enabled.get():
        out._op = op
        if op.arity == 1:
            out._x, out._y = parents[0], None
        elif op.arity == 2:
            out._x, out._y = parents
        else:
            out._x, out._y = parents, None
    else:
        out._op = out._x = out._y = None
    return out


def _apply(op: Op, inputs: tuple) -> "Value":
    """Run `op` forward on the inputs' data and record it (the slow, general path)."""
    datas = [v.data for v in inputs]
    try:
        data = op.forward(*datas) if op.arity else op.forward(datas)
    except (ValueError, ArithmeticError) as exc:
        raise _op_error(op, tuple(datas), exc) from None
    return _make(data, inputs, op)


def _constant(x, op: Op) -> "Value":
    return Value(_as_float(x, f"{op.name}: the other operand"))


def _binary_method(op: Op):
    """`self op other` as a method; `_reflected(method, op)` gives `other op self`."""
    forward = op.forward

    def method(self, other):
        if not isinstance(other, Value):
            other = _constant(other, op)
        try:
            data = forward(self.data, other.data)
        except (ValueError, ArithmeticError) as exc:
            raise _op_error(op, (self.data, other.data), exc) from None
        out = _new(Value)  # _make(), inlined: this is the hottest path in the library
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._mark = None
        if _grad_enabled.get():
            out._op, out._x, out._y = op, self, other
        else:
            out._op = out._x = out._y = None
        return out

    method.__name__ = f"__{op.name}__"
    method.__doc__ = f"self {op.name} other, as one node."
    return method


def _reflected(method, op: Op):
    """`other op self` from `method` (= `self op other`): Python calls it for a number `other` (or
    a Value, when self's type subclasses Value)."""

    def reflected(self, other):
        return method(other if isinstance(other, Value) else _constant(other, op), self)

    reflected.__name__ = f"__r{op.name}__"
    reflected.__doc__ = f"other {op.name} self, as one node."
    return reflected


def _unary_method(op: Op):
    forward = op.forward

    def method(self):
        try:
            data = forward(self.data)
        except (ValueError, ArithmeticError) as exc:
            raise _op_error(op, (self.data,), exc) from None
        out = _new(Value)  # _make(), inlined
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._mark = None
        if _grad_enabled.get():
            out._op, out._x, out._y = op, self, None
        else:
            out._op = out._x = out._y = None
        return out

    def method_with_params(self, *args, **kwargs):
        names = list(op.params)
        if len(args) > len(names):
            raise TypeError(f"{op.name}() takes at most {len(names)} setting(s) ({', '.join(names)}), "
                            f"got {len(args)}")
        kwargs.update(zip(names, args))
        return _apply(op.bind(**kwargs), (self,))

    chosen = method_with_params if op.params else method
    chosen.__name__ = op.name
    settings = ", ".join(f"{k}={v:g}" for k, v in op.params.items())
    chosen.__doc__ = f"{op.name}(self{', ' + settings if settings else ''}), as one node."
    return chosen


class Value:
    """A scalar in a computation graph: `data`, its gradient `grad`, and how it was made.

    `parents` are the inputs of the op that made it (ordered, duplicates kept: `x*x` has two),
    `op` is that op's name ("" for a leaf you created). Values hash and compare (`==`) by identity;
    `<`, `<=`, `>`, `>=` compare `data`.
    """

    # The inputs live in two slots, not a tuple: `_x` (and `_y` for binary ops), or `_x` = a tuple
    # for n-ary ops. One object per node instead of two halves the garbage collector's work on big
    # graphs (bench/engine.py). `_mark` lets one sweep visit each node once without a set.
    __slots__ = ("data", "grad", "label", "_op", "_x", "_y", "_mark")
    __array_ufunc__ = None  # numpy scalars defer to Value's reflected operators

    def __init__(self, data, label: str = "") -> None:
        self.data = data if type(data) is float else _as_float(data, "Value(data)")
        self.grad = 0.0
        self.label = label
        self._op: Op | None = None
        self._x = self._y = self._mark = None

    @property
    def op(self) -> str:
        """Name of the op that made this Value ("" for a leaf)."""
        return self._op.name if self._op is not None else ""

    @property
    def parents(self) -> tuple:
        """The inputs of the op that made this Value, in order, duplicates kept (() for a leaf)."""
        op = self._op
        if op is None:
            return ()
        if op.arity == 1:
            return (self._x,)
        if op.arity == 2:
            return (self._x, self._y)
        return self._x

    @property
    def is_leaf(self) -> bool:
        """True for Values with no parents: inputs, parameters, constants, no_grad results."""
        return self._op is None

    # --- arithmetic ------------------------------------------------------------------------------

    __add__ = _binary_method(OPS["add"])
    __radd__ = _reflected(__add__, OPS["add"])  # other + self
    __sub__ = _binary_method(OPS["sub"])
    __rsub__ = _reflected(__sub__, OPS["sub"])  # other - self
    __mul__ = _binary_method(OPS["mul"])
    __rmul__ = _reflected(__mul__, OPS["mul"])  # other * self
    __truediv__ = _binary_method(OPS["div"])
    __rtruediv__ = _reflected(__truediv__, OPS["div"])  # other / self
    __neg__ = _unary_method(OPS["neg"])
    __abs__ = _unary_method(OPS["abs"])
    _power = _binary_method(OPS["power"])

    def __pos__(self) -> "Value":
        return self

    def __pow__(self, exponent) -> "Value":
        """self ** exponent: a constant exponent is a setting of `pow`; a Value one is an input."""
        if isinstance(exponent, Value):
            return self._power(exponent)
        return _apply(OPS["pow"].bind(exponent=_as_float(exponent, "pow: the exponent")), (self,))

    def __rpow__(self, base) -> "Value":
        """base ** self for a number base (e.g. 2 ** x)."""
        base = _as_float(base, "rpow: the base")
        if base > 0.0:
            return _apply(OPS["rpow"].bind(base=base), (self,))
        return Value(base)._power(self)  # d/d(base) is then recorded too; 0 ** x and (-2) ** x work

    # --- comparisons (of data; they return bools and are not recorded) ---------------------------

    def __lt__(self, other) -> bool:
        return self.data < _data(other, "<")

    def __le__(self, other) -> bool:
        return self.data <= _data(other, "<=")

    def __gt__(self, other) -> bool:
        return self.data > _data(other, ">")

    def __ge__(self, other) -> bool:
        return self.data >= _data(other, ">=")

    __hash__ = object.__hash__

    # --- the backward pass -----------------------------------------------------------------------

    def backward(self, gradient=1.0, create_graph: bool = False) -> None:
        """Fill `.grad` of every Value this one depends on with d(self)/d(that Value).

        Leaves accumulate (call `zero_grad()` / set `.grad = 0` between steps); interior nodes are
        overwritten. `gradient` seeds this node (default 1.0). With `create_graph=True` the grads are
        Values connected to the graph, so they can be differentiated again; as in PyTorch, a leaf and
        the graph of its grad then refer to each other (a cycle that only the garbage collector
        frees): `grad()` / `gradients()` return such grads without storing them.
        """
        if isinstance(gradient, Value):
            seed = gradient if create_graph else gradient.data
        else:
            seed = _as_float(gradient, "backward(gradient)")
            if create_graph:
                seed = Value(seed)
        engine.backward(self, seed, create_graph)

    def detach(self) -> "Value":
        """A new leaf with the same data (and label): gradients do not flow through it."""
        return Value(self.data, self.label)

    def item(self) -> float:
        """The data as a Python float (as PyTorch's `tensor.item()`)."""
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        grad = self.grad
        grad_text = repr(grad) if not isinstance(grad, Value) else f"Value(data={grad.data!r})"
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={grad_text}{label})"


def _data(other, symbol: str) -> float:
    if isinstance(other, Value):
        return other.data
    return _as_float(other, f"Value {symbol} other")


for _op in OPS.values():
    if _op.method:
        setattr(Value, _op.name, _unary_method(_op))


# --- n-ary nodes ---------------------------------------------------------------------------------


def _values(items: Iterable, where: str) -> tuple:
    return tuple(v if isinstance(v, Value) else Value(_as_float(v, where)) for v in items)


def apply_op(op: "Op | str", *inputs, **params) -> Value:
    """Apply a registered op (or its name) to Values or numbers: `apply_op("leaky_relu", x, slope=0.2)`."""
    if isinstance(op, str):
        if op not in OPS:
            raise KeyError(f"apply_op: no op named {op!r}; registered ops are {', '.join(OPS)}")
        op = OPS[op]
    if op.params:
        op = op.bind(**params)  # fills in the defaults
    elif params:
        raise TypeError(f"apply_op: {op.name} takes no settings, got {sorted(params)}")
    if op.arity and len(inputs) != op.arity:
        raise TypeError(f"apply_op: {op.name} takes {op.arity} input(s), got {len(inputs)}")
    return _apply(op, _values(inputs, op.name))


def sum_values(values: Iterable) -> Value:
    """The sum of many Values (or numbers) as ONE node, however many terms."""
    inputs = _values(values, "sum_values")
    if not inputs:
        return Value(0.0)
    return _apply(OPS["sum"], inputs)


def dot(weights, inputs, bias=None) -> Value:
    """w1*x1 + ... + wn*xn (+ bias) as ONE node: a neuron's pre-activation."""
    if type(weights) not in (list, tuple):
        weights = tuple(weights)
    if type(inputs) not in (list, tuple):
        inputs = tuple(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights but {len(inputs)} inputs; "
                         f"they must pair up one to one")
    parents = (*weights, *inputs) if bias is None else (*weights, *inputs, bias)
    if not parents:
        return Value(0.0)
    try:
        datas = [v.data for v in parents]  # fast path: all Values already
    except AttributeError:
        parents = _values(parents, "dot")
        datas = [v.data for v in parents]
    try:
        data = _DOT.forward(datas)
    except (ValueError, ArithmeticError) as exc:
        raise _op_error(_DOT, tuple(datas), exc) from None
    return _make(data, parents, _DOT)


_DOT = OPS["dot"]
