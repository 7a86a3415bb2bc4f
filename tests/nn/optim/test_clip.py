"""nn.optim.clip_grad_norm_ on gradients that are Values (after backward(create_graph=True))."""

from autograd_core import Value
from nn.optim import clip_grad_norm_


def _create_graph_grads():
    w, b = Value(3.0), Value(-4.0)
    loss = w * w + b * b
    loss.backward(create_graph=True)  # w.grad = 2w = 6, b.grad = 2b = -8: Values with a graph
    return w, b


def test_clip_grad_norm_builds_no_graph_nodes_when_grads_are_values():
    w, b = _create_graph_grads()
    clip_grad_norm_([w, b], max_norm=1.0)
    for p in (w, b):
        assert isinstance(p.grad, Value) and p.grad.parents == (), \
            f"the clipped grad must be a leaf (no graph), got parents {p.grad.parents}"


def test_clip_grad_norm_scales_value_grads_like_float_grads():
    w, b = _create_graph_grads()
    total = clip_grad_norm_([w, b], max_norm=1.0)
    coef = 1.0 / (10.0 + 1e-6)
    assert total == 10.0, f"expected the norm of (6, -8) = 10, got {total}"
    assert (w.grad.data, b.grad.data) == (6.0 * coef, -8.0 * coef), (w.grad.data, b.grad.data)
