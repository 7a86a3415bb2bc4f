"""autograd-core: a scalar reverse-mode autodiff engine that teaches backpropagation by doing it.

Start with `Value` (value.py), then `backward()` (engine.py); every op lives in ops.py.
The notebooks in notebooks/ walk through it all in order.
"""

from .engine import topological_order
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import OPS, Op
from .value import Value, apply_op, dot, sum_values

__all__ = [
    "OPS",
    "Op",
    "Value",
    "apply_op",
    "dot",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "sum_values",
    "topological_order",
]
