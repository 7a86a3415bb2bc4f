"""nn.to_torch / nn.from_torch: same weights, outputs and gradients to 1e-12 both ways; torch is
optional. Also Linear's PyTorch keywords."""

import math
import os
import pathlib
import subprocess
import sys

import pytest

import nn
from autograd_core import Value, dot
from tests.helpers import REPO

X = [0.3, -1.2, 0.8]
COEFS = [0.7, -1.3]  # loss = sum(c_i * out_i): every output gets its own gradient


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def _ours_backward(model):
    xs = [Value(v) for v in X]
    out = model(xs)
    out = out if isinstance(out, list) else [out]
    dot(COEFS[:len(out)], out).backward()
    return [v.data for v in out], [v.grad for v in xs]


def _torch_backward(torch, module, n_out):
    xs = torch.tensor([X], dtype=torch.float64, requires_grad=True)
    out = module(xs)[0]
    (out * torch.tensor(COEFS[:n_out], dtype=torch.float64)).sum().backward()
    return out.tolist(), xs.grad[0].tolist()


def _linears(ours):
    """[(weight rows, bias list or None)] of our model's affine maps, in order."""
    if isinstance(ours, nn.MLP):
        return [([n.w for n in layer.neurons], [n.b for n in layer.neurons]) for layer in ours.layers]
    return [(m.weight, m.bias) for m in ours.layers if isinstance(m, nn.Linear)]


def _assert_same(torch, ours, theirs, n_out):
    out_a, dx_a = _ours_backward(ours)
    out_b, dx_b = _torch_backward(torch, theirs, n_out)
    assert all(map(close, out_a, out_b)), f"outputs: ours {out_a}, torch {out_b}"
    assert all(map(close, dx_a, dx_b)), f"input grads: ours {dx_a}, torch {dx_b}"
    t_linears = [m for m in theirs.modules() if isinstance(m, torch.nn.Linear)]
    for (rows, bias), lin in zip(_linears(ours), t_linears, strict=True):
        for i, row in enumerate(rows):
            for j, p in enumerate(row):
                assert close(p.data, lin.weight[i, j].item()), ("weight", i, j)
                assert close(p.grad, lin.weight.grad[i, j].item()), ("weight grad", i, j)
            if bias is not None:
                assert close(bias[i].grad, lin.bias.grad[i].item()), ("bias grad", i)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_to_torch_mlp_agrees_in_outputs_and_gradients(activation):
    torch = pytest.importorskip("torch")
    ours = nn.MLP(3, [5, 4, 2], activation=activation, seed=1)
    theirs = nn.to_torch(ours)
    assert isinstance(theirs, torch.nn.Sequential) and len(theirs) == 5
    assert all(p.dtype == torch.float64 for p in theirs.parameters())
    _assert_same(torch, ours, theirs, 2)


def test_to_torch_sequential_agrees_in_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4, seed=1), nn.LeakyReLU(0.2), nn.Linear(4, 4, bias=False, seed=2),
                         nn.Tanh(), nn.Linear(4, 2, seed=3), nn.Sigmoid())
    theirs = nn.to_torch(ours)
    assert theirs[2].bias is None and theirs[1].negative_slope == 0.2
    _assert_same(torch, ours, theirs, 2)


@pytest.mark.parametrize("make", [lambda: nn.Layer(3, 2, "tanh", seed=0),
                                  lambda: nn.Neuron(3, "sigmoid", seed=0),
                                  lambda: nn.Linear(3, 2, seed=0)], ids=["layer", "neuron", "linear"])
def test_to_torch_single_layers_agree(make):
    torch = pytest.importorskip("torch")
    ours = make()
    theirs = nn.to_torch(ours)
    out_a, dx_a = _ours_backward(ours)
    out_b, dx_b = _torch_backward(torch, theirs, len(out_a))
    assert all(map(close, out_a, out_b)) and all(map(close, dx_a, dx_b)), (out_a, out_b, dx_a, dx_b)


def test_from_torch_sequential_agrees_in_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 4),
                                 torch.nn.LeakyReLU(0.1), torch.nn.Sequential(torch.nn.Linear(4, 2),
                                                                              torch.nn.Tanh()))
    theirs = theirs.double()
    ours = nn.from_torch(theirs)
    assert isinstance(ours, nn.Sequential) and isinstance(ours[4], nn.Sequential)
    flat = nn.Sequential(*ours.layers[:4], *ours[4].layers)
    _assert_same(torch, flat, theirs, 2)


def test_from_torch_float32_weights_come_back_exactly():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3))
    ours = nn.from_torch(theirs)
    assert [p.data for p in ours[0].weight[1]] == theirs[0].weight[1].double().tolist()


def test_to_torch_and_back_keeps_every_weight():
    pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    assert nn.from_torch(nn.to_torch(model)).state_dict() == model.state_dict()


def test_to_torch_refuses_a_custom_module_naming_it():
    pytest.importorskip("torch")

    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="Custom is not one of them"):
        nn.to_torch(Custom())


def test_from_torch_refuses_an_unsupported_layer_naming_where():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"module\[1\] is a GELU"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU()))


def test_bridge_without_torch_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'autograd-core\[torch\]'"):
        nn.to_torch(nn.Linear(2, 2))
    with pytest.raises(ImportError, match="pip install"):
        nn.from_torch(object())


@pytest.mark.slow
def test_importing_nn_does_not_import_torch():
    code = "import sys, nn; print('torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_linear_takes_pytorchs_keywords():
    a = nn.Linear(in_features=2, out_features=3, bias=False, seed=0)
    b = nn.Linear(2, 3, False, seed=0)
    assert (a.in_features, a.out_features, a.bias) == (2, 3, None)
    assert a.state_dict() == b.state_dict() and list(a.state_dict())[0] == "weight.0.0"


def test_linear_keyword_shapes_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Linear(in_features=4, out_features=2, bias=True, seed=0)
    theirs = torch.nn.Linear(in_features=4, out_features=2, bias=True)
    assert (ours.in_features, ours.out_features) == (theirs.in_features, theirs.out_features)
    assert len(ours.weight) == theirs.weight.shape[0] and len(ours.weight[0]) == theirs.weight.shape[1]
