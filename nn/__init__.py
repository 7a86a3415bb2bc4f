"""nn: neural networks on autograd_core, with PyTorch's names, signatures and numerics.

Read module.py (the Module base class), then layers.py, losses.py, optim.py and schedulers.py;
data.py, train.py and plots.py train and show a model; cli.py is `python -m nn train`.
Notebooks 04-06 build and train models with these pieces.
"""

from . import data, drawing, functional, losses, optim, plots, schedulers, train
from .drawing import draw_network
from .functional import log_softmax, logsumexp, softmax
from .layers import (MLP, Layer, LeakyReLU, Linear, Neuron, ReLU, Sequential, Sigmoid, Tanh)
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     hinge_loss, l1_loss, l2_penalty, mse_loss)
from .module import IncompatibleKeys, Module
from .serialization import load
from .train import EarlyStopping, History, evaluate, fit, predict

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
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "draw_network",
    "drawing",
    "evaluate",
    "fit",
    "functional",
    "hinge_loss",
    "l1_loss",
    "l2_penalty",
    "load",
    "log_softmax",
    "logsumexp",
    "losses",
    "mse_loss",
    "optim",
    "plots",
    "predict",
    "schedulers",
    "softmax",
    "train",
]
