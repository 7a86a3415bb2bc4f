"""Per-layer diagnostics: what each layer's activations, gradients and updates look like in training.

`Diagnostics` puts a forward hook on every layer and, after each backward pass and update, records
per layer: the activations' mean, std and saturated fraction, the fraction of dead ReLUs, the
gradients of the layer's outputs and of its weights, and the update-to-data ratio. It is a `fit`
callback or a context manager for your own loop; `diagnose` does one pass. Read notebook 05b.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from autograd_core import Value, is_grad_enabled

from .. import validation
from ..layers import Layer, LeakyReLU, Linear, Neuron, ReLU, Sigmoid, Tanh
from ..module import Module
from .callbacks import Callback
from .evaluation import loss_function

__all__ = ["Diagnostics", "LayerTrace", "diagnose", "find_layers", "layer_kind"]

SATURATION = 0.97  # tanh is saturated where |a| > 0.97; sigmoid where a < 0.03 or a > 0.97
STATS = ("mean", "std", "saturated", "dead", "grad_mean", "grad_std",
         "weight_grad_mean", "weight_grad_std", "update_ratio")


# --- which modules are the layers, and what they compute -------------------------------------------


def find_layers(model: Module) -> list[tuple[str, Module]]:
    """(name, module) of the model's layers: MLP's Layers, Sequential's children, a custom
    module's innermost submodules (a submodule is entered unless it is a `Layer` or has none)."""
    if not isinstance(model, Module):
        raise TypeError(f"find_layers expects an nn Module, got {type(model).__name__}")
    chosen: list[tuple[str, Module]] = []
    for name, module in model.named_modules()[1:]:
        inside = any(name.startswith(parent + ".") for parent, _ in chosen)
        if not inside and (isinstance(module, Layer) or len(module.named_modules()) == 1):
            chosen.append((name, module))
    return chosen or [("(model)", model)]


def layer_kind(module: Module) -> str:
    """The nonlinearity a layer ends with: 'relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear' or
    'other' (a custom module: mean and std only)."""
    if isinstance(module, (Layer, Neuron)):
        return module.activation
    kinds = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid", LeakyReLU: "leaky_relu", Linear: "linear"}
    return kinds.get(type(module), "other")


def _weights(module: Module) -> list[Value]:
    """A layer's weights: its parameters except biases (named `b` or `bias`), or all if that is none."""
    named = module.named_parameters()
    weights = [p for name, p in named
               if next(part for part in reversed(name.split(".")) if not part.isdigit())
               not in ("b", "bias")]
    return weights or [p for _, p in named]


# --- statistics ------------------------------------------------------------------------------------


def _mean_std(xs: list) -> tuple[float, float]:
    """Mean and population standard deviation (ddof=0), NaN for an empty list."""
    n = len(xs)
    if not n:
        return math.nan, math.nan
    mean = sum(xs) / n
    return mean, math.sqrt(sum([(x - mean) * (x - mean) for x in xs]) / n)


def _flat(output) -> list:
    """The Values of one sample's layer output (a Value, or a list of them, nested or not)."""
    if isinstance(output, Value):
        return [output]
    if isinstance(output, (list, tuple)):
        if all(type(v) is Value for v in output):  # a layer's list of outputs: the usual case
            return output
        return [v for item in output for v in _flat(item)]
    return []


def _float(g) -> float:
    return g if type(g) is float else float(g)  # a Value after backward(create_graph=True)


def _saturated(kind: str, values: list) -> float | None:
    if not values or kind not in ("tanh", "sigmoid"):
        return None
    low, high = (-SATURATION, SATURATION) if kind == "tanh" else (1.0 - SATURATION, SATURATION)
    return sum(1 for v in values if v < low or v > high) / len(values)


def _dead(kind: str, rows: list) -> float | None:
    """The fraction of ReLU units that output 0 for every sample of the batch."""
    if not rows or kind != "relu" or len({len(row) for row in rows}) != 1 or not rows[0]:
        return None
    dead = sum(1 for unit in zip(*rows) if not any(unit))
    return dead / len(rows[0])


def _update_ratio(before: list, after: list) -> float | None:
    """log10(std(update) / std(data)) of one parameter group; -inf if nothing moved."""
    if len(before) < 2:
        return None
    _, data_std = _mean_std(before)
    _, update_std = _mean_std([a - b for a, b in zip(after, before)])
    if data_std == 0.0:
        return math.inf if update_std > 0.0 else None
    return math.log10(update_std / data_std) if update_std > 0.0 else -math.inf


# --- what is recorded ------------------------------------------------------------------------------


@dataclass
class LayerTrace:
    """One layer's statistics, one entry per recorded step (None where a statistic does not apply:
    `saturated` for tanh/sigmoid, `dead` for ReLU, weight statistics for layers with weights).
    `values`, `grads` and `weight_grads` are the raw numbers of the last recorded step."""

    name: str
    kind: str
    mean: list = field(default_factory=list)
    std: list = field(default_factory=list)
    saturated: list = field(default_factory=list)
    dead: list = field(default_factory=list)
    grad_mean: list = field(default_factory=list)
    grad_std: list = field(default_factory=list)
    weight_grad_mean: list = field(default_factory=list)
    weight_grad_std: list = field(default_factory=list)
    update_ratio: list = field(default_factory=list)
    values: list = field(default_factory=list, repr=False)
    grads: list = field(default_factory=list, repr=False)
    weight_grads: list = field(default_factory=list, repr=False)

    def last(self) -> dict:
        """{statistic: its value at the last recorded step}."""
        return {stat: getattr(self, stat)[-1] if getattr(self, stat) else None for stat in STATS}


# --- the recorder ----------------------------------------------------------------------------------


class Diagnostics(Callback):
    """Per-layer statistics of training, recorded through forward hooks on the model's layers.

    As a `fit` callback: `diag = Diagnostics(); fit(..., callbacks=[diag])` records every `every`
    steps and takes its hooks off at the end. In your own loop: `with Diagnostics(model) as diag:`
    then, each step, forward, backward, `optimizer.step()`, `diag.record()`. Results: `diag.steps`
    and `diag.layers[name]` (a `LayerTrace`); `diag.table()` prints the last step.
    """

    def __init__(self, model: Module | None = None, *, layers=None, every: int = 1) -> None:
        self.every = validation.positive_int("Diagnostics: every", every)
        self.model: Module | None = None
        self.steps: list[int] = []
        self.layers: dict[str, LayerTrace] = {}
        self._layer_spec = layers
        self._layers: list[tuple[str, Module]] = []
        self._weights: dict[Module, list] = {}
        self._captured: dict[Module, list] = {}
        self._before: dict[Module, list] = {}
        self._handles: list = []
        self._capturing = False
        self._owned_by_fit = False
        self._step_offset = 0
        if model is not None:
            self.attach(model)

    # --- hooks on, hooks off ------------------------------------------------------------------

    def attach(self, model: Module) -> "Diagnostics":
        """Put a forward hook on each layer of `model` and remember its weights (for the updates)."""
        if self.model is not None:
            raise RuntimeError(f"Diagnostics is already attached to a {type(self.model).__name__}; "
                               f"call detach() first, or make a second Diagnostics")
        layers = _resolve_layers(model, self._layer_spec)
        self.model, self._layers = model, layers
        for name, module in layers:
            self.layers.setdefault(name, LayerTrace(name, layer_kind(module)))
            self._weights[module] = _weights(module)
            self._captured[module] = []
            self._handles.append(module.register_forward_hook(self._capture))
        self._capturing = True
        self._before = self._snapshot()
        return self

    def detach(self) -> None:
        """Take the hooks off: the model runs exactly as before (the records stay)."""
        for handle in self._handles:
            handle.remove()
        self._handles, self._captured, self._before = [], {}, {}
        self.model, self._capturing = None, False

    def __enter__(self) -> "Diagnostics":
        if self.model is None:
            raise RuntimeError("use `with Diagnostics(model) as diag:` (no model was given)")
        return self

    def __exit__(self, *exc_info) -> None:
        self.detach()

    def _capture(self, module: Module, args: tuple, output) -> None:
        # a forward hook: keep the outputs of training forwards (not of no_grad evaluation)
        if self._capturing and is_grad_enabled():
            self._captured[module].append(output)

    def _snapshot(self) -> dict:
        return {module: [p.data for p in weights] for module, weights in self._weights.items()}

    # --- recording ------------------------------------------------------------------------------

    def record(self, step: int | None = None) -> None:
        """Record the forwards since the last record; call it after backward() and optimizer.step()
        (the update is the change of the weights since the previous record)."""
        if self.model is None:
            raise RuntimeError("Diagnostics.record: no model attached; use Diagnostics(model) or "
                               "diag.attach(model) first")
        self._record(step, updates=True)
        self._before = self._snapshot()

    def _record(self, step: int | None, updates: bool) -> None:
        self.steps.append(len(self.steps) + 1 if step is None else step)
        for name, module in self._layers:
            self._record_layer(self.layers[name], module, updates)
            self._captured[module] = []

    def _record_layer(self, trace: LayerTrace, module: Module, updates: bool) -> None:
        rows = [_flat(out) for out in self._captured[module]]
        datas = [[v.data for v in row] for row in rows]
        trace.values = [d for row in datas for d in row]
        trace.grads = [_float(v.grad) for row in rows for v in row]
        weights = self._weights[module]
        trace.weight_grads = [_float(p.grad) for p in weights]
        stats = dict(zip(("mean", "std"), _mean_std(trace.values)))
        stats.update(zip(("grad_mean", "grad_std"), _mean_std(trace.grads)))
        stats.update(zip(("weight_grad_mean", "weight_grad_std"),
                         _mean_std(trace.weight_grads) if weights else (None, None)))
        stats["saturated"] = _saturated(trace.kind, trace.values)
        stats["dead"] = _dead(trace.kind, datas)
        before = self._before.get(module)
        stats["update_ratio"] = (_update_ratio(before, [p.data for p in weights])
                                 if updates and weights and before is not None else None)
        for stat in STATS:
            getattr(trace, stat).append(stats[stat])

    # --- as a fit callback ----------------------------------------------------------------------

    def on_train_begin(self, model, history) -> None:
        if self.model is None:
            self.attach(model)
            self._owned_by_fit = True
        elif self.model is not model:
            raise ValueError("this Diagnostics is attached to another model than the one fit trains")
        self._step_offset = self.steps[-1] if self.steps else 0
        self._capturing = self.every == 1

    def on_step_end(self, step: int, logs: dict) -> None:
        if step % self.every == 0:
            self.record(self._step_offset + step)
        else:
            self._captured = {module: [] for module in self._captured}
            if (step + 1) % self.every == 0:
                self._before = self._snapshot()
        self._capturing = (step + 1) % self.every == 0

    def on_train_end(self, model, history) -> None:
        if self._owned_by_fit:
            self.detach()
            self._owned_by_fit = False

    # --- reading --------------------------------------------------------------------------------

    def table(self) -> str:
        """The last recorded step as a table, one row per layer."""
        head = (f"{'layer':14} {'kind':8} {'act mean':>9} {'act std':>8} {'saturated':>9} "
                f"{'dead':>6} {'grad std':>9} {'w grad std':>10} {'log10 upd/data':>14}")
        rows = [head]
        for trace in self.layers.values():
            s = trace.last()
            rows.append(f"{trace.name:14.14} {trace.kind:8.8} {_fmt(s['mean'], '9.3g')} "
                        f"{_fmt(s['std'], '8.3g')} {_fmt(s['saturated'], '9.0%')} "
                        f"{_fmt(s['dead'], '6.0%')} {_fmt(s['grad_std'], '9.2e')} "
                        f"{_fmt(s['weight_grad_std'], '10.2e')} {_fmt(s['update_ratio'], '14.2f')}")
        return "\n".join(rows)

    def __repr__(self) -> str:
        return f"Diagnostics({len(self.layers)} layers, {len(self.steps)} recorded steps)"


def _fmt(value, spec: str) -> str:
    width = int(spec.split(".")[0])
    return f"{'-':>{width}}" if value is None else format(value, spec)


def _resolve_layers(model: Module, layers) -> list[tuple[str, Module]]:
    """[(name, module)] from layers=None (find_layers), a dict name -> module, or a list of modules."""
    if not isinstance(model, Module):
        raise TypeError(f"Diagnostics needs an nn Module, got {type(model).__name__}")
    if layers is None:
        return find_layers(model)
    names = {id(m): name for name, m in model.named_modules()}
    pairs = list(layers.items()) if isinstance(layers, dict) else [
        (names.get(id(m), f"layer {i}"), m) for i, m in enumerate(layers)]
    for name, module in pairs:
        if not isinstance(module, Module):
            raise TypeError(f"Diagnostics: layers must be Modules; {name!r} is {type(module).__name__}")
    if not pairs:
        raise ValueError("Diagnostics: layers= is empty; pass None to record every layer")
    return pairs


# --- one pass, no training -------------------------------------------------------------------------


def diagnose(model: Module, X: Sequence, y: Sequence, *, loss, layers=None) -> Diagnostics:
    """One forward and backward pass over (X, y) with every layer recorded (no update, so no update
    ratios); the parameters' `.grad` are put back as they were."""
    loss_fn = loss_function(loss, "diagnose")[1]
    if len(X) != len(y) or not len(X):
        raise ValueError(f"diagnose: X and y must have equal, non-zero length, got {len(X)} rows and "
                         f"{len(y)} targets")
    params = model.parameters()
    saved = [p.grad for p in params]
    diag = Diagnostics(model, layers=layers)
    try:
        for p in params:
            p.grad = 0.0
        loss_fn([model(x) for x in X], list(y)).backward()
        diag._record(1, updates=False)
    finally:
        diag.detach()
        for p, g in zip(params, saved):
            p.grad = g
    return diag
