"""Tests for viz.py: draw_graph's DOT source (labels, counts, colours, determinism), escaping with the
real `dot`, large graphs, highlighting, the missing-`dot` message and draw_network."""

import base64
import html
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from autograd_core import Value, dot, sum_values
from autograd_core.viz import (GraphvizNotFound, ROLE_FILL, draw_dot, draw_graph,
                               escape, legend, path_between)
from autograd_core.viz_network import draw_network

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- helpers -------------------------------------------------------------------------------------


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


class Neuron:  # stand-ins with nn.MLP's shape, so these tests do not depend on nn
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


# --- DOT source ----------------------------------------------------------------------------------


def test_draw_graph_returns_a_graphviz_digraph():
    import graphviz
    graph = draw_graph(expression()[-1])
    assert isinstance(graph, graphviz.Digraph), f"expected a graphviz.Digraph, got {type(graph)}"


def test_draw_dot_is_an_alias_of_draw_graph():
    assert draw_dot is draw_graph


def test_draw_graph_source_is_identical_for_the_same_graph_built_twice():
    first, second = draw_graph(expression()[-1]).source, draw_graph(expression()[-1]).source
    assert first == second, "two builds of the same expression gave different DOT source"


def test_draw_graph_source_is_identical_across_processes():
    code = ("from tests.test_viz import expression; from autograd_core.viz import draw_graph; "
            "print(draw_graph(expression()[-1]).source)")
    runs = [subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                           timeout=60, env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "2")]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout, "DOT source differs between two Python processes"


def test_draw_graph_draws_one_box_per_value_and_one_oval_per_op():
    a, b, c, out = expression()  # leaves a, b, 10.0; ops *, +, *, tanh
    graph = draw_graph(out)
    ovals = [k for k in nodes(graph) if k.endswith("op")]
    assert (len(value_nodes(graph)), len(ovals)) == (7, 4), \
        f"expected 7 boxes and 4 ovals, got {len(value_nodes(graph))} and {len(ovals)}"


def test_draw_graph_keeps_both_edges_of_x_times_x():
    x = Value(3.0, "x")
    graph = draw_graph(x * x)
    into_op = [e for e in edges(graph) if e[1] == "v1op"]
    assert len(into_op) == 2, f"expected x -> op twice, got {into_op}"


def test_draw_graph_shows_label_data_and_grad_to_4_significant_digits():
    x = Value(1.0 / 3.0, "x")
    y = x * 3.0
    y.backward()
    attrs = node_of(draw_graph(y), "x")
    assert "data 0.3333" in attrs and "grad 3" in attrs, f"got {attrs}"


def test_draw_graph_precision_sets_significant_digits():
    attrs = node_of(draw_graph(Value(2.0 / 3.0, "x") * 1.0, precision=2), "x")
    assert "data 0.67" in attrs, f"expected data 0.67, got {attrs}"


def test_draw_graph_can_hide_data_and_grad():
    graph = draw_graph(expression()[-1], show_data=False, show_grad=False)
    assert ">data " not in graph.source and ">grad " not in graph.source, graph.source


def test_draw_graph_colours_each_role():
    w, x = Value(0.5), Value(2.0, "x")
    hidden = w * x + 1.0
    out = hidden.relu()
    graph = draw_graph(out, params=[w])
    boxes = value_nodes(graph)
    expected = {"parameter": w, "input": x, "intermediate": hidden, "output": out}
    order = __import__("autograd_core").topological_order(out)
    for role, v in expected.items():
        attrs = boxes[f"v{order.index(v)}"]
        assert f'fillcolor="{ROLE_FILL[role]}"' in attrs, f"{role}: expected {ROLE_FILL[role]} in {attrs}"
    constant = next(v for v in order if v.is_leaf and v is not w and v is not x)
    assert f'fillcolor="{ROLE_FILL["constant"]}"' in boxes[f"v{order.index(constant)}"]


def test_draw_graph_params_accepts_a_model():
    model = TinyMLP()
    out = model([1.0, 2.0])
    graph = draw_graph(out, params=model)
    n_param = sum(f'fillcolor="{ROLE_FILL["parameter"]}"' in a for a in value_nodes(graph).values())
    assert n_param == len(model.parameters()), f"expected {len(model.parameters())} parameters, got {n_param}"


@pytest.mark.parametrize("make, symbol", [
    (lambda x: x ** 2, "**2"), (lambda x: x * 2.0, "×"), (lambda x: x - 1.0, "−"), (lambda x: x / 2.0, "÷"),
    (lambda x: sum_values([x, x, x]), "Σ"), (lambda x: dot([x], [x], x), "w·x+b"),
    (lambda x: x.tanh(), "tanh"), (lambda x: x.leaky_relu(0.2), "leaky ReLU 0.2"),
])
def test_draw_graph_labels_ops_with_their_symbol(make, symbol):
    graph = draw_graph(make(Value(1.5, "x")))
    labels = [re.search(r'label=(?:"([^"]*)"|(\S+))', a).group(1, 2)
              for k, a in nodes(graph).items() if k.endswith("op")]
    labels = [quoted or bare for quoted, bare in labels]
    assert labels == [symbol], f"expected [{symbol!r}], got {labels}"


def test_draw_graph_names_the_order_of_inputs_to_subtraction():
    graph = draw_graph(Value(1.0, "p") - Value(2.0, "q"))
    heads = [attrs for _, _, attrs in edges(graph) if attrs and "headlabel" in attrs]
    assert heads == ['headlabel="1st" labeldistance=1.6', 'headlabel="2nd" labeldistance=1.6'], heads


def test_draw_graph_rankdir_is_passed_to_graphviz():
    assert "rankdir=TB" in draw_graph(expression()[-1], rankdir="TB").source


def test_draw_graph_unknown_rankdir_says_the_choices():
    with pytest.raises(ValueError, match=r"rankdir='up' is not one of 'LR', 'TB'"):
        draw_graph(expression()[-1], rankdir="up")


def test_draw_graph_rejects_a_non_value_root_with_advice():
    with pytest.raises(TypeError, match=r"expected a Value to draw, got float"):
        draw_graph(3.0)


def test_draw_graph_legend_names_the_roles_present():
    source = draw_graph(expression()[-1], legend=True).source
    for text in ("input", "constant", "intermediate", "output", ">op<"):
        assert text in source, f"legend lacks {text!r}"
    assert ">parameter<" not in source, "legend lists parameters, but there are none"


def test_legend_alone_is_a_graph_with_every_role():
    source = legend().source
    assert all(f">{role}<" in source for role in ROLE_FILL), source


# --- highlighting and gradient colours -----------------------------------------------------------


def test_path_between_returns_only_the_values_on_a_path():
    a, b, c, out = expression()
    path = path_between(b, out)
    assert path[0] is b and path[-1] is out and c in path and a not in path, path


def test_path_between_unconnected_values_raises_with_advice():
    a, b, c, out = expression()
    with pytest.raises(ValueError, match="does not feed into"):
        path_between(out, a)


def test_draw_graph_highlight_colours_the_path_and_its_edges():
    a, b, c, out = expression()
    graph = draw_graph(out, highlight=path_between(b, out))
    lit_boxes = [k for k, attrs in value_nodes(graph).items() if "penwidth=3" in attrs]
    lit_edges = [e for e in edges(graph) if e[2] and "penwidth=2.5" in e[2]]
    assert len(lit_boxes) == 5, f"expected b, b*a, c, c*a, out lit, got {lit_boxes}"
    assert len(lit_edges) == 8, f"expected 8 lit edges (4 into ops, 4 out of them), got {len(lit_edges)}"


def test_draw_graph_highlight_rejects_non_values():
    with pytest.raises(TypeError, match="highlight= must be Values"):
        draw_graph(expression()[-1], highlight=["a"])


def test_draw_graph_color_by_grad_is_red_for_positive_and_blue_for_negative():
    x, y = Value(1.0, "x"), Value(1.0, "y")
    out = x - y
    out.backward()
    graph = draw_graph(out, color_by="grad")
    x_fill = re.search(r'fillcolor="#(..)(..)(..)"', node_of(graph, "x")).groups()
    y_fill = re.search(r'fillcolor="#(..)(..)(..)"', node_of(graph, "y")).groups()
    assert int(x_fill[0], 16) > int(x_fill[2], 16), f"positive grad should be red, got #{''.join(x_fill)}"
    assert int(y_fill[2], 16) > int(y_fill[0], 16), f"negative grad should be blue, got #{''.join(y_fill)}"


def test_draw_graph_color_by_grad_is_stronger_for_larger_gradients():
    small, big = Value(1.0, "small"), Value(1.0, "big")
    out = small * 1.0 + big * 10.0
    out.backward()
    graph = draw_graph(out, color_by="grad")
    green = [int(re.search(r'fillcolor="#..(..)', node_of(graph, n)).group(1), 16) for n in ("small", "big")]
    assert green[1] < green[0], f"the larger gradient should be the deeper colour, got {green}"


# --- escaping, rendered for real -----------------------------------------------------------------

HOSTILE = ['say "hi"', "<b>bold</b>", "a & b", "x|y", "{braces}", "back\\slash \\N \\G \\\\",
           "über 𝑥 ∂L/∂w", "]]> &amp; &#92;", "bell\x07"]


@needs_dot
def test_hostile_labels_render_literally_with_dot():
    values = [Value(float(i), label) for i, label in enumerate(HOSTILE)]
    texts = svg_texts(draw_graph(sum_values(values)))
    expected = HOSTILE[:-1] + ["bell\\x07"]  # a control character shows as its escape
    missing = [label for label in expected if label not in texts]
    assert not missing, f"these labels did not render literally: {missing}\nSVG texts: {texts}"


@needs_dot
def test_a_label_with_newlines_renders_as_separate_lines():
    texts = svg_texts(draw_graph(Value(1.0, "first\nsecond") * 2.0))
    assert "first" in texts and "second" in texts, texts


@needs_dot
def test_draw_graph_renders_to_svg_and_png(tmp_path):
    graph = draw_graph(expression()[-1], legend=True)
    svg = graph.pipe(format="svg").decode("utf-8")
    path = graph.render(tmp_path / "graph", format="png", cleanup=True)
    with open(path, "rb") as f:
        head = f.read(8)
    assert "<svg" in svg and head == b"\x89PNG\r\n\x1a\n", f"svg: {'<svg' in svg}, png header: {head!r}"


@needs_dot
def test_draw_graph_shows_inline_in_jupyter_as_svg():
    bundle = draw_graph(expression()[-1])._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"], list(bundle)


@needs_dot
def test_draw_graph_adds_a_png_for_untrusted_notebooks():
    # JupyterLab shows image/svg+xml only in trusted notebooks; image/png everywhere.
    graph = draw_graph(expression()[-1])
    bundle = graph._repr_mimebundle_()
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in bundle["image/svg+xml"], sorted(bundle)
    assert graph._repr_mimebundle_() == bundle, "the PNG should be the same on every call"


@needs_dot
def test_draw_graph_png_honours_ipython_exclude():
    bundle = draw_graph(expression()[-1])._repr_mimebundle_(exclude={"image/png"})
    assert sorted(bundle) == ["image/svg+xml"], sorted(bundle)


# --- large graphs --------------------------------------------------------------------------------


def big_graph(n: int = 20_000) -> Value:
    """A chain of about n Values, each also fed a constant: a long training-step-sized graph."""
    x = Value(0.5, "x")
    for _ in range(n // 2):
        x = x * 0.999
    return x


def test_draw_graph_refuses_a_20000_node_graph_saying_the_count_and_what_to_do():
    with pytest.raises(ValueError) as info:
        draw_graph(big_graph())
    message = str(info.value)
    assert "20,001 values" in message and "max_nodes=150" in message and "depth=" in message, message


def test_draw_graph_refusal_suggests_collapse_when_there_are_neurons():
    model = TinyMLP()
    loss = sum_values([model([float(i), 1.0]) for i in range(40)])
    with pytest.raises(ValueError, match=r"collapse='neuron', model=model"):
        draw_graph(loss)


def test_draw_graph_depth_keeps_only_values_near_the_root_and_marks_the_cut():
    graph = draw_graph(big_graph(), depth=3)
    assert len(value_nodes(graph)) == 7, f"expected 4 chain values + 3 constants, got {len(value_nodes(graph))}"
    assert "⋯" in graph.source, "the cut should be marked with ⋯"


def test_draw_graph_depth_too_wide_is_refused_early():
    wide = sum_values([Value(float(i)) for i in range(20_000)])
    with pytest.raises(ValueError, match=r"more than max_nodes=150 values lie within depth=1"):
        draw_graph(wide, depth=1)


def test_draw_graph_max_nodes_has_a_ceiling():
    with pytest.raises(ValueError, match=r"max_nodes=100000 is above 5000"):
        draw_graph(Value(1.0), max_nodes=100_000)


@needs_dot
def test_large_graph_path_finishes_in_bounded_time():
    code = textwrap.dedent("""
        from tests.test_viz import big_graph, TinyMLP
        from autograd_core import sum_values
        from autograd_core.viz import draw_graph
        root = big_graph(20_000)
        try:
            draw_graph(root)
        except ValueError:
            pass
        draw_graph(root, depth=10).pipe(format="svg")
        model = TinyMLP()
        loss = sum_values([model([float(i), 1.0]) for i in range(2_000)])  # about 20,000 values
        try:
            draw_graph(loss, collapse="neuron", model=model)
        except ValueError as exc:
            assert "after collapsing neurons" in str(exc), exc
        print("done")
    """)
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "done", run.stderr


def test_draw_graph_collapse_draws_each_neuron_call_as_one_box():
    model = TinyMLP()
    out = model([Value(1.0, "x1"), Value(2.0, "x2")])
    graph = draw_graph(out, collapse="neuron", model=model)
    boxes = [a for a in value_nodes(graph).values() if f'fillcolor="{ROLE_FILL["neuron"]}"' in a]
    titles = sorted(re.search(r"<B>(neuron [\d.]+)", a).group(1) for a in boxes)
    assert titles == ["neuron 1.1", "neuron 1.2", "neuron 2.1"], titles
    assert len(value_nodes(graph)) == 5, f"expected 3 neuron boxes + 2 inputs, got {len(value_nodes(graph))}"


def test_draw_graph_collapse_keeps_a_weight_used_outside_its_neuron():
    model = TinyMLP()
    shared = model.layers[1].neurons[0].w[0]
    loss = model([1.0, 2.0]) + shared * shared  # weight decay uses the weight directly
    graph = draw_graph(loss, collapse="neuron", model=model)
    params = [a for a in value_nodes(graph).values() if f'fillcolor="{ROLE_FILL["parameter"]}"' in a]
    assert len(params) == 1, f"expected the shared weight to stay visible, got {len(params)} parameters"


def test_draw_graph_collapse_needs_a_model():
    with pytest.raises(ValueError, match=r"collapse='neuron', model=model"):
        draw_graph(Value(1.0) * 2.0, collapse="neuron")


def test_draw_graph_collapse_works_on_the_real_mlp():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    graph = draw_graph(model([0.5, -1.0]), collapse="neuron", model=model)
    titles = sorted(re.findall(r"<B>(neuron [\d.]+ · \w+)</B>", graph.source))
    assert titles == ["neuron 1.1 · tanh", "neuron 1.2 · tanh", "neuron 1.3 · tanh", "neuron 2.1 · linear"], titles


# --- missing `dot` -------------------------------------------------------------------------------


def test_missing_dot_error_says_how_to_install_graphviz_and_source_still_works(tmp_path):
    code = textwrap.dedent("""
        from autograd_core import Value
        from autograd_core.viz import draw_graph, GraphvizNotFound
        graph = draw_graph(Value(2.0, "x") * 3.0)
        assert "digraph" in graph.source
        for call in (lambda: graph.pipe(format="svg"), lambda: graph.render("g", format="png"),
                     lambda: graph._repr_mimebundle_()):
            try:
                call()
            except GraphvizNotFound as exc:
                print("MESSAGE", str(exc).replace("\\n", " | "))
            else:
                print("NO ERROR")
    """)
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env.update(PATH="", PYTHONPATH=REPO)
    run = subprocess.run([os.path.abspath(sys.executable), "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    messages = [line for line in run.stdout.splitlines() if line.startswith("MESSAGE")]
    assert len(messages) == 3, f"expected three friendly errors, got:\n{run.stdout}\n{run.stderr}"
    for message in messages:
        for command in ("apt-get install graphviz", "brew install graphviz",
                        "conda install -c conda-forge graphviz", "graph.source"):
            assert command in message, f"{command!r} missing from: {message}"


def test_graphviz_not_found_is_a_runtime_error():
    assert issubclass(GraphvizNotFound, RuntimeError)


# --- draw_network --------------------------------------------------------------------------------


def test_draw_network_draws_inputs_and_one_circle_per_neuron():
    graph = draw_network(TinyMLP())
    names = sorted(n for n in nodes(graph) if not n.startswith("title"))
    assert names == ["L1n1", "L1n2", "L2n1", "x1", "x2"], names


def test_draw_network_draws_one_edge_per_weight():
    model = TinyMLP()
    n_weights = sum(len(n.w) for layer in model.layers for n in layer.neurons)
    assert len(edges(draw_network(model))) == n_weights


def test_draw_network_colours_edges_by_sign_and_thickens_them_by_size():
    graph = draw_network(TinyMLP())
    style = {(t, h): a for t, h, a in edges(graph)}
    assert 'color="#d6604d"' in style[("x1", "L1n1")] and 'color="#4393c3"' in style[("x2", "L1n1")]
    widths = {k: float(re.search(r"penwidth=([\d.]+)", a).group(1)) for k, a in style.items()}
    assert widths[("L1n1", "L2n1")] > widths[("x1", "L1n2")], widths  # |1.5| > |0.3|


def test_draw_network_color_by_grad_uses_the_gradients():
    model = TinyMLP()
    model([1.0, 2.0]).backward()
    graph = draw_network(model, color_by="grad", show_weights=True)
    w = model.layers[1].neurons[0].w[0]
    label = dict(((t, h), a) for t, h, a in edges(graph))[("L1n1", "L2n1")]
    assert f"headlabel={w.grad:.2g}" in label.replace('"', ""), f"expected grad {w.grad:.2g} in {label}"


def test_draw_network_keeps_neurons_in_order_top_to_bottom():
    graph = draw_network(TinyMLP())
    y = {name: float(re.search(r'pos="[-\d.]+,([-\d.]+)!"', attrs).group(1)) for name, attrs in nodes(graph).items()}
    assert y["x1"] > y["x2"] and y["L1n1"] > y["L1n2"], y


def test_draw_network_rejects_something_that_is_not_an_mlp():
    with pytest.raises(TypeError, match="expected an nn.MLP"):
        draw_network(Value(1.0))


def test_draw_network_refuses_too_many_weights():
    with pytest.raises(ValueError, match=r"6 weights, more than max_edges=5"):
        draw_network(TinyMLP(), max_edges=5)


@needs_dot
def test_draw_network_renders_the_real_mlp():
    nn = pytest.importorskip("nn")
    model = nn.MLP(3, [4, 4, 1], seed=0)
    graph = draw_network(model)
    circles = [n for n in nodes(graph) if not n.startswith("title")]
    assert len(circles) == 3 + 9 and "<svg" in graph.pipe(format="svg").decode(), circles
