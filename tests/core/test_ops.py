"""Every registered op: forward value, and first derivative against central differences."""

import math

import pytest
from hypothesis import given, strategies as st

from autograd_core import OPS, Value, apply_op, dot, gradients, sum_values
from tests.helpers.op_cases import CASES, IDS, draw_point


def build(name, params, values):
    """Apply the op named `name` to Values the way a user would."""
    op = OPS[name]
    if op.arity == 0:
        if name == "sum":
            return sum_values(values)
        half = len(values) // 2
        return dot(values[:half], values[half:2 * half], values[-1] if len(values) % 2 else None)
    return apply_op(op, *values, **params)


def evaluate(name, params, xs):
    return build(name, params, [Value(x) for x in xs]).data


@pytest.mark.parametrize("name,params", CASES, ids=IDS)
@given(data=st.data())
def test_op_first_derivative_matches_central_difference(name, params, data):
    op = OPS[name]
    arity = op.arity or data.draw(st.integers(1, 7))
    xs = draw_point(op, data, arity)
    inputs = [Value(x) for x in xs]
    out = build(name, params, inputs)
    out.backward()
    eps = 1e-6
    for i, x in enumerate(xs):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        numeric = (evaluate(name, params, up) - evaluate(name, params, down)) / (2 * eps)
        assert math.isclose(inputs[i].grad, numeric, rel_tol=1e-5, abs_tol=1e-6), (
            f"{name}{params} at {xs}: d/dx{i} analytic {inputs[i].grad} vs numeric {numeric}")


@pytest.mark.parametrize("name,params", CASES, ids=IDS)
@given(data=st.data())
def test_op_forward_matches_float_forward(name, params, data):
    op = OPS[name]
    bound = op.bind(**params) if op.params else op
    xs = draw_point(op, data, op.arity or 3)
    expected = bound.forward(*xs) if op.arity else bound.forward(xs)
    assert evaluate(name, params, xs) == expected


def test_ops_registry_names_each_op_once_with_a_rule():
    for name, op in OPS.items():
        assert op.name == name
        assert callable(op.forward) and callable(op.derivative), name


@pytest.mark.parametrize("name", [name for name, op in OPS.items() if op.accumulate])
@given(xs=st.lists(st.floats(-3, 3), min_size=1, max_size=9), seed=st.floats(-2, 2))
def test_op_fast_path_agrees_with_its_derivative_rule(name, xs, seed):
    inputs = [Value(x) for x in xs]
    out = build(name, {}, inputs + inputs[:1])  # the first input twice: shared parents add up
    out.backward(seed)  # the first-order sweep uses op.accumulate
    expected = gradients(out, inputs, seed)  # the general sweep uses op.derivative
    assert [v.grad for v in inputs] == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_split_the_gradient_at_a_tie_as_pytorch_does(name):
    x, y = Value(2.0), Value(2.0)
    getattr(x, name)(y).backward()
    assert (x.grad, y.grad) == (0.5, 0.5), f"{name} at a tie: expected (0.5, 0.5), got {(x.grad, y.grad)}"


@pytest.mark.parametrize("name, expected", [("maximum", (1.0, 0.0)), ("minimum", (0.0, 1.0))])
def test_maximum_and_minimum_route_the_whole_gradient_to_one_input(name, expected):
    x, y = Value(3.0), Value(-1.0)
    out = getattr(x, name)(y)
    out.backward()
    assert (x.grad, y.grad) == expected, f"{name}(3, -1): expected grads {expected}, got {(x.grad, y.grad)}"


def test_op_partials_give_a_tuple_for_every_arity():
    for name, op in OPS.items():
        op = op.bind() if op.params else op
        n = op.arity or 3
        xs = [0.7 + 0.1 * i for i in range(n)]
        out = op.forward(*xs) if op.arity else op.forward(xs)
        partials = op.partials(xs, out)
        assert type(partials) is tuple and len(partials) == n, \
            f"{name}: partials should be a tuple of {n}, got {partials!r}"
