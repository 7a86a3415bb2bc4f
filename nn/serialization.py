"""Saving and loading models as JSON: never pickle (loading a pickle runs arbitrary code).

A checkpoint holds a format tag, the architecture (`Module.config()`), the weights (`state_dict()`)
and a SHA-256 of both. Loading checks the file before anything is built: the checksum, the nesting
depth, and that the architecture's parameter count matches the weights. Module types rebuild
themselves through a registry (`register`), so this file imports no layer. Files are written to a
temp file in the same folder, then renamed; the next save cleans up temp files of killed saves.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tempfile
import time

FORMAT = "autograd-core/module"
VERSION = 2  # 2: the checksum covers architecture and weights; 1: the weights only (still read)
MAX_DEPTH = 100  # modules nested deeper than this are refused, by save and by load alike

_TYPES: dict[str, type] = {}
_TEMP_SUFFIX = ".nn-save.tmp"
_TEMP_NAME = re.compile(r"^\..*\.(\d+)-[^.]+" + re.escape(_TEMP_SUFFIX) + "$")
_STALE_SECONDS = 24 * 3600  # where process ids cannot be checked, a temp file this old is left over


# --- the registry of module types ------------------------------------------------------------------


def register(cls: type) -> type:
    """Class decorator: let `nn.load` rebuild `cls` from its `config()`.

    `cls` provides `from_config(config)` (a new module) and `parameter_count(config)` (how many
    weights that config has, computed without building anything, ValueError/TypeError if invalid).
    """
    _TYPES[cls.__name__] = cls
    return cls


def _module_type(config) -> type:
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise ValueError(f"architecture must be a dict with a \"type\", got {config!r:.80}")
    kind = config["type"]
    if kind not in _TYPES:
        raise ValueError(f"unknown module type {kind!r:.40} in the architecture; nn.load rebuilds "
                         f"{', '.join(sorted(_TYPES))}. For your own Module class, build it and call "
                         f"model.load(path).")
    return _TYPES[kind]


def settings(config: dict) -> dict:
    """The config without its "type": the keyword arguments of the module's constructor."""
    return {k: v for k, v in config.items() if k != "type"}


def parameter_count(config) -> int:
    """How many weights the module that `config` describes has, without building it."""
    kind = _module_type(config)
    try:
        return kind.parameter_count(config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad architecture for {config['type']}: {exc}") from None


def build(config) -> object:
    """A new module from a `config()` dict, through the registry."""
    kind = _module_type(config)
    try:
        return kind.from_config(config)
    except TypeError as exc:
        raise ValueError(f"bad architecture for {config['type']}: {exc}") from None


def nesting_depth(config) -> int:
    """How deeply module configs nest inside `config` (1 for a plain layer); iterative."""
    deepest, stack = 0, [(config, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            depth += "type" in item
            deepest = max(deepest, depth)
            stack.extend((v, depth) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth) for v in item)
    return deepest


def _check_depth(config) -> None:
    depth = nesting_depth(config)
    if depth > MAX_DEPTH:
        raise ValueError(f"the architecture nests modules {depth} deep; the limit is {MAX_DEPTH} "
                         f"(nn.serialization.MAX_DEPTH). Flatten nested Sequentials into one.")


# --- writing ---------------------------------------------------------------------------------------


def _checksum(architecture, state: dict) -> str:
    payload = {"architecture": architecture, "state": state}
    text = json.dumps(payload, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checksum_v1(state: dict) -> str:
    text = json.dumps(state, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _new_file_mode(path: str) -> int:
    """The existing file's permission bits, or a new file's (0666 minus the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def clean_leftovers(folder: str) -> list[str]:
    """Delete temp files of saves into `folder` that were killed mid-write; return their names."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or int(match.group(1)) == os.getpid():
            continue  # not ours, or a save in progress in this process
        path = os.path.join(folder, name)
        try:
            if os.name == "posix":
                stale = not _process_alive(int(match.group(1)))
            else:  # os.kill would end the process there: judge by age instead
                stale = time.time() - os.stat(path).st_mtime > _STALE_SECONDS
            if stale:
                os.unlink(path)
                removed.append(name)
        except OSError:
            pass  # another save cleaned it first
    return removed


def write_json_atomic(path, payload: dict) -> None:
    """Write `payload` as JSON to `path` so that readers see the old file or the new one, never half.

    The file keeps the mode of the one it replaces; temp files of killed earlier saves are removed.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    clean_leftovers(folder)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.{os.getpid()}-",
                               suffix=_TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_module(module, path) -> None:
    """Write `module`'s architecture and weights to `path` (see the module docstring)."""
    architecture = module.config()
    if architecture is not None:
        _check_depth(architecture)
    state = module.state_dict()
    bad = [name for name, value in state.items() if not math.isfinite(value)]
    if bad:
        raise ValueError(f"cannot save {type(module).__name__}: parameter(s) {', '.join(bad[:8])} "
                         f"are not finite (NaN or inf); training probably diverged, so lower the "
                         f"learning rate and retrain from the last good checkpoint")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture,
        "state": state,
        "sha256": _checksum(architecture, state),
    }
    write_json_atomic(path, payload)


# --- reading ---------------------------------------------------------------------------------------


def _parse(path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file; expected JSON written by Module.save()") from None
    try:
        payload = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path}: not valid JSON ({exc}); the file is truncated or corrupted. Nothing "
                         f"was loaded; save the model again or use another checkpoint.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a model file written by Module.save() "
                         f"(expected \"format\": \"{FORMAT}\")")
    if payload.get("version") not in (1, VERSION):
        raise ValueError(f"{path}: model file version {payload.get('version')!r:.20} is not supported "
                         f"(this library reads versions 1 and {VERSION})")
    return payload


def read_checkpoint(path) -> dict:
    """Read and check a file written by `save()`; raise ValueError saying what is wrong with it.

    Checked: JSON, format, version, the checksum (of architecture and weights; weights only in
    version 1 files), the nesting depth, and that the architecture has as many weights as the file.
    """
    payload = _parse(path)
    state, architecture = payload.get("state"), payload.get("architecture")
    if not isinstance(state, dict):
        raise ValueError(f"{path}: \"state\" must be a dict of parameter name -> number")
    if "sha256" in payload:
        expected = _checksum_or_none(architecture, state, payload["version"])
        if payload["sha256"] != expected:
            raise ValueError(f"{path}: the architecture or weights do not match the file's checksum: "
                             f"the file was corrupted or edited. Nothing was loaded. (To load a "
                             f"hand-edited file on purpose, delete the \"sha256\" line.)")
    if architecture is not None:
        try:
            _check_depth(architecture)
            count = parameter_count(architecture)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        if count != len(state):
            raise ValueError(f"{path}: the architecture ({architecture['type']}) has {count} "
                             f"parameters but the file holds {len(state)} weights; nothing was built "
                             f"or loaded. The file is damaged or was not written by Module.save().")
    return payload


def _checksum_or_none(architecture, state: dict, version: int):
    try:
        return _checksum(architecture, state) if version == VERSION else _checksum_v1(state)
    except (TypeError, ValueError):
        return None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a valid weight")


def load(path):
    """A NEW model rebuilt from a file written by `save()`, with its weights loaded."""
    checkpoint = read_checkpoint(path)
    config = checkpoint.get("architecture")
    if config is None:
        raise ValueError(f"{path} holds the weights of a custom Module (no architecture recorded); "
                         f"build the model yourself and call model.load(path)")
    try:
        model = build(config)
        model.load_state_dict(checkpoint["state"])
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return model
