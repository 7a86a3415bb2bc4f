"""nn.Module: parameter discovery, modes, state dicts and JSON save/load (validated, atomic)."""

import json
import os

import pytest

import nn
from autograd_core import Value


class Affine(nn.Module):
    """A custom module: a Parameter, a list and a dict of them, a submodule, a private cache."""

    def __init__(self):
        self.scale = nn.Parameter(2.0)
        self.shifts = [nn.Parameter(0.5), nn.Parameter(-0.5)]
        self.extra = {"a": nn.Parameter(1.0)}
        self.inner = nn.Linear(2, 1, seed=0)
        self._cache = [nn.Parameter(99.0)]  # private: not a parameter

    def forward(self, x):
        return self.inner([self.scale * x[0] + self.shifts[0], x[1] + self.shifts[1]])[0]


def snapshot(model):
    return [p.data for p in model.parameters()]


# --- finding parameters ----------------------------------------------------------------------------


def test_module_named_parameters_walks_parameters_lists_dicts_and_submodules():
    names = [n for n, _ in Affine().named_parameters()]
    assert names == ["scale", "shifts.0", "shifts.1", "extra.a", "inner.weight.0.0",
                     "inner.weight.0.1", "inner.bias.0"], names


def test_module_private_attributes_are_not_parameters():
    assert all(p.data != 99.0 for p in Affine().parameters())


def test_module_shared_value_is_listed_once():
    m = Affine()
    m.alias = m.scale
    assert [p for p in m.parameters()].count(m.scale) == 1


def test_module_mlp_parameter_names_and_order():
    m = nn.MLP(2, [3, 1], seed=0)
    names = [n for n, _ in m.named_parameters()]
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.0.b" and len(names) == 3 * 3 + 4
    expected = [p for layer in m.layers for n in layer.neurons for p in (*n.w, n.b)]
    assert all(a is b for a, b in zip(m.parameters(), expected))


def test_module_call_runs_forward():
    m = Affine()
    assert m([1.0, 2.0]).data == m.forward([1.0, 2.0]).data


def test_module_without_forward_says_what_to_do():
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(1.0)


def test_module_zero_grad_resets_every_parameter():
    m = nn.MLP(2, [4, 1], seed=0)
    m([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


def test_module_train_and_eval_set_training_on_all_submodules():
    m = nn.MLP(2, [4, 1], seed=0)
    assert m.training
    assert m.eval() is m
    assert not any(sub.training for sub in m.modules())
    m.train()
    assert all(sub.training for sub in m.modules())


# --- state dicts -----------------------------------------------------------------------------------


def test_module_state_dict_round_trip():
    a, b = nn.MLP(2, [4, 1], seed=1), nn.MLP(2, [4, 1], seed=2)
    b.load_state_dict(a.state_dict())
    assert snapshot(a) == snapshot(b)


def test_module_state_dict_round_trips_through_json_text():
    a, b = nn.MLP(3, [5, 2], seed=1), nn.MLP(3, [5, 2], seed=2)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert snapshot(a) == snapshot(b)


def test_module_load_state_dict_missing_and_unexpected_keys_raise_and_change_nothing():
    m = nn.MLP(2, [2, 1], seed=0)
    before = snapshot(m)
    state = m.state_dict()
    del state["layers.0.neurons.0.b"]
    state["layers.9.w"] = 1.0
    state = {k: 0.0 for k in state}
    with pytest.raises(ValueError) as info:
        m.load_state_dict(state)
    assert "layers.0.neurons.0.b" in str(info.value) and "layers.9.w" in str(info.value)
    assert "missing" in str(info.value) and "unexpected" in str(info.value)
    assert snapshot(m) == before


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.5", None, True, [1.0], Value(1.0)])
def test_module_load_state_dict_bad_value_raises_and_changes_nothing(bad):
    m = nn.MLP(2, [2, 1], seed=0)
    before = snapshot(m)
    state = {k: 0.0 for k in m.state_dict()}
    state["layers.1.neurons.0.w.1"] = bad
    with pytest.raises(ValueError, match="layers.1.neurons.0.w.1"):
        m.load_state_dict(state)
    assert snapshot(m) == before


def test_module_load_state_dict_rejects_non_dict():
    with pytest.raises(TypeError, match="dict"):
        nn.MLP(2, [1]).load_state_dict([1.0, 2.0])


def test_module_load_state_dict_non_strict_reports_keys():
    m = nn.MLP(2, [1], seed=0)
    result = m.load_state_dict({"layers.0.neurons.0.w.0": 3.0, "other": 1.0}, strict=False)
    assert result.missing_keys == ["layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert result.unexpected_keys == ["other"]
    assert m.layers[0].neurons[0].w[0].data == 3.0


# --- files -----------------------------------------------------------------------------------------


def test_module_save_and_load_into_instance(tmp_path):
    a, b = nn.MLP(2, [8, 1], seed=1), nn.MLP(2, [8, 1], seed=2)
    path = tmp_path / "model.json"
    a.save(path)
    assert b.load(path) is b
    assert snapshot(a) == snapshot(b)
    assert os.listdir(tmp_path) == ["model.json"], "the temp file must be renamed, not left behind"


@pytest.mark.parametrize("make", [
    lambda: nn.MLP(3, [8, 8, 1], activation="tanh", seed=3, init="uniform"),
    lambda: nn.MLP(3, [4, 2], activation="leaky_relu", seed=3),
    lambda: nn.Linear(3, 2, seed=3),
    lambda: nn.Linear(3, 2, bias=False, seed=3),
    lambda: nn.Layer(3, 2, "sigmoid", seed=3),
    lambda: nn.Neuron(3, "linear", seed=3),
    lambda: nn.Sequential(nn.Linear(3, 4, seed=3), nn.ReLU(), nn.Linear(4, 4, seed=4), nn.Tanh(),
                          nn.Linear(4, 2, seed=5), nn.Sigmoid(), nn.LeakyReLU(0.2)),
], ids=["mlp-tanh", "mlp-leaky", "linear", "linear-nobias", "layer", "neuron", "sequential"])
def test_nn_load_rebuilds_a_new_equal_model(tmp_path, make):
    model = make()
    path = tmp_path / "m.json"
    model.save(path)
    rebuilt = nn.load(path)
    assert type(rebuilt) is type(model) and rebuilt is not model
    assert rebuilt.state_dict() == model.state_dict()
    assert repr(rebuilt) == repr(model)
    x = [0.3, -0.7, 1.1]
    out_a, out_b = model(x), rebuilt(x)
    out_a = out_a if isinstance(out_a, list) else [out_a]
    out_b = out_b if isinstance(out_b, list) else [out_b]
    assert [v.data for v in out_a] == [v.data for v in out_b]


def test_nn_load_does_not_touch_the_global_random_state(tmp_path):
    import random
    nn.MLP(2, [4, 1], seed=0).save(tmp_path / "m.json")
    random.seed(5)
    expected = random.random()
    random.seed(5)
    nn.load(tmp_path / "m.json")
    assert random.random() == expected


def test_nn_load_of_custom_module_says_to_build_it(tmp_path):
    Affine().save(tmp_path / "c.json")
    with pytest.raises(ValueError, match="model.load"):
        nn.load(tmp_path / "c.json")
    m = Affine()
    m.load(tmp_path / "c.json")


def _saved(tmp_path, model):
    path = tmp_path / "model.json"
    model.save(path)
    return path


def test_module_load_truncated_file_raises_and_changes_nothing(tmp_path):
    path = _saved(tmp_path, nn.MLP(2, [4, 1], seed=1))
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    m = nn.MLP(2, [4, 1], seed=2)
    before = snapshot(m)
    with pytest.raises(ValueError, match="truncated or corrupted"):
        m.load(path)
    with pytest.raises(ValueError, match="truncated or corrupted"):
        nn.load(path)
    assert snapshot(m) == before


def test_module_load_corrupted_number_fails_checksum_and_changes_nothing(tmp_path):
    path = _saved(tmp_path, nn.MLP(2, [4, 1], seed=1))
    payload = json.loads(path.read_text())
    key = next(iter(payload["state"]))
    payload["state"][key] += 1e-3
    path.write_text(json.dumps(payload))
    m = nn.MLP(2, [4, 1], seed=2)
    before = snapshot(m)
    with pytest.raises(ValueError, match="checksum"):
        m.load(path)
    assert snapshot(m) == before


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(b"\x00\xff\xfe garbage"),
    lambda p: p.write_text(""),
    lambda p: p.write_text("[1, 2, 3]"),
    lambda p: p.write_text('{"format": "something else"}'),
    lambda p: p.write_text(p.read_text().replace('"version": 2', '"version": 99')),
    lambda p: p.write_text(p.read_text().replace("0.", "NaN", 1)),
], ids=["binary", "empty", "list", "wrong-format", "wrong-version", "nan"])
def test_module_load_damaged_file_raises_clear_error_and_changes_nothing(tmp_path, damage):
    path = _saved(tmp_path, nn.MLP(2, [4, 1], seed=1))
    damage(path)
    m = nn.MLP(2, [4, 1], seed=2)
    before = snapshot(m)
    with pytest.raises(ValueError, match=str(path.name)):
        m.load(path)
    assert snapshot(m) == before


def test_module_load_other_architecture_lists_the_keys(tmp_path):
    path = _saved(tmp_path, nn.MLP(2, [4, 1], seed=1))
    m = nn.MLP(2, [3, 1], seed=2)
    before = snapshot(m)
    with pytest.raises(ValueError, match="unexpected keys"):
        m.load(path)
    assert snapshot(m) == before


def test_module_load_warns_when_the_saved_architecture_differs(tmp_path):
    path = _saved(tmp_path, nn.MLP(2, [4, 1], activation="tanh", seed=1))
    with pytest.warns(UserWarning, match="may compute something else"):
        nn.MLP(2, [4, 1], activation="relu", seed=2).load(path)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.MLP(2, [4, 1], activation="tanh", init="uniform").load(path)  # init does not matter


def test_module_save_refuses_nonfinite_weights_and_keeps_the_old_file(tmp_path):
    m = nn.MLP(2, [2, 1], seed=1)
    path = _saved(tmp_path, m)
    old = path.read_text()
    m.layers[0].neurons[0].b.data = float("nan")
    with pytest.raises(ValueError, match="not finite"):
        m.save(path)
    assert path.read_text() == old
    assert os.listdir(tmp_path) == ["model.json"]


def test_module_save_is_plain_json_with_architecture(tmp_path):
    path = _saved(tmp_path, nn.MLP(2, [4, 1], seed=1, activation="tanh"))
    payload = json.loads(path.read_text())
    assert payload["architecture"] == {"type": "MLP", "nin": 2, "nouts": [4, 1],
                                       "activation": "tanh", "init": "torch"}
    assert len(payload["state"]) == 4 * 3 + 5


# --- repr ------------------------------------------------------------------------------------------


def test_module_repr_is_readable():
    text = repr(nn.MLP(2, [16, 16, 1]))
    assert text.splitlines()[0] == "MLP(nin=2, nouts=[16, 16, 1], activation='relu', parameters=337"
    assert "(layers.0): Layer(nin=2, nout=16, activation='relu')" in text
    assert "(layers.2): Layer(nin=16, nout=1, activation='linear')" in text
    seq = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.LeakyReLU(0.2)))
    assert seq == ("Sequential(\n  (0): Linear(nin=2, nout=3, bias=True)\n  (1): ReLU()\n"
                   "  (2): LeakyReLU(slope=0.2)\n)")


def test_forward_hook_sees_args_and_output_and_can_be_removed():
    model = nn.MLP(2, [3, 1], seed=0)
    seen = []
    handle = model.layers[0].register_forward_hook(lambda m, args, out: seen.append((m, args, out)))
    out = model([1.0, 2.0])
    assert len(seen) == 1 and seen[0][0] is model.layers[0]
    assert [getattr(v, 'data', v) for v in seen[0][1][0]] == [1.0, 2.0]
    assert seen[0][2] == list(seen[0][2]) and len(seen[0][2]) == 3
    handle.remove()
    model([1.0, 2.0])
    assert len(seen) == 1, f"hook still called after remove(): {len(seen)} calls"
    assert isinstance(out, Value)


def test_forward_hook_return_value_replaces_output():
    model = nn.MLP(2, [1], seed=0)
    with model.register_forward_hook(lambda m, args, out: 42.0):
        assert model([1.0, 2.0]) == 42.0
    assert model([1.0, 2.0]) != 42.0


# --- declared parameters ---------------------------------------------------------------------------


class Scale(nn.Module):
    """A module whose forward stores what it computed, as users do for inspection."""

    def __init__(self):
        self.w = nn.Parameter(2.0)

    def forward(self, x):
        self.out = self.w * x
        self.outs = [self.out]
        return self.out


def test_module_value_stored_by_forward_is_not_a_parameter():
    m = Scale()
    before = list(m.state_dict())
    m(3.0)
    after = list(m.state_dict())
    assert before == after == ["w"], f"state_dict keys before/after forward: {before} / {after}"


def test_module_state_dict_after_forward_loads_into_a_fresh_copy():
    m = Scale()
    m(3.0)
    fresh = Scale()
    fresh.load_state_dict(m.state_dict())
    assert fresh.w.data == 2.0


def test_module_plain_value_attribute_is_not_a_parameter():
    m = nn.Module()
    m.constant = Value(1.0)
    m.weight = nn.Parameter(2.0)
    assert [n for n, _ in m.named_parameters()] == ["weight"]


def test_parameter_is_a_plain_value_that_knows_it_is_one():
    p = nn.Parameter(1.5, label="w")
    assert type(p) is Value and p.is_parameter and isinstance(p, nn.Parameter)
    assert p.data == 1.5 and p.label == "w" and not hasattr(p, "__dict__")
    assert repr(p).startswith("Parameter(data=1.5")
    assert not isinstance(p * 2.0, nn.Parameter), "results of ops are not parameters"
    assert not isinstance(Value(1.5), nn.Parameter) and not isinstance(1.5, nn.Parameter)


def test_parameter_survives_copy_and_pickle():
    import copy
    import pickle
    p = nn.Parameter(2.0, label="b")
    for q in (copy.copy(p), copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert q is not p and isinstance(q, nn.Parameter) and (q.data, q.label) == (2.0, "b")
    model = copy.deepcopy(nn.MLP(2, [2, 1], seed=0))
    assert len(model.parameters()) == 9


def test_module_list_filled_after_assignment_is_found():
    m = nn.Module()
    m.blocks = []
    m.blocks.append(nn.Linear(2, 1, seed=0))
    m.scales = []
    m.scales.append(nn.Parameter(3.0))
    assert [n for n, _ in m.named_parameters()] == ["blocks.0.weight.0.0", "blocks.0.weight.0.1",
                                                      "blocks.0.bias.0", "scales.0"]


def test_module_reassigned_or_deleted_attribute_is_no_longer_a_parameter():
    m = nn.Module()
    m.a, m.b = nn.Parameter(1.0), nn.Parameter(2.0)
    m.a = None
    del m.b
    assert m.named_parameters() == []


def test_module_parameter_order_follows_first_assignment():
    m = nn.Module()
    m.first, m.second = nn.Parameter(1.0), nn.Parameter(2.0)
    m.first = nn.Parameter(3.0)  # re-assigned: keeps its place, as in vars()
    assert [(n, p.data) for n, p in m.named_parameters()] == [("first", 3.0), ("second", 2.0)]


def test_module_builtin_layers_declare_parameters():
    m = nn.MLP(2, [3, 1], seed=0)
    assert all(isinstance(p, nn.Parameter) for p in m.parameters())
    assert all(isinstance(p, nn.Parameter) for p in nn.Linear(2, 2, seed=0).parameters())


def test_module_v1_checkpoint_keys_are_unchanged(tmp_path):
    import pathlib
    fixture = pathlib.Path(__file__).parent / "fixtures" / "mlp_v1.json"
    saved = json.loads(fixture.read_text())["state"]
    assert list(nn.MLP(2, [3, 1], activation="tanh").state_dict()) == list(saved)
