"""nn.drawing: draw_network, the neuron groups nn's MLP gives draw_graph(collapse="neuron"), and the
graph of one training point that the command line writes as graph.svg."""

import re
import shutil

import pytest

from autograd_core import Value, dot, sum_values, topological_order
from autograd_core.viz import ROLE_FILL, draw_graph, escape
from nn import MLP, draw_network, hinge_loss
from nn.drawing import draw_loss_graph
from tests.helpers.graphs import TinyMLP as _CoreTinyMLP, edges, nodes, value_nodes

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


class TinyMLP(_CoreTinyMLP):  # the core's stand-in (tests/test_viz.py), with nn.MLP's groups
    graph_groups = MLP.graph_groups  # speaks draw_graph's grouping protocol, as nn.MLP does


# --- neuron groups (draw_graph's collapse="neuron") ------------------------------------------------


def test_neuron_groups_draws_each_neuron_call_as_one_box():
    model = TinyMLP()
    out = model([Value(1.0, "x1"), Value(2.0, "x2")])
    graph = draw_graph(out, collapse="neuron", model=model)
    boxes = [a for a in value_nodes(graph).values() if f'fillcolor="{ROLE_FILL["neuron"]}"' in a]
    titles = sorted(re.search(r"<B>(neuron [\d.]+)", a).group(1) for a in boxes)
    assert titles == ["neuron 1.1", "neuron 1.2", "neuron 2.1"], titles
    assert len(value_nodes(graph)) == 5, f"expected 3 neuron boxes + 2 inputs, got {len(value_nodes(graph))}"


def test_neuron_groups_keep_a_weight_used_outside_its_neuron():
    model = TinyMLP()
    shared = model.layers[1].neurons[0].w[0]
    loss = model([1.0, 2.0]) + shared * shared  # weight decay uses the weight directly
    graph = draw_graph(loss, collapse="neuron", model=model)
    params = [a for a in value_nodes(graph).values() if f'fillcolor="{ROLE_FILL["parameter"]}"' in a]
    assert len(params) == 1, f"expected the shared weight to stay visible, got {len(params)} parameters"


def test_neuron_groups_work_on_the_real_mlp():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    graph = draw_graph(model([0.5, -1.0]), collapse="neuron", model=model)
    titles = sorted(re.findall(r"<B>(neuron [\d.]+ · \w+)</B>", graph.source))
    assert titles == ["neuron 1.1 · tanh", "neuron 1.2 · tanh", "neuron 1.3 · tanh",
                      "neuron 2.1 · linear"], titles


def test_neuron_groups_name_output_and_members_of_each_neuron():
    model = MLP(2, [1, 1], activation="relu", seed=0)
    out = model([0.5, -1.0])
    groups = model.graph_groups(topological_order(out))
    hidden, last = model.layers[0].neurons[0], model.layers[1].neurons[0]
    relu = out.parents[1]  # w·x+b of the last neuron: (w, relu(...), b)
    expected = [("neuron 1.1 · relu", relu, [relu.parents[0], *hidden.w, hidden.b]),
                ("neuron 2.1 · linear", out, [*last.w, last.b])]
    assert groups == expected, f"expected {expected}, got {groups}"


def test_neuron_groups_refuse_a_model_without_neurons():
    with pytest.raises(TypeError, match="expected a model with .layers"):
        MLP.graph_groups(Value(1.0), [])


def test_neuron_groups_still_refuse_too_big_a_drawing():
    model = MLP(2, [4, 1], seed=0)
    loss = sum_values([model([float(i), 1.0]) for i in range(200)])
    with pytest.raises(ValueError, match="after collapsing neurons"):
        draw_graph(loss, collapse="neuron", model=model)


# --- draw_network ----------------------------------------------------------------------------------


def test_draw_network_is_exported_by_nn():
    import nn

    assert nn.draw_network is draw_network


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
    y = {name: float(re.search(r'pos="[-\d.]+,([-\d.]+)!"', attrs).group(1))
         for name, attrs in nodes(graph).items()}
    assert y["x1"] > y["x2"] and y["L1n1"] > y["L1n2"], y


def test_draw_network_rejects_something_that_is_not_an_mlp():
    with pytest.raises(TypeError, match="expected an nn.MLP"):
        draw_network(Value(1.0))


def test_draw_network_refuses_too_many_weights():
    with pytest.raises(ValueError, match=r"6 weights, more than max_edges=5"):
        draw_network(TinyMLP(), max_edges=5)


def test_draw_network_refuses_a_bad_colour_choice_naming_it():
    with pytest.raises(ValueError, match=r"draw_network: color_by must be one of 'weight', 'grad'"):
        draw_network(TinyMLP(), color_by="size")


@needs_dot
def test_draw_network_renders_the_real_mlp():
    model = MLP(3, [4, 4, 1], seed=0)
    graph = draw_network(model)
    circles = [n for n in nodes(graph) if not n.startswith("title")]
    assert len(circles) == 3 + 9 and "<svg" in graph.pipe(format="svg").decode(), circles


# --- the graph of one training point (the CLI's graph.svg) -----------------------------------------


def _grads_shown(graph) -> list:
    return re.findall(r"grad ([-\d.e+]+)<", graph.source)


def test_draw_loss_graph_picks_a_point_that_still_has_loss_so_gradients_flow():
    model = MLP(2, [4, 1], seed=0)
    X, y = [[3.0, 3.0], [0.1, 0.0]], [1.0, -1.0]
    scores = [model(x).data for x in X]
    graph = draw_loss_graph(model, X, y, hinge_loss, "hinge")
    grads = _grads_shown(graph)
    nonzero = sum(float(g) != 0.0 for g in grads)
    assert nonzero >= len(grads) // 2, \
        f"scores {scores}: only {nonzero} of {len(grads)} boxes have a gradient"
    assert "largest loss after training" in graph.source


def test_draw_loss_graph_uses_the_weights_before_training_when_no_point_has_loss():
    model = MLP(2, [1], activation="linear", seed=0)
    before = model.state_dict()
    for p in model.parameters():
        p.data = 0.0
    model.layers[0].neurons[0].b.data = 5.0  # every score 5: hinge loss 0 on +1 labels
    after = model.state_dict()
    graph = draw_loss_graph(model, [[1.0, 2.0], [0.5, 0.5]], [1.0, 1.0], hinge_loss, "hinge",
                            before=before)
    assert "before training" in graph.source, "the title must say the graph is of the weights before training"
    assert any(float(g) != 0.0 for g in _grads_shown(graph)), "no gradient flows in the drawing"
    assert model.state_dict() == after, "the trained weights must be put back"
    assert all(p.grad == 0.0 for p in model.parameters()), "the drawing must leave no gradients behind"


def test_draw_loss_graph_labels_the_inputs():
    model = MLP(2, [1], seed=0)
    graph = draw_loss_graph(model, [[1.0, 2.0]], [1.0], hinge_loss, "hinge")
    assert f"<B>{escape('x[0]')}</B>" in graph.source, "the input x[0] must be drawn with its label"
