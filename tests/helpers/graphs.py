"""Shared test helpers for graphs: readers of draw_graph's DOT source, small expressions, and
stand-ins shaped like nn.MLP (so the core's tests do not depend on nn)."""

import html
import re

from autograd_core import Value, dot
from autograd_core.viz import escape


# --- DOT readers and expressions -------------------------------------------------------------------------------------


def nodes(graph) -> dict:
    """DOT node name -> its attribute text, for every node statement in the source."""
    found = re.findall(r"^\t+(\w+) \[(.*)\]$", graph.source, flags=re.M)
    return {name: attrs for name, attrs in found if name not in ("graph", "node", "edge")}


def edges(graph) -> list:
    """(tail, head, attribute text) for every edge statement in the source."""
    return re.findall(r"^\t+(\w+) -> (\w+)(?: \[(.*)\])?$", graph.source, flags=re.M)


def value_nodes(graph) -> dict:
    return {k: v for k, v in nodes(graph).items() if re.fullmatch(r"v\d+", k)}


def node_of(graph, label: str) -> str:
    """The attribute text of the value box whose bold title is `label`."""
    found = [attrs for attrs in value_nodes(graph).values() if f"<B>{escape(label)}</B>" in attrs]
    assert len(found) == 1, f"expected one box titled {label!r}, found {len(found)}"
    return found[0]


def svg_texts(graph) -> list:
    svg = graph.pipe(format="svg").decode("utf-8")
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def expression():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b + 10.0
    c.label = "c"
    out = (c * a).tanh()
    out.label = "out"
    return a, b, c, out


class Neuron:  # stand-ins shaped like nn.MLP, so these tests do not depend on nn
    def __init__(self, w, b, activation):
        self.w, self.b, self.activation = [Value(x) for x in w], Value(b), activation

    def __call__(self, x):
        out = dot(self.w, x, self.b)
        return out if self.activation == "linear" else getattr(out, self.activation)()


class Layer:
    def __init__(self, neurons):
        self.neurons = neurons


class TinyMLP:
    def __init__(self):
        self.layers = [Layer([Neuron([0.5, -1.0], 0.1, "tanh"), Neuron([0.3, 0.8], -0.2, "tanh")]),
                       Layer([Neuron([1.5, -0.7], 0.0, "linear")])]

    def parameters(self):
        return [p for layer in self.layers for n in layer.neurons for p in (*n.w, n.b)]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer.neurons]
        return x[0]


def big_graph(n: int = 20_000) -> Value:
    """A chain of about n Values, each also fed a constant: a long training-step-sized graph."""
    x = Value(0.5, "x")
    for _ in range(n // 2):
        x = x * 0.999
    return x
