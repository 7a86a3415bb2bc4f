"""Drawing computation graphs with Graphviz: `draw_graph` (alias `draw_dot`), `path_between`, `legend`.

Every Value is a box (label, data, grad); every op is a small oval between its inputs and its output.
viz_network.py draws an nn.MLP as layers of neurons; viz_steps.py steps through backward node by node.
Notebook 01 draws its first graph with these; notebook 02 steps through the chain rule.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
import unicodedata
from typing import TYPE_CHECKING, Iterable

from .engine import topological_order
from .value import Value

if TYPE_CHECKING:  # graphviz itself is imported on first use, in graph_class()
    import graphviz

# --- the Graph class and the missing-`dot` message -----------------------------------------------

INSTALL_HELP = (
    "Graphviz's `dot` program is not installed or not on your PATH (the `graphviz` Python package "
    "only writes DOT text; the system package draws it). Install the graphviz system package:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  conda:          conda install -c conda-forge graphviz\n"
    "  Windows:        the installer from https://graphviz.org/download/\n"
    "then restart Python. The DOT text is still available without it: print(graph.source)."
)


class GraphvizNotFound(RuntimeError):
    """Rendering a graph needs Graphviz's `dot` program, and it is missing."""


def _friendly(method):
    """Wrap a rendering method so that a missing `dot` raises GraphvizNotFound with install help."""
    import graphviz

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except graphviz.ExecutableNotFound as exc:
            raise GraphvizNotFound(f"{method.__name__}(): {INSTALL_HELP}\n({exc})") from None
    return wrapper


def _wanted(mime: str, include, exclude) -> bool:
    """Whether IPython's include=/exclude= (sets of MIME types, or None) let `mime` through."""
    return (include is None or mime in include) and (exclude is None or mime not in exclude)


def _small_png(png: bytes) -> bytes:
    """`png` in 64 colours (about 4× fewer bytes, so notebooks stay small) when Pillow is installed."""
    try:
        from PIL import Image
    except ImportError:
        return png
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(64).save(out, format="PNG", optimize=True)
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def graph_class() -> type:
    """The `graphviz.Digraph` subclass every drawing returns (graphviz is imported on first use)."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("drawing needs the graphviz Python package: pip install graphviz\n"
                          + INSTALL_HELP) from None

    class Graph(graphviz.Digraph):
        """A graphviz.Digraph (shows inline in Jupyter) whose rendering explains a missing `dot`."""

        pipe = _friendly(graphviz.Digraph.pipe)
        render = _friendly(graphviz.Digraph.render)
        view = _friendly(graphviz.Digraph.view)
        unflatten = _friendly(graphviz.Digraph.unflatten)

        @_friendly
        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
            """SVG for Jupyter, plus a PNG that it shows while a notebook is untrusted (SVG is not)."""
            bundle = graphviz.Digraph._repr_mimebundle_(self, include, exclude, **kwargs)
            if "image/svg+xml" in bundle and _wanted("image/png", include, exclude):
                bundle["image/png"] = base64.b64encode(_small_png(self.pipe(format="png"))).decode("ascii")
            return bundle

        def __repr__(self) -> str:
            nodes = sum(1 for line in self.body if "[label=" in line and "->" not in line)
            return (f"<Graph: {nodes} boxes and ops; shown as a picture in Jupyter, or "
                    f".render('name', format='png'), or .source for the DOT text>")

    Graph.__module__, Graph.__qualname__ = __name__, "Graph"
    return Graph


# Arial (Liberation Sans on Linux, the same widths): Graphviz measures the text with the very font
# a browser draws it in. "Helvetica" measured as DejaVu Sans but drawn narrower leaves gaps in SVGs.
FONT = "Arial"


def new_graph(rankdir: str = "LR", engine: str = "dot", **graph_attr) -> graphviz.Digraph:
    """An empty Graph with this module's fonts and spacing."""
    attrs = {"rankdir": rankdir, "fontname": FONT, "fontsize": "11", "nodesep": "0.18",
             "ranksep": "0.3", "bgcolor": "white", **graph_attr}
    return graph_class()(name="autograd", engine=engine, graph_attr=attrs,
                         node_attr={"fontname": FONT, "fontsize": "11"},
                         edge_attr={"fontname": FONT, "fontsize": "9", "color": "#666666",
                                    "arrowsize": "0.6", "fontcolor": "#444444"})


# --- text: escaping and numbers ------------------------------------------------------------------


def escape(text) -> str:
    """`text` for a Graphviz HTML-like label, so that it shows literally (newlines become breaks)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in text:
        if ch == "\n":
            out.append("<BR/>")
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff":
            ch = repr(ch)[1:-1]  # control characters and lone surrogates: show the escape, e.g. \x07
        # Graphviz expands backslash sequences (\N, \G, \\) even in HTML labels: double them
        out.append(html.escape(ch).replace("\\", "\\\\"))
    return "".join(out)


def fmt(x, precision: int = 4) -> str:
    """A number with `precision` significant digits (a Value shows its data); -0 shows as 0."""
    if isinstance(x, Value):
        x = x.data
    if x == 0.0:
        return "0"
    return f"{x:.{precision}g}"


def table(cells: list[str], rule: bool = True, **attrs) -> str:
    """An HTML-like table of one row; each cell is "<TD>...</TD>" (wrap in <...> to use as a label)."""
    options = {"BORDER": "0", "CELLBORDER": "0", "CELLSPACING": "0", "CELLPADDING": "2", **attrs}
    opening = " ".join(f'{k}="{v}"' for k, v in options.items())
    return f"<TABLE {opening}><TR>{('<VR/>' if rule else '').join(cells)}</TR></TABLE>"


# --- roles, colours and op symbols ---------------------------------------------------------------

ROLE_FILL = {
    "input": "#cfe2f3",         # labelled leaves: the x's you made
    "parameter": "#fce5cd",     # leaves in params= (what training changes)
    "constant": "#eeeeee",      # unlabelled leaves: numbers the engine wrapped
    "intermediate": "#ffffff",
    "output": "#d9ead3",        # the root
    "neuron": "#e4dbf0",        # a collapsed neuron: dot(w, x, b) and its activation
}
ROLE_TEXT = {"input": "input", "parameter": "parameter", "constant": "constant",
             "intermediate": "intermediate", "output": "output", "neuron": "neuron"}
OP_FILL = "#f4f4f4"
HIGHLIGHT = "#d01c8b"           # magenta: apart from the red/blue of gradient colours
POSITIVE, NEGATIVE = (214, 96, 77), (67, 147, 195)   # gradient colours: red > 0, blue < 0

_SYMBOL = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "power": "**", "neg": "−x", "sqrt": "√",
           "sigmoid": "σ", "relu": "ReLU", "leaky_relu": "leaky ReLU", "abs": "|x|", "sum": "Σ"}
_ORDERED = {"sub": ("1st", "2nd"), "div": ("1st", "2nd"), "power": ("base", "exp")}  # order matters


def op_symbol(v: Value) -> str:
    """What the op oval of `v` says: +, ×, **2, tanh, Σ, w·x+b, ... (the op's name if unknown)."""
    op = v._op
    if op is None:
        return ""
    if op.name == "pow":
        return f"**{op.params['exponent']:g}"
    if op.name == "rpow":
        return f"{op.params['base']:g}**x"
    if op.name == "dot":
        return "w·x+b" if len(v.parents) % 2 else "w·x"
    if op.name == "leaky_relu" and op.params.get("slope", 0.01) != 0.01:
        return f"leaky ReLU {op.params['slope']:g}"
    return _SYMBOL.get(op.name, op.name)


def input_names(v: Value) -> list[str]:
    """Names for the inputs of `v` where their order matters ("1st", "2nd" for − and ÷), else blanks."""
    return list(_ORDERED.get(v.op, [""] * len(v.parents)))


def grad_fill(g: float, scale: float) -> str:
    """A fill colour for a gradient: red for > 0, blue for < 0, stronger for larger |g| / scale."""
    if isinstance(g, Value):
        g = g.data
    if math.isnan(g):
        return "#ffff99"
    if g == 0.0 or scale == 0.0:
        return "#ffffff"
    t = 1.0 if math.isinf(g) else min(1.0, abs(g) / scale)
    t = 0.15 + 0.85 * math.sqrt(t)  # small gradients stay visible; black text stays readable
    end = POSITIVE if g > 0 else NEGATIVE
    return "#" + "".join(f"{round(255 + (c - 255) * t):02x}" for c in end)


def legend_label(color_by: str = "role", scale: float = 1.0, roles: Iterable[str] = ROLE_FILL,
                 highlight: bool = False) -> str:
    """The legend as an HTML-like label: one swatch per role, or a gradient colour scale."""
    if color_by == "grad":
        stops = [-scale, -scale / 2, 0.0, scale / 2, scale]
        cells = [f'<TD BGCOLOR="{grad_fill(s, scale)}" BORDER="1">grad {fmt(s, 2)}</TD>' for s in stops]
    else:
        cells = [f'<TD BGCOLOR="{ROLE_FILL[r]}" BORDER="1">{ROLE_TEXT[r]}</TD>' for r in roles]
        cells.append(f'<TD BGCOLOR="{OP_FILL}" BORDER="1" STYLE="rounded">op</TD>')
    if highlight:
        cells.append(f'<TD BORDER="2" COLOR="{HIGHLIGHT}">highlighted</TD>')
    return table(cells, rule=False, CELLSPACING="4", CELLPADDING="3")


def legend(color_by: str = "role", *, scale: float = 1.0) -> graphviz.Digraph:
    """A small picture of the colours draw_graph uses (`color_by="role"` or `"grad"`)."""
    _check_choice("legend", "color_by", color_by, ("role", "grad"))
    graph = new_graph()
    graph.node("legend", label=f"<{legend_label(color_by, scale)}>", shape="plaintext")
    return graph


def _check_choice(where: str, name: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{where}: {name}={value!r} is not one of {', '.join(map(repr, choices))}")


def _check_count(where: str, name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {name} must be a whole number >= {minimum}, got {value!r}")


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
        _check_count(where, "max_nodes", max_nodes, 1)
        if max_nodes > MAX_NODES_LIMIT:
            raise ValueError(f"{where}: max_nodes={max_nodes} is above {MAX_NODES_LIMIT}, where Graphviz "
                             f"takes minutes; draw part of the graph with depth= or collapse= instead")
        if depth is not None:
            _check_count(where, "depth", depth, 0)
        _check_choice(where, "collapse", collapse, (None, "neuron"))
        if collapse and model is None:
            raise ValueError(f"{where}: collapse='neuron' needs the model whose neurons to box up: "
                             f"{where}(loss, collapse='neuron', model=model)")
        if params is None and model is not None:
            params = model
        self.root = root
        self.params = set(_parameters(params, where))
        order = topological_order(root)
        self.index = {v: i for i, v in enumerate(order)}
        self.boxes: dict = {}      # a neuron's output Value -> (box title, its dot node)
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
        """Box up each neuron call: its dot node, its activation and the weights only it uses."""
        try:
            neurons = [(f"neuron {i}.{j}", n) for i, layer in enumerate(model.layers, 1)
                       for j, n in enumerate(layer.neurons, 1)]
        except (AttributeError, TypeError):
            raise TypeError(f"{where}: collapse='neuron' needs a model with .layers, each with .neurons "
                            f"(an nn.MLP), got {type(model).__name__}") from None
        by_first_weight = {n.w[0]: (title, n) for title, n in neurons if n.w}
        children: dict = {}
        for v in order:
            for p in v.parents:
                children.setdefault(p, []).append(v)
        owned, box_dots = {}, set()  # a dict keeps the weights in order, each once
        for d in order:
            found = by_first_weight.get(d.parents[0]) if d.op == "dot" else None
            if found is None:
                continue
            title, neuron = found
            w, parents = neuron.w, d.parents
            if (len(parents) not in (2 * len(w), 2 * len(w) + 1)
                    or any(a is not b for a, b in zip(w, parents))
                    or (len(parents) % 2 and parents[-1] is not neuron.b)):
                continue
            out = d
            if neuron.activation != "linear":
                kids = children.get(d, [])
                if len(kids) != 1 or kids[0].op != neuron.activation:
                    continue
                out = kids[0]
                self.hidden.add(d)
            self.boxes[out] = (f"{title} · {neuron.activation}", d)
            box_dots.add(d)
            owned.update(dict.fromkeys(parents[: len(w)]))
            owned.update(dict.fromkeys(parents[2 * len(w):]))
        for p in owned:  # a weight also used elsewhere (e.g. weight decay) stays visible
            if all(c in box_dots for c in children.get(p, ())):
                self.hidden.add(p)

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
    `notes` ((child, input position) -> text) labels input edges; viz_steps.py uses both."""
    graph = new_graph(rankdir)
    name = plan.name

    def grad_of(v):
        if grads is None:
            return v.grad.data if isinstance(v.grad, Value) else v.grad
        return grads.get(v)

    scale = 0.0
    if color_by == "grad":
        finite = [abs(g) for g in map(grad_of, plan.drawn) if g is not None and math.isfinite(g)]
        scale = max(finite, default=0.0)

    def edge(tail: str, head: str, lit: bool, **attrs) -> None:
        if lit:
            attrs.update(color=HIGHLIGHT, penwidth="2.5", fontcolor=HIGHLIGHT)
        graph.edge(tail, head, **attrs)

    for v in plan.drawn:
        role, g = plan.role(v), grad_of(v)
        box = plan.boxes.get(v)
        title_text = box[0] if box else v.label
        cells = [f"<TD><B>{escape(title_text)}</B></TD>"] if title_text else []
        if show_data:
            cells.append(f"<TD>data {fmt(v.data, precision)}</TD>")
        if show_grad:
            width = f' WIDTH="{grad_width}" ALIGN="LEFT"' if grad_width else ""
            cells.append(f"<TD{width}>grad {'?' if g is None else fmt(g, precision)}</TD>")
        fill = grad_fill(g, scale) if color_by == "grad" and g is not None else ROLE_FILL[role]
        attrs = {"color": "#888888", "penwidth": "1"}
        if v is plan.root:
            attrs = {"color": "#38761d", "penwidth": "2"}
        if v in highlight:
            attrs = {"color": HIGHLIGHT, "penwidth": "3"}
        graph.node(name(v), label=f"<{table(cells or ['<TD> </TD>'])}>", shape="box",
                   style="filled,rounded", fillcolor=fill, margin="0.06,0.03",
                   tooltip=f"data={v.data!r} grad={g!r}", **attrs)
        if v.is_leaf:
            continue
        if box:  # the box is its own op: inputs go straight in
            head, source = name(v), box[1]
            inputs = [p for p in source.parents if p not in plan.hidden]
            lit = v in highlight or source in highlight
            cut = source not in plan.kept or any(p not in plan.kept for p in inputs)
            for p in inputs:
                if p in plan.kept:
                    edge(name(p), head, lit and p in highlight)
        else:
            head, parents = f"{name(v)}op", v.parents
            lit = v in highlight and any(p in highlight for p in parents)
            graph.node(head, label=escape(op_symbol(v)), shape="ellipse", style="filled",
                       fillcolor=OP_FILL, color=HIGHLIGHT if lit else "#999999",
                       penwidth="2.5" if lit else "1", margin="0.04,0.02", height="0.3", width="0.3")
            edge(head, name(v), lit)
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
                edge(name(p), head, lit and p in highlight, **attrs)
        if cut:  # drawn only down to `depth`: show that more feeds in
            graph.node(f"{name(v)}more", label="⋯", shape="plaintext", fontsize="16",
                       tooltip="more of the graph feeds in here (cut by depth=)")
            graph.edge(f"{name(v)}more", head, style="dashed")

    if plan.boxes:  # neurons of a layer share all their inputs: keep them in order 1, 2, 3, ...
        graph.attr(ordering="out")
    rows = [f'<TR><TD ALIGN="LEFT">{title}</TD></TR>'] if title else []
    if legend:
        roles = [r for r in ROLE_FILL if any(plan.role(v) == r for v in plan.drawn)]
        rows.append(f"<TR><TD>{legend_label(color_by, scale, roles, bool(highlight))}</TD></TR>")
    if rows:
        graph.attr(label=f'<<TABLE BORDER="0" CELLSPACING="2">{"".join(rows)}</TABLE>>',
                   labelloc="t" if title else "b", labeljust="l")
    return graph


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
    steps of `root`; `collapse="neuron", model=model` draws each neuron call as one box.
    """
    where = "draw_graph"
    _check_choice(where, "rankdir", rankdir, ("LR", "TB", "RL", "BT"))
    _check_choice(where, "color_by", color_by, ("role", "grad"))
    _check_count(where, "precision", precision, 1)
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
