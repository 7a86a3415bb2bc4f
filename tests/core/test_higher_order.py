"""create_graph, grad, hessian, jvp and gradcheck: higher-order and forward-mode derivatives."""

import math

import pytest
from hypothesis import given, strategies as st

from autograd_core import (OPS, GradcheckError, Op, Value, apply_op, grad, gradcheck, hessian, jvp,
                           numerical_grad, value_and_grad)
from tests.helpers.op_cases import CASES, IDS, draw_point
from tests.helpers.programs import programs, run

# --- create_graph ------------------------------------------------------------------------------

def test_backward_create_graph_makes_grads_values_on_the_graph():
    x = Value(2.0)
    y = x ** 3
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 12.0
    g = x.grad
    x.grad = 0.0
    g.backward()
    assert x.grad == 12.0, f"d2/dx2 x^3 at 2 = 6x = 12, got {x.grad}"


def test_backward_without_create_graph_keeps_float_grads():
    x = Value(2.0)
    (x ** 3).backward()
    assert type(x.grad) is float


def test_backward_create_graph_matches_first_order_values():
    xs = [Value(0.3), Value(-1.2)]
    out = (xs[0] * xs[1]).tanh() + xs[0].exp() / (1 + xs[1] ** 2)
    out.backward()
    first = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    out.backward(create_graph=True)
    assert [x.grad.data for x in xs] == pytest.approx(first, rel=1e-14)


# --- every op, second order, reverse-over-reverse and forward-over-reverse ------------------------

@pytest.mark.parametrize("name,params", CASES, ids=IDS)
@given(data=st.data())
def test_op_second_derivatives_match_central_differences(name, params, data):
    op = OPS[name]
    arity = op.arity or data.draw(st.integers(1, 5))
    xs = draw_point(op, data, arity)
    assert gradcheck(lambda *vs: apply_op(op, *vs, **params), xs, order=2, eps=1e-5,
                     atol=1e-5, rtol=1e-4, modes=("rev", "fwd"))


def test_power_mixed_derivative_at_zero_exponent():
    # d/dy d/dx x^y = x^(y-1) (1 + y ln x) = 1/x at y = 0 (PyTorch gives 0 there)
    H = hessian(lambda x, y: x ** y)(2.0, 0.0)
    assert H[0][1] == H[1][0] == 0.5
    assert gradcheck(lambda x, y: x ** y, [2.0, 0.0], order=2)


# --- closed forms ------------------------------------------------------------------------------

@pytest.mark.parametrize("f,third,x", [
    (lambda x: x.sin(), lambda x: -math.cos(x), 0.7),
    (lambda x: x ** 4, lambda x: 24 * x, -1.3),
    (lambda x: (2 * x).exp(), lambda x: 8 * math.exp(2 * x), 0.4),
    (lambda x: x.tanh(), lambda x: (1 - math.tanh(x) ** 2) * (6 * math.tanh(x) ** 2 - 2), 0.5),
    (lambda x: x.log(), lambda x: 2 / x ** 3, 1.7),
    (lambda x: x * x.sigmoid(), None, 0.3),
])
def test_third_derivative_of_composites_matches_closed_form(f, third, x):
    d3 = grad(grad(grad(f)))(x)
    if third is None:  # x*sigmoid(x): check against differences of the analytic second derivative
        d2 = grad(grad(f))
        third_x = (d2(x + 1e-5) - d2(x - 1e-5)) / 2e-5
    else:
        third_x = third(x)
    assert d3 == pytest.approx(third_x, rel=1e-6), f"f'''({x}): ours {d3} vs closed form {third_x}"


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


@pytest.mark.parametrize("x,y", [(1.0, 1.0), (-1.2, 1.0), (0.5, -0.3), (2.0, 4.0)])
def test_hessian_of_rosenbrock_matches_closed_form(x, y):
    expected = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]]
    H = hessian(rosenbrock)(x, y)
    for i in range(2):
        for j in range(2):
            assert H[i][j] == pytest.approx(expected[i][j], rel=1e-12, abs=1e-12), (
                f"H[{i}][{j}] at ({x}, {y}): ours {H[i][j]} vs closed form {expected[i][j]}")


# --- the functional API ------------------------------------------------------------------------

def test_grad_with_floats_returns_floats_and_leaves_grad_untouched():
    x = Value(3.0)
    g = grad(lambda v: v * v)(2.0)
    assert type(g) is float and g == 4.0
    assert grad(lambda v: v * x)(2.0) == 3.0 and x.grad == 0.0


def test_grad_argnums_tuple_and_passthrough_arguments():
    f = lambda a, b, c: a * b + c ** 2  # noqa: E731
    assert grad(f, argnums=(0, 2))(2.0, 5.0, 3.0) == (5.0, 6.0)
    assert grad(f, argnums=1)(2.0, 5.0, 3.0) == 2.0


def test_grad_rejects_bad_argnums():
    with pytest.raises(ValueError, match="argnums"):
        grad(lambda a: a, argnums=3)(1.0)


def test_value_and_grad_returns_both():
    assert value_and_grad(lambda x: x.exp())(0.0) == (1.0, 1.0)


def test_grad_of_a_constant_function_is_zero():
    assert grad(lambda x: 5.0)(1.0) == 0.0


def test_grad_composes_to_the_fourth_order():
    f = lambda x: x ** 5  # noqa: E731
    assert grad(grad(grad(grad(f))))(2.0) == pytest.approx(120 * 2.0)


def test_nested_grad_has_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(2.0) == 1.0
    # the inner variable is the same object as the outer one: still d/dx [x * x] = 2x
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == 6.0


def test_jvp_along_a_basis_vector_is_a_partial_derivative():
    value, slope = jvp(rosenbrock, (1.0, 2.0), (1.0, 0.0))
    assert value == 100.0 and slope == grad(rosenbrock, 0)(1.0, 2.0)


def test_jvp_inside_grad_differentiates_the_slope():
    g = lambda x: x ** 3  # noqa: E731
    # d/dx [slope of g at x along 1] = g''(x) = 6x; and jvp of jvp is g'' too
    assert grad(lambda x: jvp(g, (x,), (1.0,))[1])(2.0) == 12.0
    assert jvp(lambda x: jvp(g, (x,), (1.0,))[1], (2.0,), (1.0,))[1] == 12.0


def test_jvp_rejects_mismatched_tangents():
    with pytest.raises(ValueError, match="tangent"):
        jvp(rosenbrock, (1.0, 2.0), (1.0,))


@given(programs(), st.lists(st.floats(-1, 1), min_size=4, max_size=4))
def test_jvp_equals_reverse_mode_on_random_programs(program, direction):
    inputs, steps = program
    f = lambda *xs: run(steps, list(xs))  # noqa: E731
    tangents = direction[:len(inputs)]
    _, forward = jvp(f, inputs, tangents)
    reverse = grad(f, tuple(range(len(inputs))))(*inputs)
    expected = sum(g * t for g, t in zip(reverse, tangents))
    assert forward == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(programs(max_steps=6))
def test_random_program_second_order_gradcheck(program):
    inputs, steps = program
    assert gradcheck(lambda *xs: run(steps, list(xs)), inputs, order=2, eps=1e-5, atol=1e-4,
                     rtol=1e-4)


# --- gradcheck ---------------------------------------------------------------------------------

def test_numerical_grad_is_a_central_difference():
    assert numerical_grad(lambda x, y: x * y, [2.0, 3.0]) == pytest.approx([3.0, 2.0], rel=1e-8)


def test_gradcheck_catches_a_hidden_dependency():
    # reading .data copies a number out of the graph: backward cannot see the second x
    with pytest.raises(GradcheckError, match=r"dx\[0\].*reverse mode gives 1\.5.*central differences give 2\.9"):
        gradcheck(lambda x: x * x.data, [1.5])


def test_gradcheck_is_an_assertion_error_naming_the_input():
    def f(x, y):
        return x * y + Value(y.data) ** 2  # hides d/dy of y**2

    with pytest.raises(AssertionError, match=r"dx\[1\]"):
        gradcheck(f, [1.0, 2.0], modes=("fwd",))


def test_gradcheck_order_two_catches_a_rule_that_is_only_right_on_floats():
    # 3x^2 computed with float(): right in first-order backward, a constant (wrong) in higher order
    cube = Op("cube_floats_only", 1, lambda x: x ** 3, lambda x, out: 3.0 * float(x) ** 2)
    f = lambda x: apply_op(cube, x)  # noqa: E731
    assert gradcheck(f, [1.3], order=1)
    with pytest.raises(GradcheckError, match=r"d\(d\(f\)/dx\[0\]\)/dx\[0\]"):
        gradcheck(f, [1.3], order=2)
