"""`Module` and `Parameter`: the base class of every model, as in PyTorch's `torch.nn.Module`.

Parameters are declared: assigning a `Parameter` (or a Module, or a list/tuple/dict of them) to a
public attribute registers it, so a Value that `forward` stores is never a parameter. State goes in
and out as a name -> float dict, or as a JSON file (serialization.py). Read layers.py next;
notebook 04 builds one.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterator, Mapping, NamedTuple

from autograd_core import Value

from . import validation
from .serialization import read_checkpoint, save_module


class Parameter(Value):
    """A Value that is a model's parameter (torch.nn.Parameter): a Module attribute registers it."""

    __slots__ = ()  # no per-instance cost: a Parameter is exactly as big as a Value

    def __repr__(self) -> str:
        return "Parameter" + Value.__repr__(self)[len("Value"):]


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped: keys the model has but the dict lacks, and back."""

    missing_keys: list
    unexpected_keys: list


class RemovableHandle:
    """What `register_forward_hook` returns: `remove()` takes the hook off again (idempotent)."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Stop calling the hook."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Module:
    """Base class for models: subclass it, assign Parameters and submodules, write `forward`.

    Assigning a `Parameter`, a Module, or a list/tuple/dict (of them) to a public attribute registers
    the attribute; `parameters()` walks the registered ones, in assignment order. Plain Values, and
    attributes whose names start with "_", are never parameters.
    """

    training: bool = True
    _forward_hooks: dict = {}  # shared empty default; register_forward_hook gives a module its own
    _members: dict = {}  # shared empty default; the first registered attribute gives a module its own

    def __setattr__(self, name: str, value) -> None:
        if not name.startswith("_"):
            members = self.__dict__.get("_members")
            if isinstance(value, _MEMBER_TYPES):
                if members is None:
                    members = self.__dict__["_members"] = {}
                members[name] = None  # an ordered set: the names of registered attributes
            elif members is not None:
                members.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        self.__dict__.get("_members", {}).pop(name, None)

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        return self._call_hooks(args, out) if self._forward_hooks else out

    def _call_hooks(self, args: tuple, out):
        """Run the forward hooks on (args, out); a hook's non-None return replaces `out`."""
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook) -> "RemovableHandle":
        """Call `hook(module, args, output)` after every forward; a non-None return replaces the
        output (PyTorch's `register_forward_hook`). Returns a handle: `handle.remove()` undoes it."""
        if not callable(hook):
            raise TypeError(f"register_forward_hook expects a function hook(module, args, output), "
                            f"got {type(hook).__name__}")
        if "_forward_hooks" not in vars(self):
            self._forward_hooks = {}
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...)")

    # --- finding parameters and submodules --------------------------------------------------------

    def _walk(self, prefix: str, seen_modules: set, seen_values: set, params: list, modules: list):
        seen_modules.add(id(self))
        modules.append((prefix, self))
        attrs = self.__dict__
        for name in self._members:
            _walk_attr(attrs[name], _join(prefix, name), seen_modules, seen_values, params, modules)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(dotted name, Parameter) for every declared parameter, in assignment order; shared once."""
        params: list = []
        self._walk("", set(), set(), params, [])
        return params

    def parameters(self) -> list[Parameter]:
        """Every declared Parameter, in the same order as `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

    def named_modules(self) -> list[tuple[str, "Module"]]:
        """(dotted name, Module) for this module ("") and every submodule below it."""
        modules: list = []
        self._walk("", set(), set(), [], modules)
        return modules

    def modules(self) -> list["Module"]:
        """This module and every submodule below it."""
        return [m for _, m in self.named_modules()]

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0: gradients of leaves accumulate across backward()."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> "Module":
        """Put this module and all its submodules in training mode (`training = mode`)."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    # --- state ------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """{parameter name: its float value}, in `named_parameters()` order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from `state_dict` into the parameters; validate everything first.

        Raises (and changes nothing) when a value is not a finite real number, or, with
        `strict=True`, when keys are missing or unexpected. With `strict=False` matching keys are
        loaded and the others reported in the returned `(missing_keys, unexpected_keys)`.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a dict of name -> float, got "
                            f"{type(state_dict).__name__}")
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state_dict]
        unexpected = [key for key in state_dict if key not in params]
        bad = []
        for key, value in state_dict.items():
            if key in params and not _is_finite_real(value):
                bad.append(f"{key}={value!r:.40}")
        problems = []
        if strict and missing:
            problems.append(f"missing keys ({len(missing)}): {_preview(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys ({len(unexpected)}): {_preview(unexpected)}")
        if bad:
            problems.append(f"values that are not finite real numbers ({len(bad)}): {_preview(bad)}")
        if problems:
            raise ValueError(f"cannot load state into {type(self).__name__}; nothing was changed. "
                             + "; ".join(problems)
                             + ". Check that the dict comes from the same architecture "
                               "(compare with model.state_dict().keys()).")
        for name, p in params.items():
            if name in state_dict:
                p.data = float(state_dict[name])
        return IncompatibleKeys(missing, unexpected)

    def save(self, path) -> None:
        """Write architecture and weights to `path` as JSON, atomically (temp file + os.replace)."""
        save_module(self, path)

    def load(self, path) -> "Module":
        """Load weights saved by `save()` into this model; a bad or damaged file changes nothing."""
        checkpoint = read_checkpoint(path)
        try:
            self.load_state_dict(checkpoint["state"])
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        saved, mine = checkpoint.get("architecture"), self.config()
        if saved is not None and mine is not None and _without_init(saved) != _without_init(mine):
            warnings.warn(f"{path} was saved from {saved}, but this model is {mine}: the weights fit, "
                          f"yet the model may compute something else (nn.load(path) rebuilds the "
                          f"saved one)", stacklevel=2)
        return self

    # --- architecture (for nn.load) and repr ------------------------------------------------------

    def config(self) -> dict | None:
        """What `nn.load` needs to rebuild this module, or None for a custom module."""
        return None

    def extra_repr(self) -> str:
        """The settings shown inside this module's `repr` parentheses."""
        return ""

    def _children(self) -> Iterator[tuple[str, "Module"]]:
        for name in self._members:
            attr = self.__dict__[name]
            if isinstance(attr, Module):
                yield name, attr
            elif isinstance(attr, (list, tuple)) and attr and all(isinstance(a, Module) for a in attr):
                for i, a in enumerate(attr):
                    yield f"{name}.{i}", a

    def __repr__(self) -> str:
        children = list(self._children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = []
        for name, child in children:
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        return head + "\n" + "\n".join(lines) + "\n)"


_MEMBER_TYPES = (Parameter, Module, list, tuple, dict)


def _walk_attr(attr, name, seen_modules, seen_values, params, modules) -> None:
    if isinstance(attr, Parameter):
        if id(attr) not in seen_values:
            seen_values.add(id(attr))
            params.append((name, attr))
    elif isinstance(attr, Module):
        if id(attr) not in seen_modules:
            attr._walk(name, seen_modules, seen_values, params, modules)
    elif isinstance(attr, (list, tuple)):
        for i, item in enumerate(attr):
            _walk_attr(item, _join(name, str(i)), seen_modules, seen_values, params, modules)
    elif isinstance(attr, dict):
        for key, item in attr.items():
            if isinstance(key, str):
                _walk_attr(item, _join(name, key), seen_modules, seen_values, params, modules)


def _is_finite_real(x) -> bool:
    try:
        validation.real("weight", x)
    except (TypeError, ValueError):
        return False
    return True


def _without_init(config):
    # the init scheme does not change what a loaded model computes
    if isinstance(config, dict):
        return {k: _without_init(v) for k, v in config.items() if k != "init"}
    if isinstance(config, list):
        return [_without_init(c) for c in config]
    return config


def _preview(items: list, limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")
