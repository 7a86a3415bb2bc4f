"""Layers: the micrograd-shaped `Neuron` / `Layer` / `MLP` and the PyTorch-shaped `Linear`, activation
modules and `Sequential`, so the same model can be written both ways.

Each neuron is one `dot(w, x, b)` node and one activation node. Initialization is seedable (`seed=` or
`rng=`, a `random.Random`); without either it draws from the global `random` module, as micrograd does.
Notebook 04 builds an MLP from these pieces.
"""

from __future__ import annotations

import math
import numbers
import random
from typing import Sequence

from autograd_core import Value, dot

from . import validation
from .module import Module, Parameter, _join, _walk_attr
from .serialization import build, parameter_count, register, settings

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "linear")
INITS = ("torch", "uniform")

# name -> function of one Value ("linear" is the identity: no node at all)
_ACTIVATION_FNS = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,  # slope 0.01, PyTorch's default negative_slope
    "linear": None,
}


# --- helpers ---------------------------------------------------------------------------------------


def _rng(seed, rng):
    """The generator to draw initial weights from: Random(seed), the given rng, or global `random`."""
    if seed is not None and rng is not None:
        raise ValueError("pass seed= or rng=, not both (seed=s is the same as rng=random.Random(s))")
    if rng is not None:
        if not callable(getattr(rng, "uniform", None)):
            raise TypeError(f"rng= must be a random.Random (something with .uniform), got "
                            f"{type(rng).__name__}")
        return rng
    if seed is not None:
        return random.Random(seed)
    return random


def _check_activation(activation: str) -> str:
    return validation.one_of("activation", activation, ACTIVATIONS)


def _check_init(init: str) -> str:
    # 'torch': PyTorch Linear's U(-1/sqrt(nin), 1/sqrt(nin)); 'uniform': micrograd's U(-1, 1), zero bias
    return validation.one_of("init", init, INITS)


def _check_widths(nouts) -> list[int]:
    if isinstance(nouts, numbers.Integral) or not isinstance(nouts, (list, tuple)):
        raise TypeError(f"nouts must be a list of layer widths, e.g. [16, 16, 1]; got "
                        f"{type(nouts).__name__} {nouts!r:.40}")
    if not nouts:
        raise ValueError("nouts must be a non-empty list of layer widths, e.g. [16, 16, 1]; got []")
    return [validation.positive_int("each layer width in nouts", n) for n in nouts]


def _lift(x, nin: int, where: str) -> list:
    """The inputs as a list of Values, numbers wrapped once (a bare number is allowed when nin is 1)."""
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    elif not isinstance(x, (list, tuple)):
        try:
            x = list(x)
        except TypeError:
            raise TypeError(f"{where} expects a list of {nin} numbers or Values, got "
                            f"{type(x).__name__}") from None
    if len(x) != nin:
        raise ValueError(f"{where} expects {nin} input(s), got {len(x)}")
    return [v if isinstance(v, Value) else Value(v) for v in x]


def _elementwise(fn, x):
    """fn applied to a Value, or to each item of a list of them (numbers are lifted)."""
    if isinstance(x, (list, tuple)):
        return [fn(v if isinstance(v, Value) else Value(v)) for v in x]
    return fn(x if isinstance(x, Value) else Value(x))


# --- micrograd-shaped: Neuron, Layer, MLP ----------------------------------------------------------


@register
class Neuron(Module):
    """One unit: activation(w . x + b), with `w` a list of `nin` Values and `b` a Value.

    `init="torch"` (default) draws w and b from U(-1/sqrt(nin), 1/sqrt(nin)), like torch.nn.Linear;
    `init="uniform"` draws w from U(-1, 1) and sets b = 0, like micrograd. Draw order: w, then b.
    """

    def __init__(self, nin: int, activation: str = "relu", *, seed=None, rng=None,
                 init: str = "torch") -> None:
        nin = validation.positive_int("nin", nin)
        self.activation = _check_activation(activation)
        self.init = _check_init(init)
        gen = _rng(seed, rng)
        if init == "torch":
            bound = 1.0 / math.sqrt(nin)
            self.w = [Parameter(gen.uniform(-bound, bound)) for _ in range(nin)]
            self.b = Parameter(gen.uniform(-bound, bound))
        else:
            self.w = [Parameter(gen.uniform(-1.0, 1.0)) for _ in range(nin)]
            self.b = Parameter(0.0)

    @property
    def nin(self) -> int:
        return len(self.w)

    def _fire(self, x: list) -> Value:
        # x is already a list of Values of the right length
        out = dot(self.w, x, self.b)
        act = _ACTIVATION_FNS[self.activation]
        return out if act is None else act(out)

    def forward(self, x) -> Value:
        """activation(w . x + b) for a list of `nin` floats or Values."""
        return self._fire(_lift(x, len(self.w), "Neuron"))

    def config(self) -> dict:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation, "init": self.init}

    @classmethod
    def parameter_count(cls, config: dict) -> int:
        """nin weights and a bias."""
        return validation.positive_int("nin", config.get("nin")) + 1

    @classmethod
    def from_config(cls, config: dict) -> "Neuron":
        """A Neuron with `config`'s shape (weights to be loaded)."""
        return cls(**settings(config), seed=0)

    def extra_repr(self) -> str:
        return f"nin={self.nin}, activation={self.activation!r}"


@register
class Layer(Module):
    """`nout` neurons that all read the same `nin` inputs; calling it returns a list of `nout` Values."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", *, seed=None, rng=None,
                 init: str = "torch") -> None:
        nin = validation.positive_int("nin", nin)
        nout = validation.positive_int("nout", nout)
        _check_activation(activation)
        _check_init(init)
        gen = _rng(seed, rng)
        self.neurons = [Neuron(nin, activation, rng=gen, init=init) for _ in range(nout)]

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def _fire(self, x: list) -> list:
        # Neuron._fire inlined: this loop runs once per neuron per sample, the library's hottest
        out = []
        append = out.append
        for n in self.neurons:
            pre = dot(n.w, x, n.b)
            act = _ACTIVATION_FNS[n.activation]
            append(pre if act is None else act(pre))
        return out

    def forward(self, x) -> list:
        """The list of the neurons' outputs (always a list, even for one neuron)."""
        return self._fire(_lift(x, self.nin, "Layer"))

    def config(self) -> dict:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation,
                "init": self.neurons[0].init}

    @classmethod
    def parameter_count(cls, config: dict) -> int:
        """(nin + 1) * nout."""
        nin = validation.positive_int("nin", config.get("nin"))
        return (nin + 1) * validation.positive_int("nout", config.get("nout"))

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        """A Layer with `config`'s shape (weights to be loaded)."""
        return cls(**settings(config), seed=0)

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nout={self.nout}, activation={self.activation!r}"

    def _children(self):
        return iter(())  # 16 identical Neuron lines would hide the shape; extra_repr says it all


@register
class MLP(Module):
    """A multi-layer perceptron: Layers of sizes `nouts`, `activation` between them, last layer linear.

    Returns one Value when the last layer has one output, else a list. `MLP(2, [16, 16, 1])` is
    micrograd's demo model; with `init="uniform"` and no seed/rng it draws exactly its weights.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu", *, seed=None,
                 rng=None, init: str = "torch") -> None:
        nin = validation.positive_int("nin", nin)
        nouts = _check_widths(nouts)
        _check_activation(activation)
        _check_init(init)
        self.activation = activation
        self.init = init
        gen = _rng(seed, rng)
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], activation if i < last else "linear",
                             rng=gen, init=init) for i in range(len(nouts))]

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        return [layer.nout for layer in self.layers]

    def forward(self, x):
        """The network's output: a Value if the last layer has one neuron, else a list of Values."""
        h = _lift(x, self.nin, "MLP")
        for layer in self.layers:  # layer._fire(h) is layer(h) without checking h again
            h = layer._fire(h) if not layer._forward_hooks else layer._call_hooks((h,), layer._fire(h))
        return h[0] if len(h) == 1 else h

    def graph_groups(self, values: Sequence[Value]) -> list[tuple[str, Value, list]]:
        """Each neuron call in `values` (a graph in topological order) as (title, output, members):
        its dot node w·x+b, its activation, and its weights and bias. This is the grouping protocol
        of `draw_graph(loss, collapse="neuron", model=mlp)`: the core asks, the model answers."""
        try:
            neurons = [(f"neuron {i}.{j}", n) for i, layer in enumerate(self.layers, 1)
                       for j, n in enumerate(layer.neurons, 1)]
        except (AttributeError, TypeError):
            raise TypeError(f"graph_groups: expected a model with .layers, each with .neurons "
                            f"(an nn.MLP), got {type(self).__name__}") from None
        by_first_weight = {n.w[0]: (title, n) for title, n in neurons if n.w}
        children: dict = {}
        for v in values:
            for p in v.parents:
                children.setdefault(p, []).append(v)
        groups = []
        for d in values:
            found = by_first_weight.get(d.parents[0]) if d.op == "dot" else None
            if found is None:
                continue
            title, neuron = found
            w, parents = neuron.w, d.parents
            if (len(parents) not in (2 * len(w), 2 * len(w) + 1)
                    or any(a is not b for a, b in zip(w, parents))
                    or (len(parents) % 2 and parents[-1] is not neuron.b)):
                continue  # not this neuron's w·x+b after all
            out, members = d, [*parents[:len(w)], *parents[2 * len(w):]]
            if neuron.activation != "linear":
                kids = children.get(d, [])
                if len(kids) != 1 or kids[0].op != neuron.activation:
                    continue
                out, members = kids[0], [d, *members]
            groups.append((f"{title} · {neuron.activation}", out, members))
        return groups

    def config(self) -> dict:
        return {"type": "MLP", "nin": self.nin, "nouts": self.nouts, "activation": self.activation,
                "init": self.init}

    @classmethod
    def parameter_count(cls, config: dict) -> int:
        """The sum of (fan_in + 1) * width over the layers."""
        sizes = [validation.positive_int("nin", config.get("nin"))] + _check_widths(config.get("nouts"))
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    @classmethod
    def from_config(cls, config: dict) -> "MLP":
        """An MLP with `config`'s shape (weights to be loaded)."""
        return cls(**settings(config), seed=0)

    def extra_repr(self) -> str:
        return (f"nin={self.nin}, nouts={self.nouts}, activation={self.activation!r}, "
                f"parameters={sum(len(n.w) + 1 for layer in self.layers for n in layer.neurons)}")


# --- PyTorch-shaped: Linear, activation modules, Sequential ----------------------------------------


@register
class Linear(Module):
    """y = W x + b, as torch.nn.Linear: `weight` is `out_features` rows of `in_features` Parameters.

    `Linear(in_features, out_features, bias=True)` as in PyTorch; `Linear(nin, nout)` (positional)
    is the same. Initialized like PyTorch: every weight, then every bias, from U(-1/sqrt(nin),
    1/sqrt(nin)). Returns a list of `nout` Values (PyTorch returns a tensor of shape (nout,)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, seed=None,
                 rng=None) -> None:
        self.nin = validation.positive_int("in_features", in_features)
        self.nout = validation.positive_int("out_features", out_features)
        validation.boolean("bias", bias)
        gen = _rng(seed, rng)
        bound = 1.0 / math.sqrt(self.nin)
        self.weight = [[Parameter(gen.uniform(-bound, bound)) for _ in range(self.nin)]
                       for _ in range(self.nout)]
        self.bias = [Parameter(gen.uniform(-bound, bound)) for _ in range(self.nout)] if bias else None

    @property
    def in_features(self) -> int:
        """PyTorch's name for `nin`."""
        return self.nin

    @property
    def out_features(self) -> int:
        """PyTorch's name for `nout`."""
        return self.nout

    def forward(self, x) -> list:
        """[w_i . x + b_i for each output i] as one dot node per output."""
        x = _lift(x, self.nin, "Linear")
        if self.bias is None:
            return [dot(row, x) for row in self.weight]
        return [dot(row, x, b) for row, b in zip(self.weight, self.bias)]

    def config(self) -> dict:
        return {"type": "Linear", "nin": self.nin, "nout": self.nout, "bias": self.bias is not None}

    @classmethod
    def parameter_count(cls, config: dict) -> int:
        """nin * nout weights, plus nout biases."""
        nin = validation.positive_int("nin", config.get("nin"))
        nout = validation.positive_int("nout", config.get("nout"))
        return nin * nout + nout * validation.boolean("bias", config.get("bias", True))

    @classmethod
    def from_config(cls, config: dict) -> "Linear":
        """A Linear with `config`'s shape (weights to be loaded)."""
        args = settings(config)
        return cls(args.pop("nin", None), args.pop("nout", None), **args, seed=0)

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nout={self.nout}, bias={self.bias is not None}"


class _Activation(Module):
    """An elementwise function with no parameters and no settings: config is just its type."""

    def config(self) -> dict:
        return {"type": type(self).__name__}

    @classmethod
    def parameter_count(cls, config: dict) -> int:
        """No weights."""
        return 0

    @classmethod
    def from_config(cls, config: dict) -> "_Activation":
        """A new instance (the config holds no settings)."""
        return cls(**settings(config))


@register
class ReLU(_Activation):
    """max(0, x), elementwise on a Value or a list of Values."""

    def forward(self, x):
        return _elementwise(Value.relu, x)


@register
class Tanh(_Activation):
    """tanh(x), elementwise on a Value or a list of Values."""

    def forward(self, x):
        return _elementwise(Value.tanh, x)


@register
class Sigmoid(_Activation):
    """1 / (1 + e^-x), elementwise on a Value or a list of Values."""

    def forward(self, x):
        return _elementwise(Value.sigmoid, x)


@register
class LeakyReLU(_Activation):
    """x for x > 0, else slope * x, elementwise (PyTorch calls the slope `negative_slope`)."""

    def __init__(self, slope: float = 0.01, *, negative_slope: float | None = None) -> None:
        self.slope = validation.real("slope", slope if negative_slope is None else negative_slope)

    def forward(self, x):
        slope = self.slope
        return _elementwise(lambda v: v.leaky_relu(slope), x)

    def config(self) -> dict:
        return {"type": "LeakyReLU", "slope": self.slope}

    def extra_repr(self) -> str:
        return f"slope={self.slope:g}"


@register
class Sequential(Module):
    """Modules applied in order, as torch.nn.Sequential; parameters are named "0.weight.3.1", ..."""

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules; item {i} is {type(m).__name__}")
        self.layers = list(modules)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def _walk(self, prefix, seen_modules, seen_values, params, modules):
        # children are named by position, as in PyTorch: "0.weight...", not "layers.0.weight..."
        seen_modules.add(id(self))
        modules.append((prefix, self))
        for i, m in enumerate(self.layers):
            _walk_attr(m, _join(prefix, str(i)), seen_modules, seen_values, params, modules)

    def _children(self):
        return ((str(i), m) for i, m in enumerate(self.layers))

    def config(self) -> dict | None:
        configs = [m.config() for m in self.layers]
        if any(c is None for c in configs):
            return None
        return {"type": "Sequential", "modules": configs}

    @classmethod
    def parameter_count(cls, config: dict) -> int:
        """The sum over the modules."""
        return sum(parameter_count(c) for c in _module_list(config))

    @classmethod
    def from_config(cls, config: dict) -> "Sequential":
        """The modules rebuilt in order (weights to be loaded)."""
        if set(config) != {"type", "modules"}:
            raise TypeError(f"Sequential's config has keys type and modules, got {sorted(config)}")
        return cls(*[build(c) for c in _module_list(config)])


def _module_list(config: dict) -> list:
    modules = config.get("modules")
    if not isinstance(modules, list):
        raise ValueError(f"Sequential \"modules\" must be a list, got {type(modules).__name__}")
    return modules
