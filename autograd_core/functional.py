"""Derivatives as functions: `grad`, `value_and_grad`, `jacobian`, `hessian` (reverse mode, all through
the engine's one sweep, `engine.backprop`) and `jvp` (forward mode, its own forward sweep).

They never read or write `.grad`, and they compose: `grad(grad(f))` is the second derivative. Nested
calls keep their variables apart (no perturbation confusion). Notebook 03 shows them at work.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Callable, Sequence

from .engine import gradients, local_derivatives, topological_order
from .errors import as_float
from .grad_mode import enable_grad
from .node import make
from .ops import OPS
from .value import Value

_depth: ContextVar[int] = ContextVar("autograd_core_transform_depth", default=0)


def _argnums(argnums, n_args: int, where: str) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -n_args <= i < n_args:
            raise ValueError(f"{where}: argnums {argnums!r} does not name one of the {n_args} "
                             f"positional argument(s)")
    return tuple(i % n_args for i in nums)


def _variable(arg, where: str) -> Value:
    """A fresh node to differentiate with respect to: a leaf for a number, a copy of a Value.

    The copy (op "identity") keeps this call's variable apart from other uses of the same Value,
    while derivatives still flow through it to the outer computation.
    """
    if isinstance(arg, Value):
        return make(Value, arg._data, OPS["identity"], arg)
    return Value(as_float(arg, where))


def _as_value(out, where: str) -> Value:
    if isinstance(out, Value):
        return out
    try:
        return Value(as_float(out, f"{where}: the function's result"))
    except TypeError:
        raise TypeError(f"{where}: the function must return one scalar (a Value or a number), "
                        f"got {type(out).__name__}") from None


def _trace(f: Callable, args: tuple, kwargs: dict, argnums, where: str):
    """Call f with fresh variables at argnums. Returns (output, variables, nested)."""
    nums = _argnums(argnums, len(args), where)
    nested = _depth.get() > 0 or any(isinstance(args[i], Value) for i in nums)
    inputs = list(args)
    variables = []
    token = _depth.set(_depth.get() + 1)
    try:
        with enable_grad():
            for i in nums:
                inputs[i] = _variable(args[i], where)
                variables.append(inputs[i])
            out = f(*inputs, **kwargs)
    finally:
        _depth.reset(token)
    return out, variables, nested


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning (f(*args), df/d args[argnums]); a tuple of grads for a tuple argnums.
    Keyword arguments are passed through to f (and not differentiated)."""
    many = not isinstance(argnums, int)

    def value_and_grad_f(*args, **kwargs):
        out, variables, nested = _trace(f, args, kwargs, argnums, "value_and_grad")
        out = _as_value(out, "value_and_grad")
        grads = gradients(out, variables, 1.0, create_graph=nested)
        return (out if nested else out.data), (tuple(grads) if many else grads[0])

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function computing df/d args[argnums] (JAX's `grad`); compose it for higher orders."""
    value_and_grad_f = value_and_grad(f, argnums)

    def grad_f(*args, **kwargs):
        return value_and_grad_f(*args, **kwargs)[1]

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return grad_f


def jacobian(f: Callable, argnums: int | Sequence[int] | None = None) -> Callable:
    """A function returning the matrix d f_i / d x_j as lists: one row per output of f (a scalar or a
    list of scalars), one column per argument in argnums (default: every positional argument)."""

    def jacobian_f(*args, **kwargs):
        nums = tuple(range(len(args))) if argnums is None else argnums
        out, variables, nested = _trace(f, args, kwargs, nums, "jacobian")
        outputs = list(out) if isinstance(out, (list, tuple)) else [out]
        rows = []
        for i, y in enumerate(outputs):
            y = _as_value(y, f"jacobian (output {i})")
            rows.append(gradients(y, variables, 1.0, create_graph=nested))
        return rows

    jacobian_f.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jacobian_f


def hessian(f: Callable) -> Callable:
    """A function returning the n x n matrix of second derivatives of f(x1, ..., xn), as lists:
    the jacobian of the gradient."""

    def hessian_f(*args, **kwargs):
        argnums = tuple(range(len(args)))
        first = grad(f, argnums)  # traced inside jacobian's trace, so its grads are Values
        return jacobian(lambda *xs: list(first(*xs, **kwargs)), argnums)(*args)

    hessian_f.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return hessian_f


def jvp(f: Callable, primals: Sequence, tangents: Sequence):
    """Forward mode: (f(*primals), the derivative of f along `tangents`), in one forward sweep.

    Each node's tangent is the sum of its inputs' tangents times the same local derivatives that
    backward() uses. One sweep gives the derivative along one direction, for any number of outputs.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; "
                         f"give one tangent per primal")
    out, variables, nested = _trace(f, primals, {}, tuple(range(len(primals))), "jvp")
    out = _as_value(out, "jvp")
    tangent = {}
    for v, t in zip(variables, tangents):
        seed = t if isinstance(t, Value) and nested else as_float(t, "jvp: tangent")
        tangent[v] = tangent.get(v, 0.0) + seed
    with enable_grad():
        for node in topological_order(out):         # each node after its inputs
            if node._op is None or node in tangent:  # leaves, and this call's own variables, are seeded
                continue
            total = 0.0                               # d node = sum_i (d node / d input_i) * d input_i
            for parent, local in zip(node.parents, local_derivatives(node, on_values=nested)):
                t = tangent.get(parent, 0.0)
                if not (type(t) is float and t == 0.0):  # a zero tangent contributes nothing
                    total = total + t * local
            tangent[node] = total
    dout = tangent.get(out, 0.0)
    return (out, dout) if nested else (out.data, dout)
