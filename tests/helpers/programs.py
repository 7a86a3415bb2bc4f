"""Random expression programs for property tests: one program runs on Values, floats or torch.

A program is a list of steps; each step applies one op to earlier results (inputs included), so
programs are DAGs with shared subexpressions and reused nodes (`x*x`). Every op here is defined
everywhere on the reals, so any inputs are in its domain.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from autograd_core import Value, dot, sum_values

UNARY = ("neg", "tanh", "sigmoid", "sin", "cos", "softplus", "square", "exp_tanh", "log1p_sq",
         "sqrt1p_sq", "recip1p_sq", "cube", "rpow2_tanh")
BINARY = ("add", "sub", "mul", "div_safe", "pow_pos")
NARY = ("sum", "dot")


def apply_step(kind: str, args: list, lib: str):
    """Apply one step on Values ("value"), or on torch tensors ("torch")."""
    a = args[0]
    b = args[1] if len(args) > 1 else None
    if lib == "torch":
        import torch
        unary_fns = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "sin": torch.sin,
                     "cos": torch.cos, "softplus": torch.nn.functional.softplus,
                     "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt}
    else:
        unary_fns = {name: (lambda v, n=name: getattr(v, n)())
                     for name in ("tanh", "sigmoid", "sin", "cos", "softplus", "exp", "log", "sqrt")}
    if kind == "neg":
        return -a
    if kind in ("tanh", "sigmoid", "sin", "cos", "softplus"):
        return unary_fns[kind](a)
    if kind == "square":
        return a ** 2
    if kind == "cube":
        return a ** 3
    if kind == "exp_tanh":
        return unary_fns["exp"](unary_fns["tanh"](a))
    if kind == "log1p_sq":
        return unary_fns["log"](1 + a * a)
    if kind == "sqrt1p_sq":
        return unary_fns["sqrt"](1 + a * a)
    if kind == "recip1p_sq":
        return 1 / (1 + a * a)
    if kind == "rpow2_tanh":
        return 2 ** unary_fns["tanh"](a)
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div_safe":
        return a / (1.5 + unary_fns["sin"](b))
    if kind == "pow_pos":
        return (1 + a * a) ** unary_fns["tanh"](b)
    if kind == "sum":
        if lib == "torch":
            return torch.stack(list(args)).sum()
        return sum_values(args)
    if kind == "dot":
        half = len(args) // 2
        if lib == "torch":
            if half == 0:
                return args[-1] * 1.0
            total = (torch.stack(list(args[:half])) * torch.stack(list(args[half:2 * half]))).sum()
            return total + args[-1] if len(args) % 2 else total
        return dot(args[:half], args[half:2 * half], args[-1] if len(args) % 2 else None)
    raise ValueError(kind)


@st.composite
def programs(draw, max_inputs: int = 4, max_steps: int = 12):
    """(input floats, steps): each step is (kind, indices of earlier results)."""
    n_inputs = draw(st.integers(1, max_inputs))
    inputs = draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=n_inputs,
                           max_size=n_inputs))
    steps = []
    for i in range(draw(st.integers(1, max_steps))):
        available = n_inputs + i
        index = st.integers(0, available - 1)
        kind = draw(st.sampled_from(UNARY + BINARY + NARY))
        if kind in UNARY:
            args = [draw(index)]
        elif kind in BINARY:
            args = [draw(index), draw(index)]  # may be equal: x*x, x-x
        else:
            args = draw(st.lists(index, min_size=1, max_size=5))
        steps.append((kind, args))
    return inputs, steps


def run(program_steps: list, inputs: list, lib: str = "value"):
    """Evaluate the steps on `inputs` (Values or tensors); the last result is the output."""
    results = list(inputs)
    for kind, idx in program_steps:
        results.append(apply_step(kind, [results[i] for i in idx], lib))
    return results[-1]


def as_function(program_steps: list):
    """The program as a function of floats, returning a float (for finite differences)."""
    def f(*xs: float) -> float:
        return run(program_steps, [Value(x) for x in xs]).data
    return f


def central_difference(f, xs: list, i: int, eps: float = 1e-6) -> float:
    """(f(x + eps e_i) - f(x - eps e_i)) / 2 eps."""
    up = list(xs)
    down = list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
