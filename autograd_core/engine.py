"""The reverse sweep: order the graph topologically, then apply the chain rule node by node.

`backprop` below is the chain rule, written once: gradients, `create_graph`, `grad`, `hessian`,
`jacobian` and the step-through pictures (viz_steps.py) all run it. First-order `backward()` takes one
labelled fast path that computes the same numbers (tests check them bit for bit). Both are iterative,
so graphs millions of nodes deep work. Notebook 02 walks through this file; ops.py has every rule.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Callable

from .errors import backward_error
from .grad_mode import enable_grad

# Traversals mark the nodes they visit (`_mark`), and a graph may be shared by threads: one lock keeps
# two traversals from mixing their marks. (Python runs one thread at a time anyway, so it costs nothing.)
_graph_lock = threading.RLock()


# --- the chain rule, written once ----------------------------------------------------------------


def backprop(root, seed=1.0, *, on_values: bool = False,
             on_step: Callable | None = None) -> dict:
    """{node: d(root)/d(node)} for every node `root` depends on, by the chain rule.

    On floats, or on Values (`on_values=True`: every product and sum is then recorded,
    so the gradients have graphs of their own and can be differentiated again).
    `on_step(node, grad_out, local_grads, grads)` is called after each node's turn:
    the step-through pictures watch here.
    """
    grads = {root: seed}  # d root/d root = seed (1 by default)
    # Visit each node after every node that uses it, so its gradient is complete.
    for node in reversed(topological_order(root)):
        if node.is_leaf:  # a leaf has no inputs: nothing to pass on
            continue
        grad_out = grads[node]  # d root/d node
        local_grads = local_derivatives(node, on_values)  # d node/d input (ops.py)
        # The chain rule: each input receives grad_out x its local derivative, and an
        # input used by several nodes adds up a term from each (the sum over paths).
        for parent, local in zip(node.parents, local_grads):
            term = grad_out if local == 1.0 else grad_out * local
            total = grads.get(parent)
            grads[parent] = term if total is None else total + term
        if on_step is not None:  # the step-through pictures watch each turn
            on_step(node, grad_out, local_grads, grads)
    return grads


def local_derivatives(node, on_values: bool = False) -> tuple:
    """d node / d parent for each parent: the op's rule on the parents' floats, or on the Values."""
    parents = node.parents
    inputs = parents if on_values else [p._data for p in parents]
    try:
        return node._op.partials(inputs, node if on_values else node._data)
    except (ValueError, ArithmeticError) as exc:
        raise backward_error(node, exc) from None


# --- the callers ---------------------------------------------------------------------------------


def backward(root, seed, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad`; overwrite interior nodes' `.grad`.

    As in PyTorch, a leaf gets `old grad + (total of this call)`. Nothing changes if a rule fails.
    """
    if not create_graph:
        _backward_fast(root, seed)
        return
    with enable_grad(), _collector_paused():
        grads = backprop(root, seed, on_values=True)
    for node, grad in grads.items():
        node.grad = grad if node._op is not None else _plus(node.grad, grad)


def gradients(root, inputs: list, seed=1.0, create_graph: bool = False) -> list:
    """d(root)/d(input) for each input, without reading or writing any `.grad`.

    Floats, or Values connected to the graph with `create_graph=True` (then they can be
    differentiated again). An input that `root` does not depend on gets 0.0.
    """
    if create_graph:
        with enable_grad(), _collector_paused():
            grads = backprop(root, seed, on_values=True)
    else:
        grads = backprop(root, seed)
    return [grads.get(x, 0.0) for x in inputs]


def _plus(total, term):
    """total + term, without a node when total is still the float 0.0 (exact: 0 + t == t)."""
    if type(total) is float and total == 0.0:
        return term
    return total + term


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


# --- the order -----------------------------------------------------------------------------------


def topological_order(root) -> list:
    """Every Value `root` depends on, each after all of its parents, `root` last."""
    order: list = []
    with _graph_lock:
        _visit(root, order, order)
    return order


def _visit(root, order: list, leaves: list) -> None:
    """Depth-first and iterative: interior nodes go to `order` after their parents, leaves to `leaves`
    (pass `order` twice for one list). A node popped the first time is marked `expanded` and pushed
    back under its parents; popped again, its parents are all placed, so it is placed too (`done`).
    Hold `_graph_lock`: the marks live on the nodes."""
    expanded, done = object(), object()  # this call's marks: no set, no reset between calls
    stack = [root]
    push, pop, place, place_leaf = stack.append, stack.pop, order.append, leaves.append
    while stack:
        node = pop()
        mark = node._mark
        if mark is done:
            continue
        if mark is expanded:
            node._mark = done
            place(node)
            continue
        op = node._op
        if op is None:
            node._mark = done
            place_leaf(node)
            continue
        node._mark = expanded
        push(node)
        if op.arity == 1:
            push(node._x)
        elif op.arity == 2:  # y first, so that x's subgraph comes first in the order
            push(node._y)
            push(node._x)
        else:  # n-ary nodes share many inputs (a layer's weights): push only those not placed yet
            for parent in reversed(node._x):
                if parent._mark is not done:
                    push(parent)


# --- FAST PATH: first-order backward() on floats ---------------------------------------------------


def _backward_fast(root, seed: float) -> None:
    """`backprop` on floats, for `backward()`, with `.grad` slots in place of the dict.

    Computes what `backprop` computes, bit for bit (tests/test_engine_lesson.py checks it on random
    graphs), creating no Values: each node passes grad x local derivative to each input. Leaves
    collect this call's total from 0, then add it to their old grads (when any is not 0, i.e. without
    a zero_grad() before); if a rule fails, every grad is put back as it was.
    """
    with _graph_lock:
        interior: list = []
        leaves: list = []
        _visit(root, interior, leaves)
        old_interior, old_leaves = [v.grad for v in interior], [v.grad for v in leaves]
        accumulate = any(old_leaves)  # False after zero_grad(): leaves already start from 0
        for v in interior:
            v.grad = 0.0
        if accumulate:
            for v in leaves:
                v.grad = 0.0
        root.grad = seed
        try:
            _sweep_floats(interior)
        except BaseException:
            for v, g in zip(interior, old_interior):
                v.grad = g
            for v, g in zip(leaves, old_leaves):
                v.grad = g
            raise
        if accumulate:
            for v, old in zip(leaves, old_leaves):  # old + this call's total, as PyTorch adds them
                v.grad = old + v.grad


def _sweep_floats(interior: list) -> None:
    node = None
    try:
        for node in reversed(interior):
            grad_out = node.grad
            op = node._op
            arity = op.arity
            if arity == 1:
                x = node._x
                x.grad += grad_out * op.derivative(x._data, node._data)
            elif arity == 2:
                x, y = node._x, node._y
                dx, dy = op.derivative(x._data, y._data, node._data)
                x.grad += grad_out * dx
                y.grad += grad_out * dy
            elif op.accumulate is not None:  # an n-ary op's own fast path (sum, dot)
                op.accumulate(node._x, grad_out)
            else:
                parents = node._x
                for parent, local in zip(parents, op.derivative([p._data for p in parents], node._data)):
                    parent.grad += grad_out * local
    except (ValueError, ArithmeticError) as exc:
        raise backward_error(node, exc) from None
