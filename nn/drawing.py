"""Drawing models: `draw_network(mlp)` (layers of neurons joined by their weights), the neuron boxes
of `draw_graph(loss, collapse="neuron", model=mlp)`, and the CLI's picture of one training point.

The core's drawing code knows nothing of nn: it asks a model for its `graph_groups(values)` (see
autograd_core.viz.draw_graph), and `MLP.graph_groups` (layers.py) answers. Notebook 04 uses both.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Sequence

from autograd_core import Value, draw_graph, no_grad
from autograd_core.viz import NEGATIVE, POSITIVE, ROLE_FILL, escape, fmt, grad_fill, new_graph

from .validation import integer, one_of

if TYPE_CHECKING:
    import graphviz

__all__ = ["draw_loss_graph", "draw_network"]


# --- draw_network ----------------------------------------------------------------------------------


def _edge_style(w: float, scale: float) -> dict:
    """Red for w > 0, blue for w < 0; thicker for larger |w| / scale."""
    if not math.isfinite(w) or scale == 0.0:
        return {"color": "#bbbbbb", "penwidth": "0.6"}
    t = min(1.0, abs(w) / scale)
    rgb = POSITIVE if w > 0 else NEGATIVE
    return {"color": "#%02x%02x%02x" % rgb if t > 0 else "#bbbbbb", "penwidth": f"{0.4 + 3.6 * t:.2f}"}


def draw_network(model, *, color_by: str = "weight", show_weights: bool | None = None,
                 rankdir: str = "LR", max_edges: int = 600, precision: int = 2
                 ) -> graphviz.Digraph:
    """Draw an nn.MLP as layers of neurons; edges are red (w > 0) or blue (w < 0), thicker for larger |w|.

    `color_by="grad"` uses each weight's gradient instead. `show_weights` writes the numbers on
    the edges (default: when there are at most 12; hover an edge in Jupyter to see any weight).
    Each circle shows its neuron's bias; each layer's title names its activation.
    """
    where = "draw_network"
    one_of(f"{where}: color_by", color_by, ("weight", "grad"))
    one_of(f"{where}: rankdir", rankdir, ("LR", "TB", "RL", "BT"))
    integer(f"{where}: max_edges", max_edges, minimum=1)
    try:
        layers = [list(layer.neurons) for layer in model.layers]
        nin = len(layers[0][0].w)
    except (AttributeError, TypeError, IndexError):
        raise TypeError(f"{where}: expected an nn.MLP (.layers, each with .neurons that have .w and .b), "
                        f"got {type(model).__name__}; draw other models' graphs with draw_graph") from None
    n_edges = sum(len(n.w) for layer in layers for n in layer)
    if n_edges > max_edges:
        raise ValueError(f"{where}: the network has {n_edges:,} weights, more than max_edges={max_edges}; "
                         f"draw a smaller model, or pass max_edges={n_edges} to draw it anyway")

    def number(v: Value) -> float:
        x = v.grad if color_by == "grad" else v.data
        return x.data if isinstance(x, Value) else x

    weights = [number(w) for layer in layers for n in layer for w in n.w]
    scale = max((abs(w) for w in weights if math.isfinite(w)), default=0.0)
    if show_weights is None:
        show_weights = n_edges <= 12
    # Positions are computed here and pinned (neato): layers in order, neurons 1, 2, 3, ... in order
    graph = new_graph(rankdir, engine="neato", outputorder="edgesfirst", splines="line", overlap="true")
    columns = [[f"x{i + 1}" for i in range(nin)]]
    columns += [[f"L{l}n{j}" for j in range(1, len(layer) + 1)] for l, layer in enumerate(layers, 1)]
    titles = ["inputs"] + [f"layer {l} · {escape(layer[0].activation)}" for l, layer in enumerate(layers, 1)]
    tallest = max(map(len, columns))
    step = 2.4 if show_weights else 1.9

    def place(column: int, row: float) -> str:
        along, across = column * step, -row * 0.95  # inches
        x, y = {"LR": (along, across), "RL": (-along, across),
                "TB": (-across, -along), "BT": (-across, along)}[rankdir]
        return f"{x:.3f},{y:.3f}!"

    for c, (names, title) in enumerate(zip(columns, titles)):
        graph.node(f"title{c}", label=f"<{title}>", shape="plaintext", fontcolor="#555555",
                   pos=place(c, -(tallest + 1) / 2))
        rows = [j - (len(names) - 1) / 2 for j in range(len(names))]
        if c == 0:
            for name, row in zip(names, rows):
                graph.node(name, label=name, shape="circle", style="filled", fillcolor=ROLE_FILL["input"],
                           width="0.5", fixedsize="true", pos=place(c, row))
            continue
        for name, row, neuron in zip(names, rows, layers[c - 1]):
            b = number(neuron.b)
            fill = grad_fill(b, max(scale, abs(b))) if color_by == "grad" else ROLE_FILL["parameter"]
            graph.node(name, label=f"{'∂b' if color_by == 'grad' else 'b'} {fmt(b, precision)}",
                       shape="circle", style="filled", fillcolor=fill, width="0.75", fixedsize="true",
                       fontsize="9", tooltip=f"b = {b!r}", pos=place(c, row))
            if len(neuron.w) != len(columns[c - 1]):
                raise ValueError(f"{where}: layer {c} neurons take {len(neuron.w)} inputs but the layer "
                                 f"before gives {len(columns[c - 1])}; is this a sequential MLP?")
            for source, w in zip(columns[c - 1], neuron.w):
                x = number(w)
                label = {"headlabel": fmt(x, precision), "labelangle": "0", "labeldistance": "4",
                         "labelfontcolor": "#333333", "labelfontsize": "9"} if show_weights else {}
                graph.edge(source, name, arrowhead="none", tooltip=f"w = {x!r}",
                           **_edge_style(x, scale), **label)
    what = "gradient ∂loss/∂w" if color_by == "grad" else "weight w"
    graph.attr(label=f"<edges: {what}; red &gt; 0, blue &lt; 0, thicker = larger>",
               labelloc="b", fontsize="10")
    return graph


# --- the command line's graph.svg ----------------------------------------------------------------


def _losses(model, X: Sequence, y: Sequence, loss_fn: Callable, limit: int = 1000) -> list[float]:
    """The loss of each of the first `limit` training points, without building graphs."""
    with no_grad():
        return [loss_fn([model(x)], [t]).data for x, t in zip(X[:limit], y[:limit])]


def draw_loss_graph(model, X: Sequence, y: Sequence, loss_fn: Callable, loss_name: str, *,
                    before: dict | None = None) -> graphviz.Digraph:
    """The graph of the loss on the training point with the largest loss, gradients filled in.

    When every point has zero loss (no gradient would flow) and `before` (a state_dict from
    before training) is given, the graph is drawn with those weights; the title says which.
    """
    when = "after training"
    losses = _losses(model, X, y, loss_fn)
    after = model.state_dict()
    if max(losses) <= 0.0 and before is not None:
        model.load_state_dict(before)
        when = "before training (after training every point has zero loss, so no gradient flows)"
        losses = _losses(model, X, y, loss_fn)
    i = losses.index(max(losses))
    x = [Value(v, label=f"x[{k}]") for k, v in enumerate(X[i])]  # labelled: drawn as inputs
    try:
        model.zero_grad()
        loss = loss_fn([model(x)], [y[i]])
        loss.backward()
        point = ", ".join(f"{v:.3g}" for v in X[i])
        title = (f"{loss_name} loss on the training point with the largest loss {when}: "
                 f"x = ({point}), y = {y[i]:.3g}")
        return draw_graph(loss, params=model.parameters(), collapse="neuron", model=model,
                          legend=True, title=title)
    finally:
        model.zero_grad()
        model.load_state_dict(after)
