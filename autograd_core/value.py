"""`Value`: a scalar that remembers how it was computed, so `backward()` can apply the chain rule.

Every operation makes a new Value whose `parents` are its inputs and whose `op` names the primitive;
`backward()` walks that graph in reverse. Read this class, then engine.py (the reverse sweep, one
screen), then ops.py (every op's derivative, one row each). Notebook 01 builds Values by hand.
"""

from __future__ import annotations

import copy
from typing import Iterable

from . import engine, node
from .errors import as_float, op_error
from .node import binary, unary
from .ops import OPS


class Value:
    """A scalar in a computation graph: `data`, its gradient `grad`, and how it was made.

    `parents` are the inputs of the op that made it (ordered, duplicates kept: `x*x` has two),
    `op` is that op's name ("" for a leaf you created). Values hash and compare (`==`) by identity;
    `<`, `<=`, `>`, `>=` compare `data`. Next: `backward` below, then engine.py.
    """

    # `_data` holds the number (the `data` property checks what is assigned to it). The inputs live
    # in two slots, not a tuple: `_x` (and `_y` for binary ops), or `_x` = a tuple for n-ary ops;
    # a leaf has no inputs, so its `_x` says whether it is a model's parameter (`is_parameter`).
    # One object per node instead of two halves the garbage collector's work on big graphs
    # (bench/engine.py). `_mark` lets the first-order sweep visit each node once without a set.
    __slots__ = ("_data", "grad", "label", "_op", "_x", "_y", "_mark")
    __array_ufunc__ = None  # numpy scalars defer to Value's reflected operators

    def __init__(self, data, label: str = "", *, parameter: bool = False) -> None:
        self._data = data if type(data) is float else as_float(data, "Value(data)")
        self.grad = 0.0
        self.label = label
        self._op = self._y = self._mark = None
        self._x = _PARAMETER if parameter else None

    @property
    def data(self) -> float:
        """The number this Value holds: always a Python float."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = value if type(value) is float else as_float(value, "Value.data = ...")

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
    def is_parameter(self) -> bool:
        """True for a leaf made with `parameter=True` (`nn.Parameter`): a model's weight or bias."""
        return self._x is _PARAMETER and self._op is None

    @property
    def is_leaf(self) -> bool:
        """True for Values with no parents: inputs, parameters, constants, no_grad results."""
        return self._op is None

    # --- arithmetic: each operator is one op of the table in ops.py ----------------------------

    __add__ = binary("add")
    __radd__ = binary("add", reflected=True)  # other + self
    __sub__ = binary("sub")
    __rsub__ = binary("sub", reflected=True)  # other - self
    __mul__ = binary("mul")
    __rmul__ = binary("mul", reflected=True)  # other * self
    __truediv__ = binary("div")
    __rtruediv__ = binary("div", reflected=True)  # other / self
    __neg__ = unary("neg")
    __abs__ = unary("abs")

    def __pos__(self) -> "Value":
        return self

    def __pow__(self, exponent) -> "Value":
        """self ** exponent: a constant exponent is a setting of `pow`; a Value one is an input."""
        if isinstance(exponent, Value):
            return node.apply(Value, OPS["power"], (self, exponent))
        return node.apply(Value, OPS["pow"].bind(exponent=as_float(exponent, "pow: the exponent")),
                          (self,))

    def __rpow__(self, base) -> "Value":
        """base ** self for a number base (e.g. 2 ** x)."""
        base = as_float(base, "rpow: the base")
        if base > 0.0:
            return node.apply(Value, OPS["rpow"].bind(base=base), (self,))
        # 0 ** x and (-2) ** x: the op `power`, with the base as a constant input
        return node.apply(Value, OPS["power"], (Value(base), self))

    # --- functions: one method per op, named as in ops.py (its docstring holds the math) -------

    exp = unary("exp")
    expm1 = unary("expm1")
    log = unary("log")
    log1p = unary("log1p")
    log2 = unary("log2")
    log10 = unary("log10")
    sqrt = unary("sqrt")
    sin = unary("sin")
    cos = unary("cos")
    tan = unary("tan")
    asin = unary("asin")
    acos = unary("acos")
    atan = unary("atan")
    atan2 = binary("atan2")
    hypot = binary("hypot")
    maximum = binary("maximum")
    minimum = binary("minimum")
    sinh = unary("sinh")
    cosh = unary("cosh")
    tanh = unary("tanh")
    erf = unary("erf")
    sigmoid = unary("sigmoid")
    softplus = unary("softplus")
    silu = unary("silu")
    gelu = unary("gelu")
    relu = unary("relu")
    leaky_relu = unary("leaky_relu")
    elu = unary("elu")

    # --- comparisons (of data; they return bools and are not recorded) -------------------------

    def __lt__(self, other) -> bool:
        return self._data < _number(other, "<")

    def __le__(self, other) -> bool:
        return self._data <= _number(other, "<=")

    def __gt__(self, other) -> bool:
        return self._data > _number(other, ">")

    def __ge__(self, other) -> bool:
        return self._data >= _number(other, ">=")

    __hash__ = object.__hash__

    # --- the backward pass -----------------------------------------------------------------------

    def backward(self, gradient=1.0, create_graph: bool = False) -> None:
        """Fill `.grad` of every Value this one depends on with d(self)/d(that Value).

        Leaves accumulate (call `zero_grad()` / set `.grad = 0` between steps); interior nodes are
        overwritten. `gradient` seeds this node (default 1.0). With `create_graph=True` the grads are
        Values connected to the graph, so they can be differentiated again; as in PyTorch, a leaf and
        the graph of its grad then refer to each other (a cycle that only the garbage collector
        frees): `grad()` / `gradients()` return such grads without storing them. If a local
        derivative cannot be computed, the error names the op and no `.grad` changes.
        """
        if isinstance(gradient, Value):
            seed = gradient if create_graph else gradient._data
        else:
            seed = as_float(gradient, "backward(gradient)")
            if create_graph:
                seed = Value(seed)
        engine.backward(self, seed, create_graph)

    def detach(self) -> "Value":
        """A new leaf with the same data (and label): gradients do not flow through it."""
        return Value(self._data, self.label)

    def item(self) -> float:
        """The data as a Python float (as PyTorch's `tensor.item()`)."""
        return self._data

    def __float__(self) -> float:
        return self._data

    def __format__(self, spec: str) -> str:
        """`f"{v:.3f}"` formats the number, as PyTorch's scalars do; `f"{v}"` is `str(v)`."""
        return format(self._data, spec) if spec else str(self)

    def __repr__(self) -> str:
        grad = self.grad
        grad_text = repr(grad) if not isinstance(grad, Value) else f"Value(data={grad._data!r})"
        label = f", label={self.label!r}" if self.label else ""
        kind = "Parameter" if self.is_parameter else "Value"
        return f"{kind}(data={self._data!r}, grad={grad_text}{label})"

    # --- copying and pickling: whole graphs, without recursion (a graph may be 10^6 deep) -------

    def __copy__(self) -> "Value":
        out = object.__new__(type(self))
        out._data, out.grad, out.label = self._data, self.grad, self.label
        out._op, out._x, out._y, out._mark = self._op, self._x, self._y, None
        return out

    def __deepcopy__(self, memo: dict) -> "Value":
        for v in engine.topological_order(self):  # parents first, so each copy finds theirs in memo
            if id(v) not in memo:
                memo[id(v)] = _copy_node(v, [memo[id(p)] for p in v.parents], memo)
        return memo[id(self)]

    def __reduce__(self):
        if self._op is None:  # a leaf pickles as itself, so leaves shared by several pickled graphs stay shared
            return (_leaf, (type(self), self._data, self.grad, self.label, self.is_parameter))
        order = engine.topological_order(self)
        position = {id(v): i for i, v in enumerate(order)}
        items = [v if v._op is None else
                 (v._data, v.grad, v.label, v._op, tuple(position[id(p)] for p in v.parents))
                 for v in order]
        return (_graph, (items,))


_PARAMETER = "parameter"  # the `_x` of a leaf that is a model's parameter


def _number(other, symbol: str) -> float:
    if isinstance(other, Value):
        return other._data
    return as_float(other, f"Value {symbol} other")


def _leaf(cls: type, data: float, grad, label: str, parameter: bool = False) -> Value:
    out = cls.__new__(cls)
    Value.__init__(out, data, label, parameter=parameter)
    out.grad = grad
    return out


def _graph(items: list) -> Value:
    """Rebuild a pickled graph: items in topological order, each a leaf or (data, grad, label, op, parent positions)."""
    built: list = []
    for item in items:
        if isinstance(item, Value):
            built.append(item)
            continue
        data, grad, label, op, positions = item
        parents = [built[i] for i in positions]
        v = _node_from(op, data, parents)
        v.grad, v.label = grad, label
        built.append(v)
    return built[-1]


def _node_from(op, data: float, parents: list) -> Value:
    if op.arity == 1:
        return node.make(Value, data, op, parents[0])
    if op.arity == 2:
        return node.make(Value, data, op, parents[0], parents[1])
    return node.make(Value, data, op, tuple(parents))


def _copy_node(v: Value, parents: list, memo: dict) -> Value:
    if v._op is None:
        out = _leaf(type(v), v._data, copy.deepcopy(v.grad, memo), v.label, v.is_parameter)
    else:
        out = _node_from(v._op, v._data, parents)
        out.grad, out.label = copy.deepcopy(v.grad, memo), v.label
    return out


# --- n-ary nodes ---------------------------------------------------------------------------------


def _values(items: Iterable, where: str) -> tuple:
    return tuple(v if isinstance(v, Value) else Value(as_float(v, where)) for v in items)


def apply_op(op, *inputs, **params) -> Value:
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
    return node.apply(Value, op, _values(inputs, op.name))


def sum_values(values: Iterable) -> Value:
    """The sum of many Values (or numbers) as ONE node, however many terms."""
    inputs = _values(values, "sum_values")
    if not inputs:
        return Value(0.0)
    return node.apply(Value, OPS["sum"], inputs)


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
        datas = [v._data for v in parents]  # fast path: all Values already
    except AttributeError:  # numbers (numpy's too, whose .data is a buffer) become constants
        parents = _values(parents, "dot")
        datas = [v._data for v in parents]
    try:
        data = _DOT.forward(datas)
    except (ValueError, ArithmeticError) as exc:
        raise op_error(_DOT, tuple(datas), exc) from None
    return node.make(Value, data, _DOT, parents)


_DOT = OPS["dot"]
