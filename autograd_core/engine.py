"""The reverse sweep: order the graph topologically, then apply the chain rule node by node.

Both loops are iterative, so graphs millions of nodes deep work. The first-order sweep runs each op's
derivative rule on floats and creates no Values; `create_graph=True` runs the same rules on Values.
Notebook 02 walks through this file.
"""

from __future__ import annotations

from .grad_mode import enable_grad

_EMIT = object()  # stack marker: the node under it has all its parents in the order already


def _ordered(root, include_leaves: bool) -> list:
    """Depth-first, iterative: each node is expanded once (marked with this call's token), then
    emitted from under an `_EMIT` marker once everything above it, its parents, is done."""
    token = object()
    order = []
    stack = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    while stack:
        node = pop()
        if node is _EMIT:
            emit(pop())
            continue
        if node._mark is token:
            continue
        node._mark = token
        op = node._op
        if op is None:  # a leaf
            if include_leaves:
                emit(node)
            continue
        push(node)
        push(_EMIT)
        arity = op.arity  # parents already expanded are pushed anyway and skipped when popped
        if arity == 1:
            push(node._x)
        elif arity == 2:  # y first, so that x's subgraph comes first in the order
            push(node._y)
            push(node._x)
        else:
            stack.extend(reversed(node._x))
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
    for node in interior:
        node.grad = 0.0
    root.grad = seed
    if create_graph:
        with enable_grad():
            _sweep_values(interior)
    else:
        _sweep_floats(interior)


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
            else:
                parents = node._x
                local_grads = op.derivative([p.data for p in parents], node.data)
                for parent, local in zip(parents, local_grads):
                    parent.grad += grad_out * local
    except (ValueError, ArithmeticError) as exc:
        raise _backward_error(node, exc) from None


def _sweep_values(interior: list) -> None:
    """The same chain rule on Values: every product and sum is recorded, so grads have graphs."""
    node = None
    try:
        for node in reversed(interior):
            grad_out = node.grad
            op = node._op
            if op.arity == 1:
                parents = (node._x,)
                local_grads = (op.derivative(node._x, node),)
            elif op.arity == 2:
                parents = (node._x, node._y)
                local_grads = op.derivative(node._x, node._y, node)
            else:
                parents = node._x
                local_grads = op.derivative(parents, node)
            for parent, local in zip(parents, local_grads):
                # 1 * g and -1 * g need no node; neither does 0 + term (exact for every float)
                if type(local) is float and local == 1.0:
                    term = grad_out
                elif type(local) is float and local == -1.0:
                    term = -grad_out
                else:
                    term = grad_out * local
                grad = parent.grad
                parent.grad = term if (type(grad) is float and grad == 0.0) else grad + term
    except (ValueError, ArithmeticError) as exc:
        raise _backward_error(node, exc) from None


def _backward_error(node, exc: Exception) -> Exception:
    inputs = ", ".join(repr(p.data) for p in node.parents)
    return type(exc)(f"backward through {node._op.name}({inputs}): the local derivative is not a "
                     f"finite number here ({exc}). Move the input away from this point, or use an op "
                     f"whose derivative is defined there.")
