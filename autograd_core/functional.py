"""Derivatives as functions: `grad`, `value_and_grad`, `hessian` (reverse mode) and `jvp` (forward).

They never read or write `.grad`, and they compose: `grad(grad(f))` is the second derivative. Nested
calls keep their variables apart (no perturbation confusion). Notebook 03 shows them at work.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Callable, Sequence

from .engine import _ordered, backward_error, gradients, local_derivatives
from .grad_mode import enable_grad
from .ops import OPS
from .value import Value, _as_float, _make

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
        return _make(arg.data, (arg,), OPS["identity"])
    return Value(_as_float(arg, where))


def _trace(f: Callable, args: tuple, argnums, where: str):
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
            out = f(*inputs)
    finally:
        _depth.reset(token)
    if not isinstance(out, Value):
        try:
            out = Value(_as_float(out, f"{where}: the function's result"))
        except TypeError:
            raise TypeError(f"{where}: the function must return one scalar (a Value or a number), "
                            f"got {type(out).__name__}") from None
    return out, variables, nested


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning (f(*args), df/d args[argnums]); a tuple of grads for a tuple argnums."""
    many = not isinstance(argnums, int)

    def value_and_grad_f(*args):
        out, variables, nested = _trace(f, args, argnums, "value_and_grad")
        grads = gradients(out, variables, 1.0, create_graph=nested)
        if not nested:
            out = out.data
        return out, (tuple(grads) if many else grads[0])

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function computing df/d args[argnums] (JAX's `grad`); compose it for higher orders."""
    value_and_grad_f = value_and_grad(f, argnums)

    def grad_f(*args):
        return value_and_grad_f(*args)[1]

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return grad_f


def hessian(f: Callable) -> Callable:
    """A function returning the n x n matrix of second derivatives of f(x1, ..., xn), as lists."""

    def hessian_f(*args):
        n = len(args)
        argnums = tuple(range(n))
        first = grad(f, argnums)  # traced inside this call, so its grads are Values

        def row(i):
            return grad(lambda *xs: first(*xs)[i], argnums)(*args)

        return [list(row(i)) for i in range(n)]

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
    out, variables, nested = _trace(f, primals, tuple(range(len(primals))), "jvp")
    tangent = {}
    seeded = set(variables)
    for v, t in zip(variables, tangents):
        tangent[v] = tangent.get(v, 0.0) + (t if isinstance(t, Value) and nested
                                            else _as_float(t, "jvp: tangent"))
    with enable_grad():
        for node in _ordered(out, include_leaves=False):
            if node not in seeded:  # a nested call's variable is a copy node: keep its seed
                tangent[node] = _push_tangent(node, tangent, on_values=nested)
    dout = tangent.get(out, 0.0)
    return (out, dout) if nested else (out.data, dout)


def _push_tangent(node, tangent: dict, on_values: bool):
    """d node = sum_i (d node / d parent_i) * d parent_i."""
    try:
        parents, local_grads = local_derivatives(node, on_values)
    except (ValueError, ArithmeticError) as exc:
        raise backward_error(node, exc) from None
    total = 0.0
    for parent, local in zip(parents, local_grads):
        t = tangent.get(parent, 0.0)
        if not (type(t) is float and t == 0.0):  # a zero tangent contributes nothing
            total = total + t * local
    return total
