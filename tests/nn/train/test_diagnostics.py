"""nn.diagnostics: per-layer statistics recorded through forward hooks, checked against numbers
computed independently (layer by layer by hand, numpy, and PyTorch float64 for the gradients)."""

import math

import pytest

from autograd_core import Value
from nn import MLP, Linear, Module, ReLU, Sequential, Sigmoid, Tanh, fit, hinge_loss, optim
from nn.data import make_moons, to_pm1
from nn.train.diagnostics import Diagnostics, diagnose, find_layers, layer_kind

np = pytest.importorskip("numpy")


def _moons(n=30, seed=0):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return X, to_pm1(y)


class TwoLayers(Module):
    """A custom module: its layers are attributes, its forward its own."""

    def __init__(self):
        self.hidden = Linear(2, 5, seed=1)
        self.act = Tanh()
        self.out = Linear(5, 1, seed=2)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))[0]


def _layer_outputs(model, X):
    """Each MLP layer's outputs, computed by calling the layers one after the other."""
    outs = [[] for _ in model.layers]
    for x in X:
        h = [Value(v) for v in x]
        for k, layer in enumerate(model.layers):
            h = layer(h)
            outs[k].append([v.data for v in h])
    return [np.array(o) for o in outs]


# --- which modules are layers --------------------------------------------------------------------


def test_find_layers_of_an_mlp_are_its_layers():
    names = [name for name, _ in find_layers(MLP(2, [4, 4, 1], seed=0))]
    assert names == ["layers.0", "layers.1", "layers.2"], names


def test_find_layers_of_a_sequential_are_its_children():
    model = Sequential(Linear(2, 3, seed=0), ReLU(), Linear(3, 1, seed=1))
    found = [(name, layer_kind(m)) for name, m in find_layers(model)]
    assert found == [("0", "linear"), ("1", "relu"), ("2", "linear")], found


def test_find_layers_of_a_custom_module_are_its_submodules():
    found = [(name, layer_kind(m)) for name, m in find_layers(TwoLayers())]
    assert found == [("hidden", "linear"), ("act", "tanh"), ("out", "linear")], found


# --- the statistics ------------------------------------------------------------------------------


def test_diagnose_activation_mean_and_std_match_numpy():
    X, y = _moons()
    model = MLP(2, [6, 5, 1], activation="tanh", seed=3)
    diag = diagnose(model, X, y, loss="hinge")
    for (name, trace), expected in zip(diag.layers.items(), _layer_outputs(model, X)):
        assert math.isclose(trace.mean[0], expected.mean(), rel_tol=1e-9, abs_tol=1e-12), (
            f"{name}: mean {trace.mean[0]} vs numpy {expected.mean()}")
        assert math.isclose(trace.std[0], expected.std(), rel_tol=1e-9), (
            f"{name}: std {trace.std[0]} vs numpy {expected.std()}")


def test_diagnose_output_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    X, y = _moons()
    model = MLP(2, [6, 5, 1], activation="tanh", seed=3)
    diag = diagnose(model, X, y, loss="hinge")
    h = torch.tensor(X, dtype=torch.float64)
    outs = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        h = h @ W.T + b
        h = torch.tanh(h) if layer.activation == "tanh" else h
        h.retain_grad()
        outs.append(h)
    torch.relu(1 - torch.tensor(y, dtype=torch.float64) * h[:, 0]).mean().backward()
    for trace, out in zip(diag.layers.values(), outs):
        expected = out.grad.numpy()
        assert np.allclose(trace.grads, expected.ravel(), rtol=1e-9, atol=1e-15), trace.name
        assert math.isclose(trace.grad_std[0], expected.std(), rel_tol=1e-9), (
            f"{trace.name}: grad std {trace.grad_std[0]} vs torch {expected.std()}")


def test_diagnose_weight_gradients_are_the_parameters_gradients():
    X, y = _moons()
    model = MLP(2, [4, 1], seed=5)
    diag = diagnose(model, X, y, loss="hinge")
    hinge_loss([model(x) for x in X], y).backward()
    weights = [w.grad for n in model.layers[0].neurons for w in n.w]
    assert diag.layers["layers.0"].weight_grads == weights
    assert math.isclose(diag.layers["layers.0"].weight_grad_std[0], np.std(weights), rel_tol=1e-9)


def test_diagnose_counts_dead_relus():
    X, y = _moons()
    model = MLP(2, [5, 1], seed=0)
    for n in model.layers[0].neurons[:2]:  # two units that are negative for every input: dead
        n.b.data = -100.0
    for n in model.layers[0].neurons[2:]:  # three that are positive for every input: alive
        n.b.data = 100.0
    diag = diagnose(model, X, y, loss="hinge")
    assert diag.layers["layers.0"].dead == [2 / 5], diag.layers["layers.0"].dead
    assert diag.layers["layers.1"].dead == [None], "the linear output layer has no dead fraction"


def test_diagnose_counts_saturated_tanh_units():
    X, y = _moons()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    expected = _layer_outputs(model, X)[0]
    diag = diagnose(model, X, y, loss="hinge")
    assert diag.layers["layers.0"].saturated == [float((abs(expected) > 0.97).mean())]


def test_diagnose_counts_saturated_sigmoid_units_near_0_and_1():
    model = Sequential(Linear(1, 1, seed=0), Sigmoid())
    model[0].weight[0][0].data, model[0].bias[0].data = 1.0, 0.0
    X = [[-10.0], [0.0], [10.0], [1.0]]  # sigmoid: ~0 (saturated), 0.5, ~1 (saturated), 0.73
    diag = diagnose(model, X, [1.0] * 4, loss=lambda out, t: sum(o[0] for o in out))
    assert diag.layers["1"].saturated == [0.5], diag.layers["1"].saturated


def test_diagnose_puts_the_parameters_gradients_back():
    X, y = _moons()
    model = MLP(2, [4, 1], seed=0)
    for i, p in enumerate(model.parameters()):
        p.grad = float(i)
    diagnose(model, X, y, loss="hinge")
    assert [p.grad for p in model.parameters()] == [float(i) for i in range(len(model.parameters()))]


def test_diagnose_leaves_no_hooks_behind():
    X, y = _moons()
    model = MLP(2, [4, 1], seed=0)
    diagnose(model, X, y, loss="hinge")
    hooked = [name for name, m in model.named_modules() if m._forward_hooks]
    assert hooked == [], f"hooks left on {hooked}"


# --- over training steps -------------------------------------------------------------------------


def test_update_ratio_is_log10_of_update_std_over_data_std():
    X, y = _moons()
    model = MLP(2, [4, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.3)
    weights = [w for n in model.layers[0].neurons for w in n.w]
    with Diagnostics(model) as diag:
        loss = hinge_loss([model(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        before = np.array([w.data for w in weights])
        update = -0.3 * np.array([w.grad for w in weights])
        opt.step()
        diag.record()
    expected = math.log10(update.std() / before.std())
    assert math.isclose(diag.layers["layers.0"].update_ratio[0], expected, rel_tol=1e-9), (
        f"{diag.layers['layers.0'].update_ratio[0]} vs {expected}")


def test_diagnostics_as_fit_callback_records_every_step_and_unhooks():
    X, y = _moons()
    model = MLP(2, [4, 4, 1], seed=0)
    diag = Diagnostics()
    fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.3), steps=6,
        progress=False, callbacks=[diag])
    assert diag.steps == [1, 2, 3, 4, 5, 6]
    assert all(len(t.std) == 6 and len(t.update_ratio) == 6 for t in diag.layers.values())
    assert not any(m._forward_hooks for m in model.modules()), "fit left hooks on the model"


def test_diagnostics_every_k_records_every_kth_step_with_its_own_update():
    X, y = _moons()
    model, twin = MLP(2, [4, 1], seed=0), MLP(2, [4, 1], seed=0)
    every_2, every_1 = Diagnostics(every=2), Diagnostics()
    for m, d in ((model, every_2), (twin, every_1)):
        fit(m, X, y, loss="hinge", optimizer=optim.SGD(m.parameters(), lr=0.3), steps=6,
            progress=False, callbacks=[d])
    assert every_2.steps == [2, 4, 6]
    for name in every_1.layers:
        assert every_2.layers[name].update_ratio == every_1.layers[name].update_ratio[1::2], name
        assert every_2.layers[name].std == every_1.layers[name].std[1::2], name


def test_diagnostics_ignore_no_grad_validation_forwards():
    X, y = _moons()
    model = MLP(2, [4, 1], seed=0)
    diag = Diagnostics()
    fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.3), steps=2,
        progress=False, callbacks=[diag], validation_data=(X[:7], y[:7]), eval_every=1)
    assert len(diag.layers["layers.1"].values) == len(X), (
        f"{len(diag.layers['layers.1'].values)} outputs recorded, expected the {len(X)} training ones")


def test_recording_does_not_change_training():
    X, y = _moons()
    runs = []
    for callbacks in ([], [Diagnostics()]):
        model = MLP(2, [4, 4, 1], seed=0)
        runs.append(fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.3),
                        steps=5, progress=False, callbacks=callbacks).loss)
    assert runs[0] == runs[1], f"losses without {runs[0]} and with {runs[1]} diagnostics"


def test_diagnostics_work_on_a_custom_module():
    X, y = _moons()
    model = TwoLayers()
    diag = Diagnostics()
    fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1), steps=3,
        progress=False, callbacks=[diag])
    assert list(diag.layers) == ["hidden", "act", "out"]
    assert diag.layers["act"].weight_grad_std == [None] * 3, "Tanh has no weights"
    assert all(r is not None for r in diag.layers["hidden"].update_ratio)


def test_diagnostics_record_without_a_model_says_what_to_do():
    with pytest.raises(RuntimeError, match="attach"):
        Diagnostics().record()


def test_diagnostics_table_has_a_row_per_layer():
    X, y = _moons()
    table = diagnose(MLP(2, [4, 4, 1], seed=0), X, y, loss="hinge").table().splitlines()
    assert len(table) == 4 and table[1].startswith("layers.0"), table


# --- plots ---------------------------------------------------------------------------------------


def _trained_diagnostics():
    X, y = _moons()
    model = MLP(2, [4, 4, 1], activation="tanh", seed=0)
    diag = Diagnostics()
    fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.3), steps=4,
        progress=False, callbacks=[diag])
    return diag


@pytest.mark.parametrize("name", ["plot_activations", "plot_gradients", "plot_update_ratios",
                                  "plot_layer_stats"])
def test_diagnostics_plots_label_axes_and_show_one_line_per_layer(name):
    pytest.importorskip("matplotlib")
    from nn import plots

    fig = getattr(plots, name)(_trained_diagnostics())
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: unlabelled axes"
    expected = 3 if name == "plot_update_ratios" else (1 if name == "plot_layer_stats" else 2)
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("guide")]
    assert len(lines) == expected, f"{name}: {len(lines)} lines, expected {expected}"


def test_plot_update_ratios_draws_the_1e_minus_3_guide():
    pytest.importorskip("matplotlib")
    from nn.plots import plot_update_ratios

    guides = [line for line in plot_update_ratios(_trained_diagnostics()).axes[0].get_lines()
              if line.get_label().startswith("guide")]
    assert len(guides) == 1 and list(guides[0].get_ydata()) == [-3.0, -3.0]
