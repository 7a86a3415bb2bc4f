"""What an op is: the `Op` class (a row of ops.py's table), the registry `OPS` that maps names to
ops, and `unary_op` / `binary_op`, the shorthands the table's rows are written with.

Read ops.py first: it is the table itself.
"""

from __future__ import annotations

from typing import Callable

# --- the registry --------------------------------------------------------------------------------

NARY = 0  # arity of ops that take any number of inputs


class Op:
    """A primitive: `forward` on floats and `derivative`, the local partials on floats or Values.

    Unary rules are `derivative(x, out) -> dx`, binary `derivative(x, y, out) -> (dx, dy)`, n-ary
    `derivative(xs, out) -> [dx_i]`; every reader calls `partials(inputs, out)`, which gives the
    same numbers as a tuple, one per input, whatever the arity. `formula` says both in words (it
    becomes the method's docstring). Settings that are not differentiated (an exponent, a slope)
    are keyword `params`, bound with `bind()`; tests sample inputs from `domain`, away from `kinks`
    (points of x, or of x - y for a binary op, where the derivative jumps). An n-ary op may add
    `accumulate(parents, grad_out)`, the first-order fast path's way of adding the same partials
    straight into each parent's `.grad` (tests check that it agrees with `derivative`).
    """

    __slots__ = ("name", "arity", "forward", "derivative", "partials", "formula", "params", "domain",
                 "kinks", "hint", "method", "test_params", "accumulate", "_bound")

    def __init__(self, name: str, arity: int, forward: Callable, derivative: Callable, formula: str = "",
                 *, params: dict | None = None, domain=((-3.0, 3.0),), kinks: tuple = (),
                 hint: str = "", method: bool = True, test_params: tuple = ({},),
                 accumulate: Callable | None = None) -> None:
        self.name = name
        self.arity = arity
        self.forward = forward
        self.derivative = derivative
        self.partials = _partials(arity, derivative)
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


def _partials(arity: int, derivative: Callable) -> Callable:
    """`partials(inputs, out)`: the rule's d out / d input as a tuple, one per input (the one
    calling convention of every reader but the engine's fast path, which calls `derivative`)."""
    if arity == 1:
        return lambda inputs, out: (derivative(inputs[0], out),)
    if arity == 2:
        return lambda inputs, out: tuple(derivative(inputs[0], inputs[1], out))
    return lambda inputs, out: tuple(derivative(inputs, out))


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


def unary_op(name, forward, derivative, formula, **kwargs) -> "Op":
    """Register a one-input op: forward(x), derivative(x, out) -> dx."""
    return register(Op(name, 1, forward, derivative, formula, **kwargs))


def binary_op(name, forward, derivative, formula, **kwargs) -> "Op":
    """Register a two-input op: forward(x, y), derivative(x, y, out) -> (dx, dy)."""
    kwargs.setdefault("domain", ((-3.0, 3.0), (-3.0, 3.0)))
    kwargs.setdefault("method", False)
    return register(Op(name, 2, forward, derivative, formula, **kwargs))
