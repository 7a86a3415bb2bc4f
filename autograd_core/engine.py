"""The reverse sweep: order the graph topologically, then apply the chain rule node by node.

Both loops are iterative, so graphs millions of nodes deep work. The first-order sweep runs each op's
derivative rule on floats and creates no Values; `create_graph=True` runs the same rules on Values.
Notebook 02 walks through this file.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from .grad_mode import enable_grad


def _ordered(root, include_leaves: bool) -> list:
    """Depth-first and iterative. A node popped the first time is marked `expanded` and pushed
    back under its parents; popped again, all its parents are in `order`, so it goes there too
    (marked `done`). In a DAG nothing can reach a node while its parents are being expanded."""
    expanded, done = object(), object()  # this call's marks: no set, no reset between calls
    order = []
    stack = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    while stack:
        node = pop()
        mark = node._mark
        if mark is done:
            continue
        if mark is expanded:
            node._mark = done
            emit(node)
            continue
        op = node._op
        if op is None:  # a leaf
            node._mark = done
            if include_leaves:
                emit(node)
            continue
        node._mark = expanded
        push(node)
        arity = op.arity  # parents already done are pushed anyway and skipped when popped
        if arity == 1:
            push(node._x)
        elif arity == 2:  # y first, so that x's subgraph comes first in the order
            push(node._y)
            push(node._x)
        else:  # n-ary nodes share many inputs (a layer's weights): filter before pushing
            for parent in reversed(node._x):
                if parent._mark is not done and (include_leaves or parent._op is not None):
                    push(parent)
    return order


def topological_order(root) -> list:
    """Every Value `root` depends on, each after all of its parents, `root` last."""
    return _ordered(root, include_leaves=True)


def backward(root, seed, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad`; overwrite interior nodes' `.grad`."""
    if root._op is None:  # a leaf: d(root)/d(root) = 1, times the seed
        root.grad = root.grad + seed
        return
    interior = _ordered(root, include_leaves=False)
    if create_graph:
        with enable_grad(), _collector_paused():
            grads = _sweep_into_dict(interior, root, seed, on_values=True)
        for node, grad in grads.items():
            if node._op is not None:
                node.grad = grad
            else:
                node.grad = _accumulate(node.grad, grad)
        return
    for node in interior:
        node.grad = 0.0
    root.grad = seed
    _sweep_floats(interior)


def gradients(root, inputs: list, seed=1.0, create_graph: bool = False) -> list:
    """d(root)/d(input) for each input, without reading or writing any `.grad`.

    Floats, or Values connected to the graph with `create_graph=True` (then they can be
    differentiated again). An input that `root` does not depend on gets 0.0.
    """
    if root._op is None:
        grads = {root: seed}
    elif create_graph:
        with enable_grad(), _collector_paused():
            grads = _sweep_into_dict(_ordered(root, False), root, seed, on_values=True)
    else:
        grads = _sweep_into_dict(_ordered(root, False), root, seed, on_values=False)
    return [grads.get(x, 0.0) for x in inputs]


@contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector while a sweep records Values, then restore its state.

    Those Values form no cycles (nodes point only at their inputs), so the collector cannot free
    any of them; left running, it would rescan the whole heap several times while the graph of
    the gradients grows (2x the time on a 100,000-deep chain, bench/engine.py). User code,
    including every forward pass, always runs with the collector as the user set it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _sweep_floats(interior: list) -> None:
    """The chain rule on floats: each node passes grad * local derivative to each of its inputs."""
    node = None
    try:
        for node in reversed(interior):
            grad_out = node.grad
            op = node._op
            arity = op.arity
            if arity == 1:
                x = node._x
                x.grad += grad_out * op.derivative(x.data, node.data)
            elif arity == 2:
                x, y = node._x, node._y
                dx, dy = op.derivative(x.data, y.data, node.data)
                x.grad += grad_out * dx
                y.grad += grad_out * dy
            elif op.accumulate is not None:  # an n-ary op's fast path (sum, dot)
                op.accumulate(node._x, grad_out)
            else:
                parents = node._x
                local_grads = op.derivative([p.data for p in parents], node.data)
                for parent, local in zip(parents, local_grads):
                    parent.grad += grad_out * local
    except (ValueError, ArithmeticError) as exc:
        raise backward_error(node, exc) from None


def _sweep_into_dict(interior: list, root, seed, on_values: bool) -> dict:
    """The chain rule with the grads kept in a dict (node -> grad) instead of `.grad`.

    With `on_values` the rules run on Values, so every product and sum is recorded and the grads
    have graphs of their own (higher order); otherwise on floats.
    """
    grads = {root: seed}
    node = None
    try:
        for node in reversed(interior):
            grad_out = grads[node]
            parents, local_grads = local_derivatives(node, on_values)
            for parent, local in zip(parents, local_grads):
                # 1 * g and -1 * g need no node (exact for every float and Value), nor does a first term
                if type(local) is float and (local == 1.0 or local == -1.0):
                    term = grad_out if local == 1.0 else -grad_out
                else:
                    term = grad_out * local
                total = grads.get(parent)
                grads[parent] = term if total is None else total + term
    except (ValueError, ArithmeticError) as exc:
        raise backward_error(node, exc) from None
    return grads


def local_derivatives(node, on_values: bool = False) -> tuple:
    """(parents, d node / d parent for each parent): the op's rule on floats, or on Values."""
    op = node._op
    parents = node.parents
    inputs = parents if on_values else [p.data for p in parents]
    out = node if on_values else node.data
    if op.arity == 1:
        return parents, (op.derivative(inputs[0], out),)
    if op.arity == 2:
        return parents, op.derivative(inputs[0], inputs[1], out)
    return parents, op.derivative(inputs, out)


def _accumulate(total, term):
    """total + term, without a node when total is still the float 0.0 (exact: 0 + t == t)."""
    if type(total) is float and total == 0.0:
        return term
    return total + term


def backward_error(node, exc: Exception) -> Exception:
    """The error for a local derivative that cannot be computed, naming the op and its inputs."""
    inputs = ", ".join(repr(p.data) for p in node.parents)
    return type(exc)(f"backward through {node._op.name}({inputs}): the local derivative is not a "
                     f"finite number here ({exc}). Move the input away from this point, or use an op "
                     f"whose derivative is defined there.")
