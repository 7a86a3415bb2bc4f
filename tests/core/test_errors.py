"""Bad input fails with an error that names the op and the value (DESIGN §5); NaN/inf propagate."""

import math

import pytest

from autograd_core import Value


def test_log_of_negative_raises_value_error_naming_log_and_value():
    with pytest.raises(ValueError, match=r"log\(-1\.0\).*x > 0"):
        Value(-1).log()


def test_log_of_zero_raises_value_error():
    with pytest.raises(ValueError, match=r"log\(0\.0\)"):
        Value(0).log()


def test_sqrt_of_negative_raises_value_error():
    with pytest.raises(ValueError, match=r"sqrt\(-4\.0\)"):
        Value(-4).sqrt()


def test_negative_base_to_fractional_power_raises_value_error_not_complex():
    with pytest.raises(ValueError, match="complex"):
        Value(-8) ** (1 / 3)
    with pytest.raises(ValueError, match="power"):
        Value(-8) ** Value(0.5)


def test_negative_base_to_whole_power_is_fine():
    assert (Value(-2) ** 3).data == -8.0
    assert (Value(-2.0) ** Value(2.0)).data == 4.0


def test_division_by_zero_raises_zero_division_error_naming_div():
    with pytest.raises(ZeroDivisionError, match=r"div\(1\.0, 0\.0\)"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match="div"):
        1 / Value(0.0)


def test_zero_to_negative_power_raises_zero_division_error():
    with pytest.raises(ZeroDivisionError, match="pow"):
        Value(0.0) ** -1


def test_exp_overflow_raises_overflow_error_naming_exp():
    with pytest.raises(OverflowError, match=r"exp\(1000\.0\).*709"):
        Value(1000).exp()


def test_pow_overflow_raises_overflow_error():
    with pytest.raises(OverflowError, match="pow"):
        Value(10.0) ** 400


@pytest.mark.parametrize("bad", ["2", None, 1j, [1]])
def test_operators_reject_non_numbers_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(1.0) + bad
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(1.0) < bad


def test_backward_through_infinite_derivative_names_the_op():
    x = Value(0.0)
    y = x.sqrt()
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0\.0\)"):
        y.backward()


@pytest.mark.parametrize("x", [1000.0, -1000.0, 1e308, -1e308, math.inf, -math.inf])
def test_squashing_ops_are_stable_at_extremes(x):
    v = Value(x)
    s, t, sp = v.sigmoid(), v.tanh(), v.softplus()
    positive = x > 0
    assert s.data == (1.0 if positive else 0.0)
    assert t.data == (1.0 if positive else -1.0)
    assert sp.data == (x if positive else 0.0)
    (s + t).backward()
    assert v.grad == 0.0, f"gradient at {x} should vanish, got {v.grad}"


def test_softplus_gradient_saturates_to_one_for_large_inputs():
    v = Value(1000.0)
    v.softplus().backward()
    assert v.grad == 1.0


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "relu", "sin"])
def test_nan_propagates_through_unary_ops(name):
    assert math.isnan(getattr(Value(math.nan), name)().data)


def test_infinity_propagates_through_arithmetic():
    assert (Value(math.inf) + 1).data == math.inf
    assert (Value(math.inf) * -2).data == -math.inf
    assert Value(math.inf).exp().data == math.inf


def test_failed_op_leaves_inputs_unchanged():
    x = Value(-1.0)
    x.grad = 0.5
    with pytest.raises(ValueError):
        x.log()
    assert (x.data, x.grad, x.parents) == (-1.0, 0.5, ())


def test_unknown_op_setting_is_a_type_error():
    with pytest.raises(TypeError, match="slope"):
        Value(1.0).leaky_relu(alpha=0.1)
