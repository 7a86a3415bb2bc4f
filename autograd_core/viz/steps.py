"""Backward one node at a time: `backward_trace` (the numbers of each step of the engine's sweep)
and `backward_steps` (one picture per step, drawn by graph.py). player.py plays the pictures.
Notebook 02 uses them to watch the chain rule fill in the gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from ..engine import backprop
from ..value import Value
from .graph import Plan, emit
from .style import check_choice, check_count, escape, fmt, op_symbol

if TYPE_CHECKING:
    import graphviz


@dataclass(frozen=True)
class BackwardStep:
    """One node's turn in the reverse sweep: it passes grad_out × local derivative to each input."""

    index: int             # 0 for the root's step, then the engine's order
    count: int             # how many steps there are: the number of nodes that have inputs
    node: Value
    grad_out: float        # d(root)/d(node), complete by the time the node's turn comes
    local_grads: tuple     # d(node)/d(input), one per input, in the order of node.parents
    parent_grads: tuple    # each input's gradient so far, once this step has added to it


def backward_trace(root: Value, gradient: float = 1.0) -> Iterator[BackwardStep]:
    """The steps of the engine's reverse sweep (`engine.backprop`, on floats), one node at a time.

    There is one step per node that has inputs (leaves have none), in the order backward() visits
    them, with the numbers the engine computes. `.grad` is not touched.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_trace: expected a Value, got {type(root).__name__}")
    if root.is_leaf:
        raise ValueError(f"backward_trace: {root!r} is a leaf (nothing computed it), so backward has no "
                         f"steps; step through an expression instead, e.g. backward_steps(x * 2 + 1)")
    steps: list = []

    def record(node, grad_out, local_grads, grads):  # called by the sweep after each node's turn
        after = tuple(grads[p] for p in node.parents)
        steps.append((node, grad_out, tuple(local_grads), after))

    backprop(root, float(gradient), on_step=record)
    return iter([BackwardStep(i, len(steps), *step) for i, step in enumerate(steps)])


def _describe(v: Value, precision: int) -> str:
    """How the caption names a Value: its label, else what it is ("the constant 2", "the × node")."""
    if v.label:
        return f"<B>{escape(v.label)}</B>"
    if v.is_leaf:
        return f"the constant {fmt(v.data, precision)}"
    return f"the {escape(op_symbol(v))} node"


NBSP = "&#160;"  # a space browsers keep: SVG text drops a run's leading space ("<B>o</B> has" → "ohas")


def _caption(step: BackwardStep, precision: int) -> str:
    """What happens in this step, in words and numbers (HTML-like label text)."""
    node, p = step.node, precision
    symbol = op_symbol(node)
    lines = [f"<B>Step {step.index + 1} of {step.count}</B>: the {escape(symbol)} node"
             + (f" <B>{escape(node.label)}</B>" if node.label else "")
             + f" has its whole gradient, grad = {fmt(step.grad_out, p)};",
             "it passes grad × ∂ (its local derivative) to each input:"]
    parents, shown = node.parents, 6
    for k, (parent, d, total) in enumerate(zip(parents, step.local_grads, step.parent_grads)):
        if k == shown:
            lines.append(f"… and {len(parents) - shown} more inputs")
            break
        lines.append(f"   grad of {_describe(parent, p)} += {fmt(step.grad_out, p)} × {fmt(d, p)}"
                     f"  →  {fmt(total, p)}")
    # Graphviz writes each bold or plain run as its own SVG <text>, and browsers drop the spaces at
    # either end of one: every space becomes a non-breaking one (the tags hold no spaces).
    return "".join(line.replace(" ", NBSP) + '<BR ALIGN="LEFT"/>' for line in lines)


def backward_steps(root: Value, *, gradient: float = 1.0, params=None, rankdir: str = "LR",
                   show_data: bool = True, precision: int = 4, max_nodes: int = 60,
                   color_by: str = "role", legend: bool = False) -> Iterator[graphviz.Digraph]:
    """One picture (a graphviz.Digraph) per step of backward, for `play_frames` or display.

    A step is one node with inputs, so there are as many frames as such nodes (leaves have no
    step), in the order backward() visits them: the root first. Each frame highlights the node
    whose turn it is and its inputs, and shows the gradients known so far ("grad ?": not reached
    yet). Every input edge carries its local derivative ∂, known from the forward pass alone.
    `.grad` is never touched.
    """
    where = "backward_steps"
    check_choice(where, "rankdir", rankdir, ("LR", "TB", "RL", "BT"))
    check_choice(where, "color_by", color_by, ("role", "grad"))
    check_count(where, "precision", precision, 1)
    plan = Plan(root, where, params=params, max_nodes=max_nodes,
                advice="Step through a smaller expression (about 30 values is easy to follow), "
                       "or pass max_nodes=N to step through this one anyway.")
    steps = list(backward_trace(root, gradient))
    return _frames(plan, steps, rankdir=rankdir, show_data=show_data, precision=precision,
                   color_by=color_by, legend=legend)


def _frames(plan: Plan, steps: list, **style) -> Iterator:
    # Local derivatives need only the forward pass, so every edge shows its own from the start
    # (which also keeps the layout still from frame to frame); each step lights up its node's.
    notes = {(s.node, k): f"∂ {fmt(d, style['precision'])}"
             for s in steps for k, d in enumerate(s.local_grads)}
    grads: dict = {}
    for step in steps:
        node = step.node
        grads[node] = step.grad_out
        grads.update(zip(node.parents, step.parent_grads))
        yield emit(plan, highlight={node, *node.parents}, grads=dict(grads), notes=notes,
                   title=_caption(step, style["precision"]), grad_width=72, **style)
