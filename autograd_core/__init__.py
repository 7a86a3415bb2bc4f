"""autograd-core: a scalar reverse-mode autodiff engine that teaches backpropagation by doing it.

Start with `Value` (value.py), then `backward()` (engine.py); every op lives in ops.py.
The notebooks in notebooks/ walk through it all in order.
"""

from .compiler import compile
from .engine import backprop, gradients, topological_order
from .functional import grad, hessian, jacobian, jvp, value_and_grad
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .registry import OPS, Op
from .value import Value, apply_op, dot, sum_values
from .viz import (GraphvizNotFound, StepsPlayer, backward_steps, backward_trace, draw_dot, draw_graph,
                  legend, path_between, play_frames, save_gif)

__all__ = [
    "GradcheckError",
    "GraphvizNotFound",
    "OPS",
    "Op",
    "StepsPlayer",
    "Value",
    "apply_op",
    "backprop",
    "backward_steps",
    "backward_trace",
    "compile",
    "dot",
    "draw_dot",
    "draw_graph",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "legend",
    "no_grad",
    "numerical_grad",
    "path_between",
    "play_frames",
    "save_gif",
    "set_grad_enabled",
    "sum_values",
    "topological_order",
    "value_and_grad",
]
