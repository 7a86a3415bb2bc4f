"""Reference solutions to notebook 04's exercises (try them yourself first)."""

import math


def count_parameters(sizes: list) -> int:
    """Exercise 1: parameters of an MLP with layer sizes [nin, h1, ..., nout]."""
    return sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))


def layer_outputs(weights: list, biases: list, x: list) -> list:
    """Exercise 2: tanh(w·x + b) for each neuron's weight row w and bias b, in plain floats."""
    return [math.tanh(sum(wi * xi for wi, xi in zip(w, x)) + b)
            for w, b in zip(weights, biases)]


def dead_relu_setting() -> tuple:
    """Exercise 3: weights and a bias that make the pre-activation negative at x = (1, 2)."""
    return [1.0, 1.0], -5.0
