"""Neuron / Layer / MLP and the PyTorch-shaped Linear / activations / Sequential, against torch."""

import math
import random

import pytest

import nn
from autograd_core import Value


def torch_or_skip():
    return pytest.importorskip("torch")


def close(a, b, rel=1e-12, abs_=1e-15):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# --- Neuron ----------------------------------------------------------------------------------------


def test_neuron_has_w_b_and_activation():
    n = nn.Neuron(3, "tanh", seed=0)
    assert len(n.w) == 3 and all(isinstance(w, Value) for w in n.w)
    assert isinstance(n.b, Value) and n.activation == "tanh"
    assert n.parameters() == [*n.w, n.b]


def test_neuron_preactivation_is_one_dot_node():
    n = nn.Neuron(4, "relu", seed=0)
    out = n([1.0, 2.0, 3.0, 4.0])
    assert out.op == "relu" and out.parents[0].op == "dot"
    assert nn.Neuron(4, "linear", seed=0)([1.0, 2.0, 3.0, 4.0]).op == "dot"


@pytest.mark.parametrize("activation,fn", [
    ("relu", lambda z: max(z, 0.0)),
    ("tanh", math.tanh),
    ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
    ("leaky_relu", lambda z: z if z > 0 else 0.01 * z),
    ("linear", lambda z: z),
])
def test_neuron_activation_values(activation, fn):
    n = nn.Neuron(2, activation, seed=0)
    for x in ([0.5, -0.25], [-2.0, -3.0], [3.0, 1.0]):
        z = n.w[0].data * x[0] + n.w[1].data * x[1] + n.b.data
        assert close(n(x).data, fn(z)), (activation, x)


def test_neuron_torch_init_is_bounded_by_one_over_sqrt_nin():
    n = nn.Neuron(25, seed=3)
    assert all(-0.2 <= p.data <= 0.2 for p in n.parameters())
    assert n.b.data != 0.0


def test_neuron_uniform_init_is_micrographs():
    random.seed(7)
    expected = [random.uniform(-1, 1) for _ in range(5)]
    random.seed(7)
    n = nn.Neuron(5, init="uniform")
    assert [w.data for w in n.w] == expected and n.b.data == 0.0


def test_neuron_seed_and_rng_are_reproducible():
    a = nn.Neuron(4, seed=11)
    b = nn.Neuron(4, rng=random.Random(11))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    with pytest.raises(ValueError, match="not both"):
        nn.Neuron(4, seed=1, rng=random.Random(1))


@pytest.mark.parametrize("kwargs,error,match", [
    ({"nin": 0}, ValueError, "nin must be at least 1"),
    ({"nin": 2.5}, TypeError, "nin must be a whole number"),
    ({"nin": 2, "activation": "gelu"}, ValueError, "activation must be one of"),
    ({"nin": 2, "init": "xavier"}, ValueError, "init must be one of"),
])
def test_neuron_bad_arguments_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.Neuron(**kwargs)


def test_neuron_wrong_number_of_inputs_says_so():
    with pytest.raises(ValueError, match="expects 3 input"):
        nn.Neuron(3)([1.0, 2.0])


# --- Layer and MLP ---------------------------------------------------------------------------------


def test_layer_returns_a_list_even_for_one_neuron():
    out = nn.Layer(2, 1, seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1


def test_mlp_last_layer_is_linear_and_hidden_layers_use_activation():
    m = nn.MLP(2, [4, 4, 3], activation="tanh", seed=0)
    assert [layer.activation for layer in m.layers] == ["tanh", "tanh", "linear"]
    assert all(n.activation == "linear" for n in m.layers[-1].neurons)


def test_mlp_returns_one_value_for_one_output_else_a_list():
    assert isinstance(nn.MLP(2, [4, 1], seed=0)([1.0, 2.0]), Value)
    out = nn.MLP(2, [4, 3], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_mlp_with_a_hidden_layer_of_width_one_works():
    m = nn.MLP(2, [16, 1, 1], seed=0)
    out = m([0.5, -1.5])
    assert isinstance(out, Value)
    out.backward()
    assert len(m.parameters()) == 16 * 3 + 17 + 2


def test_mlp_accepts_values_and_lifts_floats_once_per_call():
    m = nn.MLP(2, [3, 1], seed=0)
    x = [Value(1.0), Value(2.0)]
    out = m(x)
    out.backward()
    assert x[0].grad != 0.0
    out = m([1.0, 2.0])
    first_layer_dots = out.parents  # the output dot: w..., hidden..., b
    hidden = first_layer_dots[3:6]
    inputs = {id(p) for h in hidden for p in h.parents[0].parents[2:4]}
    assert len(inputs) == 2, "all neurons must read the same two input Values"


def test_mlp_uniform_init_without_seed_draws_micrographs_weights():
    random.seed(1337)
    expected = [random.uniform(-1, 1) for _ in range(2 * 16 + 16 * 16 + 16)]
    random.seed(1337)
    m = nn.MLP(2, [16, 16, 1], init="uniform")
    weights = [p.data for n, p in m.named_parameters() if not n.endswith(".b")]
    biases = [p.data for n, p in m.named_parameters() if n.endswith(".b")]
    assert weights == expected and set(biases) == {0.0}


def test_mlp_same_seed_same_model():
    a, b = nn.MLP(3, [5, 2], seed=42), nn.MLP(3, [5, 2], seed=42)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != nn.MLP(3, [5, 2], seed=43).state_dict()


@pytest.mark.parametrize("nouts,error", [([], ValueError), (4, TypeError), ("16", TypeError),
                                         ([4, 0], ValueError), (None, TypeError), ([4, 2.0], TypeError)])
def test_mlp_bad_nouts_raise(nouts, error):
    with pytest.raises(error, match="nouts"):
        nn.MLP(2, nouts)


def test_mlp_single_input_may_be_a_bare_number():
    m = nn.MLP(1, [4, 1], seed=0)
    assert m(0.5).data == m([0.5]).data


def test_mlp_rejects_non_numeric_inputs():
    with pytest.raises(TypeError):
        nn.MLP(2, [1], seed=0)(["a", "b"])


# --- PyTorch-shaped pieces -------------------------------------------------------------------------


def test_linear_shapes_and_init_bounds():
    lin = nn.Linear(4, 3, seed=0)
    assert len(lin.weight) == 3 and all(len(row) == 4 for row in lin.weight) and len(lin.bias) == 3
    assert all(-0.5 <= p.data <= 0.5 for p in lin.parameters())
    assert [n for n, _ in lin.named_parameters()][:2] == ["weight.0.0", "weight.0.1"]
    out = lin([1.0, 2.0, 3.0, 4.0])
    assert isinstance(out, list) and len(out) == 3 and all(v.op == "dot" for v in out)


def test_activation_modules_are_elementwise():
    xs = [Value(-1.0), Value(0.5)]
    assert [v.data for v in nn.ReLU()(xs)] == [0.0, 0.5]
    assert [v.data for v in nn.Tanh()(xs)] == [math.tanh(-1.0), math.tanh(0.5)]
    assert close(nn.Sigmoid()(Value(0.0)).data, 0.5)
    assert [v.data for v in nn.LeakyReLU(0.2)(xs)] == [-0.2, 0.5]
    assert nn.LeakyReLU(negative_slope=0.3).slope == 0.3
    assert nn.ReLU()(2.0).data == 2.0


def test_sequential_names_children_by_position_and_indexes():
    seq = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    names = [n for n, _ in seq.named_parameters()]
    assert names[0] == "0.weight.0.0" and names[-1] == "2.bias.0"
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and len(seq[:2]) == 2
    assert isinstance(seq([1.0, 2.0]), list)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="item 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)


# --- against PyTorch -------------------------------------------------------------------------------


def _torch_mlp_from(model, activation, torch):
    """An equivalent torch.nn.Sequential (float64) with `model`'s weights copied in."""
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
            "leaky_relu": torch.nn.LeakyReLU}
    modules = []
    for i, layer in enumerate(model.layers):
        lin = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons],
                                          dtype=torch.float64))
            lin.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(lin)
        if i < len(model.layers) - 1:
            modules.append(acts[activation]())
    return torch.nn.Sequential(*modules)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("nouts", [[8, 8, 1], [5, 3], [16, 1, 1]])
def test_mlp_forward_and_backward_match_torch_sequential(activation, nouts):
    torch = torch_or_skip()
    model = nn.MLP(3, nouts, activation=activation, seed=5)
    reference = _torch_mlp_from(model, activation, torch)
    rng = random.Random(9)
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(6)]
    ours_in = [[Value(v) for v in x] for x in xs]
    outs = [model(x) for x in ours_in]
    outs = [o if isinstance(o, list) else [o] for o in outs]
    total = sum((v * (i + 1) for row in outs for i, v in enumerate(row)), Value(0.0))
    total.backward()
    t_in = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    t_out = reference(t_in)
    weights = torch.arange(1, t_out.shape[1] + 1, dtype=torch.float64)
    (t_out * weights).sum().backward()
    for row, t_row in zip(outs, t_out.tolist()):
        assert all(close(a.data, b) for a, b in zip(row, t_row)), (row, t_row)
    # parameter grads, in parameters() order: per neuron, weights then bias
    t_grads = []
    for lin in [m for m in reference if isinstance(m, torch.nn.Linear)]:
        for w_row, b in zip(lin.weight.grad.tolist(), lin.bias.grad.tolist()):
            t_grads += [*w_row, b]
    ours = [p.grad for p in model.parameters()]
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(ours, t_grads)) if not close(a, b, 1e-10, 1e-13)]
    assert not bad, f"parameter grads differ (index, ours, torch): {bad[:5]}"
    input_grads = [v.grad for x in ours_in for v in x]
    assert all(close(a, b, 1e-10, 1e-13) for a, b in zip(input_grads, t_in.grad.flatten().tolist()))


def test_linear_and_sequential_match_torch():
    torch = torch_or_skip()
    seq = nn.Sequential(nn.Linear(3, 4, seed=1), nn.Tanh(), nn.Linear(4, 2, seed=2), nn.Sigmoid(),
                        nn.Linear(2, 2, bias=False, seed=3), nn.LeakyReLU(0.2))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2),
                              torch.nn.Sigmoid(), torch.nn.Linear(2, 2, bias=False),
                              torch.nn.LeakyReLU(0.2)).double()
    with torch.no_grad():
        for ours, theirs in ((seq[0], ref[0]), (seq[2], ref[2]), (seq[4], ref[4])):
            theirs.weight.copy_(torch.tensor([[w.data for w in row] for row in ours.weight],
                                               dtype=torch.float64))
            if ours.bias is not None:
                theirs.bias.copy_(torch.tensor([b.data for b in ours.bias], dtype=torch.float64))
    x = [0.3, -1.2, 0.8]
    out = seq(x)
    sum(out, Value(0.0)).backward()
    t_out = ref(torch.tensor(x, dtype=torch.float64))
    t_out.sum().backward()
    assert all(close(a.data, b) for a, b in zip(out, t_out.tolist()))
    t_grads = [g for m in (ref[0], ref[2], ref[4]) for g in m.weight.grad.flatten().tolist()
               + (m.bias.grad.tolist() if m.bias is not None else [])]
    assert all(close(p.grad, g, 1e-10, 1e-13) for p, g in zip(seq.parameters(), t_grads))
