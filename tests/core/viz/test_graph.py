"""autograd_core.viz.graph: draw_graph's DOT source (labels, counts, colours, determinism), escaping with the
real `dot`, large graphs, highlighting, the grouping protocol of collapse= and the missing-`dot`
message. (nn's neuron groups and draw_network: tests/nn/test_drawing.py.)"""

import base64
import html
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from autograd_core import Value, dot, sum_values, topological_order
from autograd_core.viz import (GraphvizNotFound, ROLE_FILL, draw_dot, draw_graph,
                               escape, legend, path_between)
from tests.helpers import REPO
from tests.helpers.graphs import (TinyMLP, big_graph, edges, expression, node_of, nodes, svg_texts,
                                  value_nodes)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


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


@pytest.mark.slow
def test_draw_graph_source_is_identical_across_processes():
    code = ("from tests.helpers.graphs import expression; from autograd_core.viz import draw_graph; "
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


@pytest.mark.slow
@needs_dot
def test_large_graph_path_finishes_in_bounded_time():
    code = textwrap.dedent("""
        from tests.helpers.graphs import big_graph
        from autograd_core.viz import draw_graph
        root = big_graph(20_000)
        try:
            draw_graph(root)
        except ValueError:
            pass
        draw_graph(root, depth=10).pipe(format="svg")
        print("done")
    """)
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "done", run.stderr


class Grouped:
    """A model that names its groups through draw_graph's protocol: graph_groups(values)."""

    def __init__(self, groups):
        self.groups = groups
        self.seen = None

    def graph_groups(self, values):
        self.seen = list(values)
        return self.groups


def two_groups():
    """x -> (a = w*x -> h = tanh(a)) -> out = h + c: group 1 boxes a, w and h; c stays outside."""
    x, w, c = Value(2.0, "x"), Value(0.5), Value(1.0, "c")
    a = w * x
    h = a.tanh()
    out = h + c
    return x, w, c, a, h, out


def test_draw_graph_collapse_draws_each_named_group_as_one_box():
    x, w, c, a, h, out = two_groups()
    graph = draw_graph(out, collapse="neuron", model=Grouped([("unit 1", h, [a, w])]))
    boxes = [attrs for attrs in value_nodes(graph).values() if "<B>unit 1</B>" in attrs]
    assert len(boxes) == 1 and f'fillcolor="{ROLE_FILL["neuron"]}"' in boxes[0], boxes
    assert len(value_nodes(graph)) == 4, f"expected x, the box, c and out, got {value_nodes(graph)}"


def test_draw_graph_collapse_feeds_the_box_from_outside_inputs_only():
    x, w, c, a, h, out = two_groups()
    graph = draw_graph(out, collapse="neuron", model=Grouped([("unit 1", h, [a, w])]))
    names = {v: f"v{i}" for i, v in enumerate(topological_order(out))}
    into_box = sorted(t for t, head, _ in edges(graph) if head == names[h])
    assert into_box == [names[x]], f"only x feeds the box, got edges from {into_box}"


def test_draw_graph_collapse_gives_the_protocol_the_values_in_topological_order():
    x, w, c, a, h, out = two_groups()
    model = Grouped([])
    draw_graph(out, collapse="neuron", model=model)
    assert model.seen == topological_order(out), f"got {model.seen}"


def test_draw_graph_collapse_keeps_a_member_used_outside_its_group():
    x, w, c, a, h, out = two_groups()
    loss = out + w * w  # weight decay uses the weight directly
    graph = draw_graph(loss, collapse="neuron", model=Grouped([("unit 1", h, [a, w])]))
    params = [attrs for attrs in value_nodes(graph).values() if "data 0.5" in attrs]
    assert len(params) == 1, f"expected the shared weight to stay visible, got {len(params)} boxes"


def test_draw_graph_collapse_needs_a_model_with_graph_groups():
    with pytest.raises(ValueError, match=r"graph_groups\(values\).*collapse='neuron', model=model"):
        draw_graph(Value(1.0) * 2.0, collapse="neuron")
    with pytest.raises(ValueError, match=r"graph_groups"):
        draw_graph(Value(1.0) * 2.0, collapse="neuron", model=TinyMLP())


def test_autograd_core_reads_no_attribute_of_nn_classes():
    folder = os.path.join(REPO, "autograd_core")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            for attribute in (".layers", ".neurons", ".activation", "import nn", "from nn"):
                assert attribute not in text, f"autograd_core/{name} mentions {attribute!r}"


@pytest.mark.slow
def test_autograd_core_imports_nothing_from_nn():
    code = ("import sys, autograd_core, autograd_core.viz\n"
            "print(sorted(m for m in sys.modules if m == 'nn' or m.startswith('nn.')))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert run.stdout.strip() == "[]", f"nn modules imported: {run.stdout} {run.stderr}"


# --- missing `dot` -------------------------------------------------------------------------------


@pytest.mark.slow
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
    env.update(PATH="", PYTHONPATH=str(REPO))
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
