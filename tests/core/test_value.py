"""Value: construction, attributes, operators, comparisons, repr."""

import math
from fractions import Fraction

import pytest

from autograd_core import Value


@pytest.mark.parametrize("data", [2, 2.5, True, Fraction(1, 4)])
def test_value_stores_real_numbers_as_float(data):
    v = Value(data)
    assert type(v.data) is float and v.data == float(data)


def test_value_accepts_numpy_scalars():
    np = pytest.importorskip("numpy")
    for data in (np.float64(1.5), np.float32(0.5), np.int64(3), np.bool_(True), np.array(2.0)):
        v = Value(data)
        assert type(v.data) is float and v.data == float(data), repr(data)


@pytest.mark.parametrize("data", ["1.0", None, 1 + 2j, [1.0], (1.0,), {"a": 1}])
def test_value_rejects_non_real_data_naming_the_type(data):
    with pytest.raises(TypeError, match=type(data).__name__):
        Value(data)


def test_value_of_a_value_says_to_use_data_or_detach():
    with pytest.raises(TypeError, match="detach"):
        Value(Value(1.0))


def test_value_attributes_of_a_leaf():
    v = Value(3.0, label="x")
    assert (v.data, v.grad, v.label, v.op, v.parents, v.is_leaf) == (3.0, 0.0, "x", "", (), True)
    v.label = "y"
    assert v.label == "y"


def test_value_parents_keep_order_and_duplicates():
    a, b = Value(1.0), Value(2.0)
    assert (a - b).parents == (a, b)
    assert (b - a).parents == (b, a)
    square = a * a
    assert square.parents == (a, a) and square.op == "mul"


def test_value_repr_shows_data_grad_and_label():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(-1.5, label="w")) == "Value(data=-1.5, grad=0.0, label='w')"


@pytest.mark.parametrize("expr,expected,op", [
    (lambda a: a + 2, 5.0, "add"), (lambda a: 2 + a, 5.0, "add"),
    (lambda a: a - 2, 1.0, "sub"), (lambda a: 2 - a, -1.0, "sub"),
    (lambda a: a * 2, 6.0, "mul"), (lambda a: 2 * a, 6.0, "mul"),
    (lambda a: a / 2, 1.5, "div"), (lambda a: 6 / a, 2.0, "div"),
    (lambda a: a ** 2, 9.0, "pow"), (lambda a: 2 ** a, 8.0, "rpow"),
    (lambda a: a ** Value(2.0), 9.0, "power"), (lambda a: -a, -3.0, "neg"),
    (lambda a: abs(-a), 3.0, "abs"),
])
def test_value_operators_with_numbers_on_either_side(expr, expected, op):
    out = expr(Value(3.0))
    assert (out.data, out.op) == (expected, op)


def test_value_unary_plus_is_the_same_value():
    a = Value(1.0)
    assert +a is a


def test_value_comparisons_compare_data_and_return_bool():
    a, b = Value(1.0), Value(2.0)
    assert (a < b, a <= b, a > b, a >= b, a < 1.5, a >= 1) == (True, True, False, False, True, True)
    assert type(a < b) is bool


def test_value_equality_and_hash_are_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2


def test_value_methods_exist_for_every_unary_op():
    x = Value(0.5)
    for name, expected in [("exp", math.exp(0.5)), ("log", math.log(0.5)), ("sqrt", math.sqrt(0.5)),
                           ("tanh", math.tanh(0.5)), ("sigmoid", 1 / (1 + math.exp(-0.5))),
                           ("relu", 0.5), ("softplus", math.log1p(math.exp(0.5))),
                           ("sin", math.sin(0.5)), ("cos", math.cos(0.5))]:
        assert getattr(x, name)().data == pytest.approx(expected, rel=1e-15), name
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.02)
    assert Value(-2.0).leaky_relu(0.2).data == pytest.approx(-0.4)
    assert Value(-2.0).leaky_relu(slope=0.3).data == pytest.approx(-0.6)


def test_value_item_and_float_give_the_data():
    v = Value(2.5)
    assert v.item() == 2.5 and float(v) == 2.5


def test_value_detach_is_a_leaf_with_the_same_data():
    x = Value(2.0)
    y = (x * 3).detach()
    assert y.is_leaf and y.data == 6.0
    (y * x).backward()
    assert x.grad == 6.0 and y.grad == 2.0


def test_value_numpy_scalar_on_the_left_defers_to_value():
    np = pytest.importorskip("numpy")
    out = np.float64(2.0) * Value(3.0)
    assert isinstance(out, Value) and out.data == 6.0


def test_value_subclass_on_the_right_keeps_operand_order():
    class Named(Value):
        __slots__ = ()

    a, b = Value(6.0), Named(2.0)
    assert (a - b).data == 4.0 and (a / b).data == 3.0
    assert (a - b).parents == (a, b)
