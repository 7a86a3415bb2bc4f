"""The engine as the lesson: one readable sweep that everything uses, a fast path equal to it bit for
bit, a Value class that reads top-down, and a core that stays right under threads, odd inputs,
failures and copies."""

import ast
import asyncio
import copy
import inspect
import math
import pickle
import struct
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import autograd_core
from autograd_core import (OPS, Value, apply_op, backprop, backward_trace, dot, enable_grad,
                           gradients, is_grad_enabled, no_grad, set_grad_enabled, topological_order)
from autograd_core import engine, value as value_module
from tests.helpers.programs import programs, run
from tests.helpers import REPO

ROOT = REPO


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


# --- one sweep -------------------------------------------------------------------------------------


@given(programs(), st.floats(-2, 2))
def test_fast_path_gives_the_readable_sweeps_gradients_bit_for_bit(program, seed):
    inputs, steps = program
    xs = [Value(x) for x in inputs]
    out = run(steps, xs)
    expected = backprop(out, seed)  # the readable sweep, on floats
    out.backward(seed)  # the fast path
    for i, x in enumerate(xs):
        want = expected.get(x, 0.0)
        assert bits(x.grad) == bits(0.0 + want), f"input {i}: fast {x.grad!r} vs readable {want!r}"
    for node in topological_order(out):
        if not node.is_leaf:
            assert node.grad == expected[node] or (math.isnan(node.grad) and math.isnan(expected[node]))


def test_readable_sweep_is_one_screen_commented_and_fits_a_notebook():
    source = inspect.getsource(engine.backprop)
    body = source[source.index('"""', source.index('"""') + 3) + 3:].strip().splitlines()
    assert 8 <= len(body) <= 25, f"backprop's body has {len(body)} lines"
    comments = [line for line in body if "#" in line]
    assert len(comments) >= len(body) // 2, f"only {len(comments)} of {len(body)} lines explain"
    wide = [line for line in source.splitlines() if len(line) > 88]
    assert not wide, f"lines too wide for notebook 02, which prints this source: {wide}"


def test_gradients_higher_order_and_steps_all_run_the_readable_sweep(monkeypatch):
    calls = []
    original = engine.backprop

    def spy(*args, **kwargs):
        calls.append(kwargs.get("on_values", False))
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "backprop", spy)
    monkeypatch.setattr(autograd_core.viz.steps, "backprop", spy)
    x = Value(0.5)
    y = (x * x).tanh()
    gradients(y, [x])
    y.backward(create_graph=True)
    autograd_core.grad(lambda v: v.sin())(1.0)
    autograd_core.hessian(lambda a, b: a * b * b)(1.0, 2.0)
    autograd_core.jacobian(lambda a, b: [a * b, a + b])(1.0, 2.0)
    list(backward_trace(y))
    assert len(calls) >= 6 and True in calls and False in calls, calls


def test_backward_trace_steps_are_the_engines_own_numbers():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    loss = (a * b + a ** 2).tanh()
    steps = list(backward_trace(loss))
    grads = backprop(loss)
    for step in steps:
        assert step.grad_out == grads[step.node]
    loss.backward()
    assert steps[-1].parent_grads[0] == a.grad or steps[-2].parent_grads[0] == a.grad


# --- value.py reads top-down ---------------------------------------------------------------------


def test_value_py_opens_with_class_value():
    tree = ast.parse((ROOT / "autograd_core" / "value.py").read_text())
    definitions = [n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    assert isinstance(definitions[0], ast.ClassDef) and definitions[0].name == "Value"


def test_every_op_with_a_method_is_declared_by_name_in_the_class_body():
    tree = ast.parse((ROOT / "autograd_core" / "value.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Value")
    declared = {t.id: n.value for n in cls.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
    for name, op in OPS.items():
        if op.method:
            assert name in declared, f"Value has no line `{name} = unary({name!r})`"
            call = declared[name]
            assert isinstance(call, ast.Call) and call.args[0].value == name


@pytest.mark.parametrize("name", [n for n, op in OPS.items() if op.method])
def test_op_methods_have_their_own_name_module_and_math(name):
    method = getattr(Value, name)
    assert method.__qualname__ == f"Value.{name}"
    assert method.__module__ == "autograd_core.value"
    assert OPS[name].formula and OPS[name].formula in method.__doc__


# --- threads ---------------------------------------------------------------------------------------


def _run_threads(n, target):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_gradients_through_a_shared_graph_from_many_threads_agree():
    x = Value(0.3)
    shared = x
    for _ in range(100):
        shared = (shared * 1.01).tanh() + x * 0.001
    want = gradients(shared * 2.0, [x])[0]
    size = len(topological_order(shared))
    wrong = []
    sys_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        def work(i):
            for _ in range(300):
                got = gradients(shared * 2.0, [x])[0]
                if got != want:
                    wrong.append(got)
                if len(topological_order(shared)) != size:
                    wrong.append("order")
        _run_threads(6, work)
    finally:
        sys.setswitchinterval(sys_interval)
    assert not wrong, f"{len(wrong)} wrong answers, e.g. {wrong[:3]} (want {want})"


def test_backward_from_many_threads_accumulates_as_if_one_after_another():
    x = Value(0.7)
    shared = x
    for _ in range(50):
        shared = (shared * 0.99).sin()
    roots = [shared * float(i + 1) for i in range(6)]
    want = sum(gradients(r, [x])[0] for r in roots)
    sys_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _run_threads(6, lambda i: [roots[i].backward() for _ in range(20)])
    finally:
        sys.setswitchinterval(sys_interval)
    assert math.isclose(x.grad, 20 * want, rel_tol=1e-12), (x.grad, 20 * want)


def test_one_no_grad_instance_shared_by_threads_keeps_each_threads_mode():
    guard = no_grad()
    barrier = threading.Barrier(4)
    seen = []

    def work(i):
        with guard:
            barrier.wait()  # all four threads are inside the same instance at once
            inside = is_grad_enabled()
            barrier.wait()
        seen.append((inside, is_grad_enabled(), (Value(1.0) * 2.0).is_leaf))

    _run_threads(4, work)
    assert seen == [(False, True, False)] * 4, seen
    assert is_grad_enabled()


def test_one_no_grad_instance_shared_by_asyncio_tasks():
    guard = no_grad()

    async def task(delay):
        with guard:
            await asyncio.sleep(delay)
            inside = is_grad_enabled()
        return inside, is_grad_enabled()

    async def main():
        return await asyncio.gather(task(0.01), task(0.0), task(0.02))

    assert asyncio.run(main()) == [(False, True)] * 3
    assert is_grad_enabled()


# --- PyTorch semantics -----------------------------------------------------------------------------


def test_bare_no_grad_decorator():
    @no_grad
    def f(x):
        return x * 2.0

    assert f(Value(1.0)).is_leaf and is_grad_enabled()


def test_no_grad_on_a_generator_applies_inside_its_body_only():
    @no_grad()
    def gen(x):
        yield (x * 2.0).is_leaf
        yield is_grad_enabled()

    g = gen(Value(1.0))
    assert next(g) is True
    assert is_grad_enabled()  # between yields the caller's mode holds
    assert next(g) is False


def test_set_grad_enabled_as_a_plain_call_switches_the_mode():
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled() and (Value(1.0) * 2.0).is_leaf
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_format_spec_formats_the_number():
    v = Value(3.14159)
    assert f"{v:.3f}" == "3.142" and f"{v:>8.2f}" == "    3.14" and f"{v}" == str(v)


@pytest.mark.parametrize("x,c", [(0.0, 0.0), (2.0, 0.0)])
def test_pow_zero_exponent_has_zero_derivative(x, c):
    v = Value(x)
    (v ** c).backward()
    assert v.grad == 0.0


def test_power_with_zero_base_and_zero_exponent_gives_pytorchs_zeros():
    x, y = Value(0.0), Value(0.0)
    (x ** y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)
    x, y = Value(0.0), Value(2.0)
    (x ** y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)


def test_numpy_scalars_work_in_dot_and_as_data():
    np = pytest.importorskip("numpy")
    w = [Value(1.0), Value(2.0)]
    out = dot(w, [np.float64(3.0), np.float32(0.5)], np.int64(1))
    assert out.data == 5.0
    v = Value(1.0)
    v.data = np.float64(0.5)
    assert type(v.data) is float
    v.data = 1
    assert type(v.data) is float
    v.sin().backward()
    assert v.grad == math.cos(1.0)
    with pytest.raises(TypeError, match="Value.data"):
        v.data = "0.5"
    assert v.data == 1.0


def test_sum_of_nothing_is_a_float():
    assert type(apply_op("sum").data) is float


# --- a failed backward changes nothing ---------------------------------------------------------


@pytest.mark.parametrize("order", ["a+b", "b+a"])
def test_failed_backward_leaves_every_grad_as_it_was(order):
    a, b = Value(0.0, "a"), Value(4.0, "b")
    a.grad, b.grad = 1.5, 2.5
    out = a.sqrt() + b * 2.0 if order == "a+b" else b * 2.0 + a.sqrt()
    out.grad = 7.0
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(0\.0\)"):
        out.backward()
    assert (a.grad, b.grad, out.grad) == (1.5, 2.5, 7.0)


def test_failed_backward_with_create_graph_leaves_every_grad_as_it_was():
    a = Value(0.0)
    out = a.sqrt() * 3.0
    with pytest.raises(ZeroDivisionError, match="backward through sqrt"):
        out.backward(create_graph=True)
    assert a.grad == 0.0 and out.grad == 0.0


# --- errors in plain words -------------------------------------------------------------------------


@pytest.mark.parametrize("make,name", [
    (lambda: 2 ** Value(2000.0), "rpow"),
    (lambda: Value(1e308) ** 2, "pow"),
    (lambda: Value(1000.0).exp(), "exp"),
    (lambda: Value(800.0).cosh(), "cosh"),
    (lambda: Value(10 ** 400), "Value"),
])
def test_overflow_errors_name_the_op_in_plain_words(make, name):
    with pytest.raises(OverflowError) as info:
        make()
    text = str(info.value)
    assert name in text and "too large for a float" in text and "(34," not in text, text


# --- copying -----------------------------------------------------------------------------------------


def test_graphs_pickle_and_unpickle_with_ops_by_name():
    x = Value(0.5, "x")
    y = (x.leaky_relu(0.2) * x + x ** 3).elu(0.5)
    y.backward()
    z = pickle.loads(pickle.dumps(y))
    assert z.data == y.data and z.op == y.op and z.parents[0].op == "add"
    leaves = [v for v in topological_order(z) if v.is_leaf and v.label == "x"]
    assert len(leaves) == 1 and leaves[0].grad == x.grad  # x is shared: one copy
    leaves[0].grad = 0.0
    z.backward()
    assert leaves[0].grad == x.grad


def test_pickle_keeps_leaves_shared_between_graphs():
    w = Value(1.0, "w")
    a, b = w * 2.0, w * 3.0
    a2, b2 = pickle.loads(pickle.dumps([a, b]))
    assert a2.parents[0] is b2.parents[0]


@pytest.mark.slow
def test_deepcopy_of_a_million_deep_graph():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y2 = copy.deepcopy(y)
    assert y2 is not y and y2.data == y.data
    leaves = [v for v in topological_order(y2) if v.is_leaf]
    assert len(leaves) == 1_000_001 and all(v is not x for v in leaves)


def test_deepcopy_keeps_shared_nodes_shared():
    x = Value(2.0)
    h = x * x
    pair = copy.deepcopy([h + 1.0, h * 2.0])
    assert pair[0].parents[0] is pair[1].parents[0]


# --- new ops and functional transforms -------------------------------------------------------------


def test_jacobian_of_a_vector_function():
    J = autograd_core.jacobian(lambda x, y: [x * y, x + y.sin()])(2.0, 0.5)
    assert J == [[0.5, 2.0], [1.0, math.cos(0.5)]]


def test_grad_passes_keyword_arguments_through():
    f = lambda x, scale=1.0: (x * scale).tanh()
    assert autograd_core.grad(f)(0.3, scale=2.0) == pytest.approx(2.0 * (1 - math.tanh(0.6) ** 2))
    value, slope = autograd_core.value_and_grad(f)(0.3, scale=2.0)
    assert value == math.tanh(0.6)


# --- one node constructor ------------------------------------------------------------------------


@pytest.mark.parametrize("grad_mode", [True, False])
def test_operator_methods_build_exactly_what_make_builds(grad_mode):
    from autograd_core.node import make

    x, y = Value(1.5), Value(-2.0)
    with set_grad_enabled(grad_mode):
        pairs = [(x * y, make(Value, x.data * y.data, OPS["mul"], x, y)),
                 (x.tanh(), make(Value, math.tanh(x.data), OPS["tanh"], x))]
    for built, made in pairs:
        for slot in Value.__slots__:
            assert getattr(built, slot) == getattr(made, slot), f"{built.op or 'leaf'}: slot {slot}"
