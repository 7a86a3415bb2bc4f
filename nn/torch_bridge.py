"""A bridge to PyTorch for when a model outgrows scalars: `to_torch(model)` and `from_torch(module)`.

`to_torch` turns an MLP, Layer, Neuron, Linear, Sequential or activation into the same `torch.nn`
module with the same weights in float64; `from_torch` brings a `torch.nn.Sequential` of `Linear` and
supported activations back. PyTorch stays optional: it is imported only when these are called.
Notebook 08 moves a model across.
"""

from __future__ import annotations

from .layers import MLP, Layer, LeakyReLU, Linear, Neuron, ReLU, Sequential, Sigmoid, Tanh
from .module import Module

INSTALL_HINT = "pip install 'autograd-core[torch]' (or: pip install torch)"
_ACTIVATIONS = {"ReLU": ReLU, "Tanh": Tanh, "Sigmoid": Sigmoid}


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError(f"nn.to_torch and nn.from_torch need PyTorch, which is not installed: "
                          f"{INSTALL_HINT}") from None
    return torch


# --- to PyTorch ------------------------------------------------------------------------------------


def to_torch(model: Module):
    """A torch.nn module computing what `model` computes, with its weights copied as float64.

    An MLP becomes `Sequential(Linear, activation, ..., Linear)`; a Layer or Neuron a Linear
    followed by its activation. Inputs are then tensors of shape (batch, nin).
    """
    torch = _torch()
    if not isinstance(model, Module):
        raise TypeError(f"to_torch expects an nn.Module (MLP, Linear, Sequential, ...), got "
                        f"{type(model).__name__}")
    return _convert(torch, model)


def _convert(torch, model: Module):
    if isinstance(model, Linear):
        rows = [[p.data for p in row] for row in model.weight]
        bias = None if model.bias is None else [p.data for p in model.bias]
        return _torch_linear(torch, rows, bias)
    if isinstance(model, (ReLU, Tanh, Sigmoid)):
        return getattr(torch.nn, type(model).__name__)()
    if isinstance(model, LeakyReLU):
        return torch.nn.LeakyReLU(model.slope)
    if isinstance(model, Sequential):
        return torch.nn.Sequential(*[_convert(torch, m) for m in model.layers])
    if isinstance(model, MLP):
        return torch.nn.Sequential(*[m for layer in model.layers for m in _layer(torch, layer)])
    if isinstance(model, (Layer, Neuron)):
        parts = _layer(torch, model)
        return parts[0] if len(parts) == 1 else torch.nn.Sequential(*parts)
    raise TypeError(f"to_torch converts MLP, Layer, Neuron, Linear, Sequential, ReLU, Tanh, Sigmoid "
                    f"and LeakyReLU; {type(model).__name__} is not one of them")


def _layer(torch, layer) -> list:
    """[Linear] or [Linear, activation] for a Layer or a Neuron."""
    neurons = layer.neurons if isinstance(layer, Layer) else [layer]
    rows = [[p.data for p in n.w] for n in neurons]
    linear = _torch_linear(torch, rows, [n.b.data for n in neurons])
    activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                  "leaky_relu": lambda: torch.nn.LeakyReLU(0.01)}.get(layer.activation)
    return [linear] if activation is None else [linear, activation()]


def _torch_linear(torch, rows: list, bias: list | None):
    linear = torch.nn.Linear(len(rows[0]), len(rows), bias=bias is not None, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(rows, dtype=torch.float64))
        if bias is not None:
            linear.bias.copy_(torch.tensor(bias, dtype=torch.float64))
    return linear


# --- from PyTorch ----------------------------------------------------------------------------------


def from_torch(module) -> Module:
    """An nn model computing what a torch.nn.Sequential of Linear and activations computes.

    Supported: Linear, ReLU, Tanh, Sigmoid, LeakyReLU and nested Sequentials; weights are copied
    as Python floats (float64), so float32 weights come back exactly.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module (a Sequential of Linear and "
                        f"activations), got {type(module).__name__}")
    return _convert_back(torch, module, "module")


def _convert_back(torch, module, where: str) -> Module:
    name = type(module).__name__
    if isinstance(module, torch.nn.Sequential):
        return Sequential(*[_convert_back(torch, m, f"{where}[{i}]") for i, m in enumerate(module)])
    if isinstance(module, torch.nn.Linear):
        weight = module.weight.detach().double().tolist()
        bias = None if module.bias is None else module.bias.detach().double().tolist()
        linear = Linear(module.in_features, module.out_features, bias is not None, seed=0)
        for ours, row in zip(linear.weight, weight):
            for p, value in zip(ours, row):
                p.data = value
        for p, value in zip(linear.bias or [], bias or []):
            p.data = value
        return linear
    if isinstance(module, torch.nn.LeakyReLU):
        return LeakyReLU(module.negative_slope)
    if name in _ACTIVATIONS and type(module) is getattr(torch.nn, name):
        return _ACTIVATIONS[name]()
    raise TypeError(f"from_torch: {where} is a {name}; supported are Sequential, Linear, ReLU, Tanh, "
                    f"Sigmoid and LeakyReLU")
