"""Drawing a Value's graph: `draw_graph` (alias `draw_dot`) and `path_between`.

A `Plan` decides what to draw (which Values, their names and roles; big graphs cut by depth or
collapsed into neuron boxes); `emit` turns a plan into a Graphviz graph in style.py's look. Every
Value is a box (label, data, grad); every op is a small oval between its inputs and its output.
steps.py reuses both to draw backward one step at a time. Notebook 01 draws its first graph.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..engine import topological_order
from ..value import Value
from .style import (HIGHLIGHT, OP_FILL, ROLE_FILL, check_choice, check_count, escape, fmt,
                    grad_fill, input_names, legend_label, new_graph, op_symbol, table)

if TYPE_CHECKING:
    import graphviz

# --- what to draw: the plan ----------------------------------------------------------------------

MAX_NODES_LIMIT = 5000  # past this Graphviz takes minutes: nobody gets a hung notebook by accident


class Plan:
    """Which Values to draw, their DOT names (position in topological order) and roles."""

    def __init__(self, root: Value, where: str, *, params=None, max_nodes: int = 150,
                 depth: int | None = None, collapse: str | None = None, model=None,
                 advice: str = "") -> None:  # advice: what to say instead of _too_many's tips
        if not isinstance(root, Value):
            raise TypeError(f"{where}: expected a Value to draw, got {type(root).__name__}; "
                            f"pass the result of a computation, e.g. {where}(loss)")
        check_count(where, "max_nodes", max_nodes, 1)
        if max_nodes > MAX_NODES_LIMIT:
            raise ValueError(f"{where}: max_nodes={max_nodes} is above {MAX_NODES_LIMIT}, where Graphviz "
                             f"takes minutes; draw part of the graph with depth= or collapse= instead")
        if depth is not None:
            check_count(where, "depth", depth, 0)
        check_choice(where, "collapse", collapse, (None, "neuron"))
        if collapse and not callable(getattr(model, "graph_groups", None)):
            raise ValueError(f"{where}: collapse='neuron' needs the model whose neurons to box up "
                             f"(one with a graph_groups(values) method, as nn's MLP): "
                             f"{where}(loss, collapse='neuron', model=model)")
        if params is None and callable(getattr(model, "parameters", None)):
            params = model
        self.root = root
        self.params = set(_parameters(params, where))
        order = topological_order(root)
        self.index = {v: i for i, v in enumerate(order)}
        self.boxes: dict = {}      # a group's output Value -> (box title, inputs, group Values)
        self.hidden: set = set()   # Values drawn inside a box
        if depth is None and collapse is None and len(order) > max_nodes:
            what = f"the graph has {len(order):,} values, more than max_nodes={max_nodes}"
            raise ValueError(f"{where}: {what}. {advice}" if advice else _too_many(where, what, depth, order))
        if depth is None:
            kept = order
        else:
            near = _within(root, depth, max_nodes if collapse is None else math.inf)
            if near is None:
                raise ValueError(_too_many(where, f"more than max_nodes={max_nodes} values lie within "
                                                  f"depth={depth} of the output", depth, order))
            kept = [v for v in order if v in near]
        if collapse == "neuron":
            self._collapse(order, model, where)
        self.kept = set(kept)
        self.drawn = [v for v in kept if v not in self.hidden]
        if len(self.drawn) > max_nodes:
            what = (f"the drawing would have {len(self.drawn):,} boxes"
                    + (" after collapsing neurons" if collapse else "")
                    + f", more than max_nodes={max_nodes}")
            raise ValueError(_too_many(where, what, depth, () if collapse else order))

    def _collapse(self, order: list, model, where: str) -> None:
        """Box up the groups the model names. The grouping protocol: `model.graph_groups(values)`
        gets the graph's Values in topological order and returns (title, output, members) for
        each group; the output is drawn as one box titled `title`, and each member (a Value
        computed or used only inside the group) is drawn inside it, so hidden. A member that
        also feeds Values outside the group (e.g. a weight in weight decay) stays visible."""
        children: dict = {}
        for v in order:
            for p in v.parents:
                children.setdefault(p, []).append(v)
        for title, out, members in model.graph_groups(order):
            group = {out, *members}
            inside = [v for v in order if v in group]  # topological order: deterministic edges
            hidden = {m for m in members if m is not out
                      and all(c in group for c in children.get(m, ()))}
            inputs = dict.fromkeys(p for v in inside if v is out or v in hidden
                                   for p in v.parents if p not in hidden)
            self.boxes[out] = (str(title), list(inputs), inside)
            self.hidden |= hidden

    def role(self, v: Value) -> str:
        """neuron, output, parameter, input, constant or intermediate."""
        if v in self.boxes:
            return "neuron"
        if v is self.root:
            return "output"
        if not v.is_leaf:
            return "intermediate"
        if v in self.params:
            return "parameter"
        return "input" if v.label else "constant"

    def name(self, v: Value) -> str:
        """The DOT node name of `v`: its position in topological order, so runs agree."""
        return f"v{self.index[v]}"


def _parameters(params, where: str) -> list:
    if params is None:
        return []
    if callable(getattr(params, "parameters", None)):
        params = params.parameters()
    if isinstance(params, Value):
        params = [params]
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{where}: params= must be Values (e.g. model.parameters()), "
                        f"got {type(params).__name__}") from None
    for p in items:
        if not isinstance(p, Value):
            raise TypeError(f"{where}: params= must contain only Values, found {type(p).__name__} {p!r:.40}")
    return items


def _within(root: Value, depth: int, limit) -> set | None:
    """The Values at most `depth` steps above `root` (breadth first); None once more than `limit`."""
    seen, layer = {root}, [root]
    for _ in range(depth):
        upper = []
        for v in layer:
            for p in v.parents:
                if p not in seen:
                    seen.add(p)
                    upper.append(p)
                    if len(seen) > limit:
                        return None
        layer = upper
    return seen


def _too_many(where: str, what: str, depth, order) -> str:
    tips = ["depth=3 draws only the values within 3 steps of the output" if depth is None
            else f"a depth smaller than {depth}"]
    if any(v.op == "dot" for v in order):
        tips.append("collapse='neuron', model=model draws each neuron as one box")
    tips.append("max_nodes=N draws more (a picture this big is hard to read)")
    return f"{where}: {what}. Draw part of it: {'; '.join(tips)}."


def _value_set(values, where: str, name: str) -> set:
    if values is None:
        return set()
    if isinstance(values, Value):
        return {values}
    out = set()
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"{where}: {name}= must be Values (a set, a list or path_between(a, b)), "
                            f"found {type(v).__name__} {v!r:.40}")
        out.add(v)
    return out


# --- drawing a plan ------------------------------------------------------------------------------


def emit(plan: Plan, *, rankdir: str = "LR", show_data: bool = True, show_grad: bool = True,
         precision: int = 4, highlight: set = frozenset(), color_by: str = "role",
         legend: bool = False, title: str = "", grads: dict | None = None, notes: dict | None = None,
         grad_width: int = 0) -> graphviz.Digraph:
    """The Graph for a plan. `grads` (Value -> float) replaces `.grad`, a missing entry shows "?";
    `notes` ((child, input position) -> text) labels input edges; steps.py uses both."""
    pen = _Pen(plan, new_graph(rankdir), highlight, grads, show_data, show_grad, precision,
               color_by, grad_width)
    for v in plan.drawn:
        pen.box(v)
        if v in plan.boxes:
            pen.group_inputs(v)
        elif not v.is_leaf:
            pen.op_and_inputs(v, notes)
    if plan.boxes:  # neurons of a layer share all their inputs: keep them in order 1, 2, 3, ...
        pen.graph.attr(ordering="out")
    pen.caption(title, legend)
    return pen.graph


class _Pen:
    """Draws one plan into one graph: a box per Value, an oval per op, an edge per input."""

    def __init__(self, plan: Plan, graph, highlight: set, grads: dict | None, show_data: bool,
                 show_grad: bool, precision: int, color_by: str, grad_width: int) -> None:
        self.plan, self.graph, self.highlight, self.grads = plan, graph, highlight, grads
        self.show_data, self.show_grad, self.precision = show_data, show_grad, precision
        self.color_by, self.grad_width = color_by, grad_width
        self.scale = 0.0
        if color_by == "grad":
            finite = [abs(g) for g in map(self.grad_of, plan.drawn)
                      if g is not None and math.isfinite(g)]
            self.scale = max(finite, default=0.0)

    def grad_of(self, v: Value):
        """The gradient to show: `.grad`, or the frame's own numbers (None: not reached yet)."""
        if self.grads is None:
            return v.grad.data if isinstance(v.grad, Value) else v.grad
        return self.grads.get(v)

    def edge(self, tail: str, head: str, lit: bool, **attrs) -> None:
        if lit:
            attrs.update(color=HIGHLIGHT, penwidth="2.5", fontcolor=HIGHLIGHT)
        self.graph.edge(tail, head, **attrs)

    def box(self, v: Value) -> None:
        """The Value's box: its label (or group title), data and grad, filled by role or grad."""
        plan, g, p = self.plan, self.grad_of(v), self.precision
        group = plan.boxes.get(v)
        title_text = group[0] if group else v.label
        cells = [f"<TD><B>{escape(title_text)}</B></TD>"] if title_text else []
        if self.show_data:
            cells.append(f"<TD>data {fmt(v.data, p)}</TD>")
        if self.show_grad:
            width = f' WIDTH="{self.grad_width}" ALIGN="LEFT"' if self.grad_width else ""
            cells.append(f"<TD{width}>grad {'?' if g is None else fmt(g, p)}</TD>")
        by_grad = self.color_by == "grad" and g is not None
        fill = grad_fill(g, self.scale) if by_grad else ROLE_FILL[plan.role(v)]
        attrs = {"color": "#888888", "penwidth": "1"}
        if v is plan.root:
            attrs = {"color": "#38761d", "penwidth": "2"}
        if v in self.highlight:
            attrs = {"color": HIGHLIGHT, "penwidth": "3"}
        self.graph.node(plan.name(v), label=f"<{table(cells or ['<TD> </TD>'])}>", shape="box",
                        style="filled,rounded", fillcolor=fill, margin="0.06,0.03",
                        tooltip=f"data={v.data!r} grad={g!r}", **attrs)

    def group_inputs(self, v: Value) -> None:
        """A collapsed group is its own op: its inputs go straight into its box."""
        plan, head = self.plan, self.plan.name(v)
        _, inputs, inside = plan.boxes[v]
        lit = any(u in self.highlight for u in inside)
        for p in inputs:
            if p in plan.kept:
                self.edge(plan.name(p), head, lit and p in self.highlight)
        if any(u not in plan.kept for u in (*inside, *inputs)):
            self.more(v, head)

    def op_and_inputs(self, v: Value, notes: dict | None) -> None:
        """The op's oval, its edge to the Value, and one edge per input (with its note, if any)."""
        plan, head, parents = self.plan, f"{self.plan.name(v)}op", v.parents
        lit = v in self.highlight and any(p in self.highlight for p in parents)
        self.graph.node(head, label=escape(op_symbol(v)), shape="ellipse", style="filled",
                        fillcolor=OP_FILL, color=HIGHLIGHT if lit else "#999999",
                        penwidth="2.5" if lit else "1", margin="0.04,0.02", height="0.3",
                        width="0.3")
        self.edge(head, plan.name(v), lit)
        cut = False
        for k, (p, input_name) in enumerate(zip(parents, input_names(v))):
            if p not in plan.kept:
                cut = True
                continue
            note = notes.get((v, k)) if notes else None
            if note:  # one label per edge: two would collide
                attrs = {"label": f"{input_name}: {note}" if input_name else note}
            else:
                attrs = {"headlabel": input_name, "labeldistance": "1.6"} if input_name else {}
            self.edge(plan.name(p), head, lit and p in self.highlight, **attrs)
        if cut:
            self.more(v, head)

    def more(self, v: Value, head: str) -> None:
        """Drawn only down to `depth`: a dashed "⋯" shows that more of the graph feeds in."""
        name = f"{self.plan.name(v)}more"
        self.graph.node(name, label="⋯", shape="plaintext", fontsize="16",
                        tooltip="more of the graph feeds in here (cut by depth=)")
        self.graph.edge(name, head, style="dashed")

    def caption(self, title: str, legend: bool) -> None:
        """The title above the graph and the legend below it (both optional)."""
        rows = [f'<TR><TD ALIGN="LEFT">{title}</TD></TR>'] if title else []
        if legend:
            drawn = self.plan.drawn
            roles = [r for r in ROLE_FILL if any(self.plan.role(v) == r for v in drawn)]
            label = legend_label(self.color_by, self.scale, roles, bool(self.highlight))
            rows.append(f"<TR><TD>{label}</TD></TR>")
        if rows:
            self.graph.attr(label=f'<<TABLE BORDER="0" CELLSPACING="2">{"".join(rows)}</TABLE>>',
                            labelloc="t" if title else "b", labeljust="l")


def draw_graph(root: Value, *, params=None, rankdir: str = "LR", show_data: bool = True,
               show_grad: bool = True, precision: int = 4, max_nodes: int = 150,
               depth: int | None = None, collapse: str | None = None, model=None,
               highlight=None, color_by: str = "role", legend: bool = False,
               title: str = "") -> graphviz.Digraph:
    """Draw the graph that computed `root`: a graphviz.Digraph that shows inline in Jupyter.

    Value boxes show label, data and grad (`precision` significant digits); ovals are ops. Colours:
    inputs (labelled leaves), parameters (leaves in `params=`, e.g. model.parameters()), constants
    (unlabelled leaves), intermediates, the output; `color_by="grad"` colours by gradient sign and
    size instead. `highlight` is a Value, a set of them, or `path_between(w, loss)`. Graphs with
    more than `max_nodes` Values are refused with advice: `depth=k` keeps only Values within k
    steps of `root`; `collapse="neuron", model=model` draws each group the model names as one box
    (see Plan._collapse for the protocol; nn's MLP names one group per neuron call).
    """
    where = "draw_graph"
    check_choice(where, "rankdir", rankdir, ("LR", "TB", "RL", "BT"))
    check_choice(where, "color_by", color_by, ("role", "grad"))
    check_count(where, "precision", precision, 1)
    plan = Plan(root, where, params=params, max_nodes=max_nodes, depth=depth, collapse=collapse,
                model=model)
    return emit(plan, rankdir=rankdir, show_data=show_data, show_grad=show_grad, precision=precision,
                highlight=_value_set(highlight, where, "highlight"), color_by=color_by,
                legend=legend, title=escape(title))


draw_dot = draw_graph  # the name the best-known peer uses


def path_between(source: Value, target: Value) -> list:
    """Every Value on some path from `source` up to `target`, in topological order (for highlight=)."""
    if not isinstance(source, Value) or not isinstance(target, Value):
        raise TypeError(f"path_between: expected two Values, got {type(source).__name__} and "
                        f"{type(target).__name__}")
    order, on_path = topological_order(target), set()
    for v in order:
        if v is source or any(p in on_path for p in v.parents):
            on_path.add(v)
    if target not in on_path:
        raise ValueError(f"path_between: {source!r} does not feed into {target!r}, so no path joins "
                         f"them; pass the input first and the output second")
    return [v for v in order if v in on_path]
