"""Saving and loading models as JSON: never pickle (loading a pickle runs arbitrary code).

A checkpoint holds a format tag, the architecture (`Module.config()`, enough for `nn.load` to rebuild
the built-in models), the weights (`state_dict()`), and a SHA-256 of the weights so a damaged file is
refused before anything changes. Files are written to a temp file in the same folder, then renamed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile

FORMAT = "autograd-core/module"
VERSION = 1


def _checksum(state: dict) -> str:
    text = json.dumps(state, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_json_atomic(path, payload: dict) -> None:
    """Write `payload` as JSON to `path` so that readers see the old file or the new one, never half."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private (0600); give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_module(module, path) -> None:
    """Write `module`'s architecture and weights to `path` (see the module docstring)."""
    state = module.state_dict()
    bad = [name for name, value in state.items() if not math.isfinite(value)]
    if bad:
        raise ValueError(f"cannot save {type(module).__name__}: parameter(s) {', '.join(bad[:8])} "
                         f"are not finite (NaN or inf); training probably diverged, so lower the "
                         f"learning rate and retrain from the last good checkpoint")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": module.config(),
        "state": state,
        "sha256": _checksum(state),
    }
    write_json_atomic(path, payload)


def read_checkpoint(path) -> dict:
    """Read and check a file written by `save()`; raise ValueError saying what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file; expected JSON written by Module.save()") from None
    try:
        payload = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path}: not valid JSON ({exc}); the file is truncated or corrupted. "
                         f"Nothing was loaded; save the model again or use another checkpoint.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a model file written by Module.save() "
                         f"(expected \"format\": \"{FORMAT}\")")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path}: model file version {payload.get('version')!r} is not supported "
                         f"(this library reads version {VERSION})")
    state = payload.get("state")
    if not isinstance(state, dict):
        raise ValueError(f"{path}: \"state\" must be a dict of parameter name -> number")
    if "sha256" in payload and payload["sha256"] != _checksum_or_none(state):
        raise ValueError(f"{path}: the weights do not match the file's checksum: the file was corrupted "
                         f"or edited. Nothing was loaded. (To load hand-edited weights on purpose, "
                         f"delete the \"sha256\" line.)")
    return payload


def _checksum_or_none(state: dict):
    try:
        return _checksum(state)
    except (TypeError, ValueError):
        return None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a valid weight")


# --- rebuilding built-in models (nn.load) ----------------------------------------------------------


def build(config) -> object:
    """A new module from a `config()` dict (MLP, Layer, Neuron, Linear, activations, Sequential)."""
    from . import layers

    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise ValueError(f"architecture must be a dict with a \"type\", got {config!r:.80}")
    kind = config["type"]
    args = {k: v for k, v in config.items() if k != "type"}
    builders = {
        "MLP": lambda nin, nouts, activation="relu", init="torch":
            layers.MLP(nin, nouts, activation, seed=0, init=init),
        "Layer": lambda nin, nout, activation="relu", init="torch":
            layers.Layer(nin, nout, activation, seed=0, init=init),
        "Neuron": lambda nin, activation="relu", init="torch":
            layers.Neuron(nin, activation, seed=0, init=init),
        "Linear": lambda nin, nout, bias=True: layers.Linear(nin, nout, bias, seed=0),
        "ReLU": layers.ReLU,
        "Tanh": layers.Tanh,
        "Sigmoid": layers.Sigmoid,
        "LeakyReLU": lambda slope=0.01: layers.LeakyReLU(slope),
        "Sequential": lambda modules: layers.Sequential(*[build(c) for c in _as_list(modules)]),
    }
    if kind not in builders:
        raise ValueError(f"unknown module type {kind!r} in the architecture; nn.load rebuilds "
                         f"{', '.join(builders)}. For your own Module class, build it and call "
                         f"model.load(path).")
    try:
        return builders[kind](**args)
    except TypeError as exc:
        raise ValueError(f"bad architecture for {kind}: {exc}") from None


def _as_list(modules) -> list:
    if not isinstance(modules, list):
        raise ValueError(f"Sequential \"modules\" must be a list, got {type(modules).__name__}")
    return modules


def load(path):
    """A NEW model rebuilt from a file written by `save()`, with its weights loaded."""
    checkpoint = read_checkpoint(path)
    config = checkpoint.get("architecture")
    if config is None:
        raise ValueError(f"{path} holds the weights of a custom Module (no architecture recorded); "
                         f"build the model yourself and call model.load(path)")
    try:
        model = build(config)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    try:
        model.load_state_dict(checkpoint["state"])
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return model
