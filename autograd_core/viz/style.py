"""How graph drawings look: the Graphviz graph class (and the missing-`dot` message), fonts,
escaping, number formats, the colours of each role, op symbols and the legend.

graph.py draws a Value's graph with these; steps.py and player.py step through backward;
nn/drawing.py draws networks in the same style. Notebook 01 draws the first graph.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
import unicodedata
from typing import TYPE_CHECKING, Iterable

from ..value import Value

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
        cells = [f'<TD BGCOLOR="{ROLE_FILL[r]}" BORDER="1">{r}</TD>' for r in roles]
        cells.append(f'<TD BGCOLOR="{OP_FILL}" BORDER="1" STYLE="rounded">op</TD>')
    if highlight:
        cells.append(f'<TD BORDER="2" COLOR="{HIGHLIGHT}">highlighted</TD>')
    return table(cells, rule=False, CELLSPACING="4", CELLPADDING="3")


def legend(color_by: str = "role", *, scale: float = 1.0) -> graphviz.Digraph:
    """A small picture of the colours draw_graph uses (`color_by="role"` or `"grad"`)."""
    check_choice("legend", "color_by", color_by, ("role", "grad"))
    graph = new_graph()
    graph.node("legend", label=f"<{legend_label(color_by, scale)}>", shape="plaintext")
    return graph


def check_choice(where: str, name: str, value, choices: tuple) -> None:
    """A ValueError naming `where` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{where}: {name}={value!r} is not one of {', '.join(map(repr, choices))}")


def check_count(where: str, name: str, value, minimum: int) -> None:
    """A ValueError naming `where` unless `value` is a whole number >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {name} must be a whole number >= {minimum}, got {value!r}")
