"""nn: neural networks on autograd_core, with PyTorch's names, signatures and numerics.

Read module.py (the Module base class and Parameter), then layers.py, losses.py, optim.py and
schedulers.py; data.py, train/ (the loop, and Diagnostics, lr_find and LiveView, which look inside
training: notebook 05b) and plots.py train and show a model; cli.py is `python -m nn train`;
torch_bridge.py moves a model to PyTorch and back (`to_torch`, `from_torch`).
Notebooks 04-06 build and train models with these pieces.
"""

from . import data, drawing, functional, losses, optim, plots, schedulers, train
from .train import diagnostics, live, lr_finder
from .drawing import draw_network
from .functional import log_softmax, logsumexp, softmax
from .layers import (MLP, Layer, LeakyReLU, Linear, Neuron, ReLU, Sequential, Sigmoid, Tanh)
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     hinge_loss, l1_loss, l2_penalty, mse_loss)
from .module import IncompatibleKeys, Module, Parameter
from .serialization import load
from .torch_bridge import from_torch, to_torch
from .train import EarlyStopping, History, evaluate, fit, lr_find, predict

__all__ = [
    "EarlyStopping",
    "History",
    "MLP",
    "IncompatibleKeys",
    "Layer",
    "LeakyReLU",
    "Linear",
    "Module",
    "Neuron",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "diagnostics",
    "draw_network",
    "drawing",
    "evaluate",
    "fit",
    "from_torch",
    "functional",
    "hinge_loss",
    "l1_loss",
    "l2_penalty",
    "live",
    "load",
    "log_softmax",
    "logsumexp",
    "losses",
    "lr_find",
    "lr_finder",
    "mse_loss",
    "optim",
    "plots",
    "predict",
    "schedulers",
    "softmax",
    "to_torch",
    "train",
]
