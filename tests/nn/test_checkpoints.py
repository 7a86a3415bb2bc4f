"""Checkpoints safe to load from strangers: sizes checked before building, a checksum over
architecture and weights, a depth limit, kept file modes, temp files of killed saves cleaned up."""

import json
import os
import pathlib
import random
import stat
import subprocess
import sys

import pytest

import nn
from nn import serialization
from tests.helpers import REPO

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
ROOT = REPO


def _hostile(tmp_path, architecture, state=None):
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"format": serialization.FORMAT, "version": 2,
                                "architecture": architecture, "state": state or {}}))
    return path


def _refuse_building(monkeypatch):
    def build(config):
        raise AssertionError(f"nn.load built {config['type']} before checking its size")
    monkeypatch.setattr(serialization, "build", build)


# --- sizes checked before anything is built --------------------------------------------------------


def test_load_refuses_a_huge_architecture_with_no_weights_before_building(tmp_path, monkeypatch):
    path = tmp_path / "small.json"
    path.write_text('{"format":"autograd-core/module","version":1,"architecture":{"type":"MLP",'
                    '"nin":2000,"nouts":[2000,2000,2000]},"state":{}}')
    assert path.stat().st_size < 140
    _refuse_building(monkeypatch)
    with pytest.raises(ValueError, match="has 12006000 parameters but the file holds 0 weights"):
        nn.load(path)


@pytest.mark.parametrize("architecture,count", [
    ({"type": "MLP", "nin": 10 ** 9, "nouts": [1]}, 10 ** 9 + 1),
    ({"type": "Linear", "nin": 10 ** 9, "nout": 10 ** 9, "bias": True}, 10 ** 18 + 10 ** 9),
    ({"type": "Sequential", "modules": [{"type": "Layer", "nin": 10 ** 6, "nout": 3}]}, 3000003),
])
def test_load_refuses_an_architecture_bigger_than_its_weights(tmp_path, monkeypatch, architecture,
                                                              count):
    _refuse_building(monkeypatch)
    with pytest.raises(ValueError, match=f"has {count} parameters but the file holds 1 weights"):
        nn.load(_hostile(tmp_path, architecture, {"w": 0.5}))


@pytest.mark.parametrize("architecture,error", [
    ({"type": "MLP", "nin": "2", "nouts": [1]}, "nin must be a whole number"),
    ({"type": "MLP", "nin": 2, "nouts": 5}, "nouts must be a list"),
    ({"type": "Linear", "nin": 0, "nout": 1}, "nin must be at least 1"),
    ({"type": "Sequential", "modules": "x"}, "must be a list"),
    ({"type": "Pickle", "code": "rm -rf"}, "unknown module type 'Pickle'"),
    ({"nin": 2}, "a dict with a \"type\""),
])
def test_load_refuses_a_malformed_architecture_naming_the_problem(tmp_path, architecture, error):
    with pytest.raises(ValueError, match=error):
        nn.load(_hostile(tmp_path, architecture))


def test_load_still_checks_keys_when_the_count_matches(tmp_path):
    state = {f"k{i}": 0.0 for i in range(3)}
    with pytest.raises(ValueError, match="unexpected keys"):
        nn.load(_hostile(tmp_path, {"type": "Neuron", "nin": 2, "activation": "relu"}, state))


# --- the checksum covers architecture and weights --------------------------------------------------


@pytest.mark.parametrize("make,old,new", [
    (lambda: nn.MLP(2, [3, 1], activation="relu", seed=0), '"activation": "relu"',
     '"activation": "sigmoid"'),
    (lambda: nn.Sequential(nn.Linear(2, 2, seed=0), nn.LeakyReLU(0.01)), '"slope": 0.01',
     '"slope": 100.0'),
])
def test_load_detects_an_edited_architecture(tmp_path, make, old, new):
    path = tmp_path / "m.json"
    make().save(path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(ValueError, match="checksum"):
        nn.load(path)
    with pytest.raises(ValueError, match="checksum"):
        make().load(path)


# --- old checkpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize("name,x,expected", [
    ("mlp_v1.json", [0.5, -0.25], -0.3879109351843707),
    ("sequential_v1.json", [0.5, -0.25], 0.3659975749481278),
])
def test_load_reads_version_1_checkpoints(name, x, expected):
    model = nn.load(FIXTURES / name)
    out = model(x)
    got = (out[0] if isinstance(out, list) else out).data
    assert got == expected, f"{name}: expected {expected}, got {got}"


def test_load_version_1_checksum_still_guards_the_weights(tmp_path):
    payload = json.loads((FIXTURES / "mlp_v1.json").read_text())
    key = next(iter(payload["state"]))
    payload["state"][key] += 1e-3
    path = tmp_path / "m.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="checksum"):
        nn.load(path)


def test_save_writes_version_2(tmp_path):
    nn.MLP(2, [1], seed=0).save(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text())["version"] == 2


# --- nesting depth ---------------------------------------------------------------------------------


TOO_DEEP = f"nests modules 400 deep; the limit is {serialization.MAX_DEPTH}"


def _nested(depth):
    model = nn.Linear(2, 2, seed=0)
    for _ in range(depth - 1):
        model = nn.Sequential(model)
    return model


def test_save_and_load_work_at_the_depth_limit(tmp_path):
    model = _nested(serialization.MAX_DEPTH)
    model.save(tmp_path / "deep.json")
    rebuilt = nn.load(tmp_path / "deep.json")
    assert rebuilt.state_dict() == model.state_dict()


def test_save_refuses_a_model_nested_past_the_limit(tmp_path):
    with pytest.raises(ValueError, match=TOO_DEEP):
        _nested(400).save(tmp_path / "deep.json")
    assert os.listdir(tmp_path) == []


def test_load_refuses_a_file_nested_past_the_limit_with_the_same_message(tmp_path):
    architecture = {"type": "Linear", "nin": 2, "nout": 2, "bias": True}
    for _ in range(399):
        architecture = {"type": "Sequential", "modules": [architecture]}
    state = {"0." * 399 + name: 0.0 for name in ("weight.0.0", "weight.0.1", "weight.1.0",
                                                 "weight.1.1", "bias.0", "bias.1")}
    with pytest.raises(ValueError, match=TOO_DEEP):
        nn.load(_hostile(tmp_path, architecture, state))


# --- file modes and temp files ---------------------------------------------------------------------


def test_save_over_a_private_file_keeps_it_private(tmp_path):
    path = tmp_path / "m.json"
    nn.MLP(2, [1], seed=0).save(path)
    os.chmod(path, 0o600)
    nn.MLP(2, [1], seed=1).save(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"expected 0o600, got {oct(mode)}"


def test_save_of_a_new_file_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        nn.MLP(2, [1], seed=0).save(tmp_path / "m.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o640


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.slow
def test_save_cleans_temp_files_of_killed_saves_and_keeps_live_ones(tmp_path):
    dead = tmp_path / f".m.json.{_dead_pid()}-abcd1234.nn-save.tmp"
    live = tmp_path / f".m.json.{os.getppid()}-abcd1234.nn-save.tmp"  # a save in progress elsewhere
    other = tmp_path / ".notes.tmp"
    for p in (dead, live, other):
        p.write_text("{")
    nn.MLP(2, [1], seed=0).save(tmp_path / "other.json")
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, other.name, "other.json"])


SAVER = """
import sys
import nn
model = nn.MLP(2, [64, 64, 1], seed=0)
print("ready", flush=True)
k = 0
while True:
    k += 1
    model.layers[0].neurons[0].b.data = float(k)
    model.save(sys.argv[1])
"""


@pytest.mark.slow
def test_save_killed_at_random_moments_leaves_a_loadable_file_and_no_litter(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [64, 64, 1], seed=0).save(path)
    rng = random.Random(0)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    litter_seen = 0
    for kill in range(30):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE,
                                 env=env, text=True)
        assert child.stdout.readline().strip() == "ready"
        try:
            child.wait(timeout=rng.uniform(0.0, 0.3))
        except subprocess.TimeoutExpired:
            child.kill()
        child.wait()
        child.stdout.close()
        model = nn.load(path)  # never half a file
        assert len(model.state_dict()) == 64 * 3 + 65 * 64 + 65, f"kill {kill}: wrong model"
        litter_seen += any(name.endswith(".nn-save.tmp") for name in os.listdir(tmp_path))
    nn.MLP(2, [1], seed=0).save(tmp_path / "next.json")
    left = sorted(os.listdir(tmp_path))
    assert left == ["model.json", "next.json"], (f"after the next save ({litter_seen} of 30 kills "
                                                 f"left temp files): {left}")
