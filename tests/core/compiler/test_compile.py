"""`autograd_core.compile`: the generated code gives exactly eager's floats (value and every .grad),
sees the branches it cannot replay, and explains bad arguments. Notebook 09 reads its code."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd_core import OPS, Op, Value, apply_op, compile, dot, no_grad, sum_values
from autograd_core.compiler import DataDependentError, compile_loss
from tests.helpers.op_cases import CASES, IDS, draw_point
from tests.helpers.programs import programs, run


def eager(f, args, params):
    """(value, [param grads]) of f(*args).backward() from zeroed grads, args as Values."""
    for p in params:
        p.grad = 0.0
    out = f(*[lift(a) for a in args])
    out = out[0] if isinstance(out, tuple) else out
    out.backward()
    return out.data, [p.grad for p in params]


def compiled_run(c, args, params):
    for p in params:
        p.grad = 0.0
    out = c(*args)
    return (out[0] if isinstance(out, tuple) else out), [p.grad for p in params]


def lift(a):
    return [lift(x) for x in a] if isinstance(a, list) else Value(a)


def assert_same(expected, got, what):
    assert expected[0] == got[0], f"{what}: eager value {expected[0]!r}, compiled {got[0]!r}"
    diffs = [(k, e, g) for k, (e, g) in enumerate(zip(expected[1], got[1])) if e != g]
    assert not diffs, f"{what}: grads differ (index, eager, compiled): {diffs[:3]}"


# --- random graphs and every op --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(programs())
def test_compile_random_programs_match_eager(program):
    inputs, steps = program
    params = [Value(x) for x in inputs]

    def f():
        return run(steps, params)

    c = compile(f, batched=False)
    assert_same(eager(f, [], params), compiled_run(c, [], params), f"program {steps}")


@settings(max_examples=40, deadline=None)
@given(programs())
def test_compile_argument_grads_match_eager(program):
    inputs, steps = program

    def f(*xs):
        return run(steps, list(xs))

    xs = [Value(x) for x in inputs]
    out = f(*xs)
    out.backward()
    value, grads = compile(f, *inputs, argnums=tuple(range(len(inputs))))(*inputs)
    assert value == out.data and list(grads) == [x.grad for x in xs], (
        f"eager {out.data} {[x.grad for x in xs]}, compiled {value} {grads}")


@settings(max_examples=40, deadline=None)
@given(programs(), st.integers(2, 5))
def test_compile_batch_loop_of_random_per_sample_graphs_matches_eager(program, n):
    inputs, steps = program
    params = [Value(x) for x in inputs]
    rows = [[(i + 1) * 0.37 * (j - 1.5) for j in range(len(inputs))] for i in range(n)]

    def f(X):
        outs = [run(steps, [p * x for p, x in zip(params, row)]) for row in X]
        return sum_values(outs) / len(outs) + dot(params, params)

    c = compile(f, rows)
    assert c._programs[-1].batched, "expected a loop over the samples"
    assert_same(eager(f, [rows], params), compiled_run(c, [rows], params), f"program {steps}")


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_compile_every_op_matches_eager(name, params, data):
    op = OPS[name]
    arity = op.arity or data.draw(st.integers(1, 7))
    leaves = [Value(x) for x in draw_point(op, data, arity)]

    def f():
        out = apply_op(name, *leaves, **params)
        return out * leaves[0] + out  # shared nodes: out feeds two nodes, leaves[0] two more

    assert_same(eager(f, [], leaves), compiled_run(compile(f), [], leaves), f"{name}{params}")


def test_compile_builds_lines_for_an_op_it_has_never_seen():
    cube = Op("cube", 1, lambda x: x * x * x, lambda x, out: 3.0 * x * x)
    cosh = Op("cosh", 1, math.cosh, lambda x, out: math.sinh(x))  # math on a symbol: a call
    x = Value(0.7)

    def f():
        return apply_op(cosh, apply_op(cube, x))

    c = compile(f)
    assert "((3.0 * p) * p)" in c.source, f"cube's rule run on symbols, inline:\n{c.source}"
    assert "d_cosh(v1, v2)" in c.source, f"cosh's rule (math.sinh) called:\n{c.source}"
    assert_same(eager(f, [], [x]), compiled_run(c, [], [x]), "cube, cosh")


# --- models and losses -----------------------------------------------------------------------------


def moons(n=24, seed=3):
    X, y = nn.data.make_moons(n, noise=0.1, seed=seed)
    return X, y


LOSSES = {
    "hinge": (1, lambda s, y: nn.hinge_loss(s, [2.0 * t - 1.0 for t in y])),
    "bce_with_logits": (1, nn.binary_cross_entropy_with_logits),
    "bce": (1, lambda s, y: nn.binary_cross_entropy([v.sigmoid() for v in s], y)),
    "mse": (1, nn.mse_loss),
    "l1": (1, nn.l1_loss),
    "cross_entropy": (2, lambda s, y: nn.cross_entropy(s, [int(t) for t in y])),
}


@pytest.mark.parametrize("kind", list(LOSSES))
@pytest.mark.parametrize("batched", [True, False])
def test_compile_mlp_losses_match_eager(kind, batched):
    nout, loss_fn = LOSSES[kind]
    X, y = moons()
    model = nn.MLP(2, [6, nout], seed=5)
    params = model.parameters()

    def f(X):
        return loss_fn([model(x) for x in X], y) + 1e-3 * nn.l2_penalty(params)

    c = compile(f, X, names=model, batched=batched)
    rng = random.Random(0)
    for step in range(3):  # parameters move between calls: the compiled code reads them anew
        assert_same(eager(f, [X], params), compiled_run(c, [X], params), f"{kind}, step {step}")
        for p in params:
            p.data += rng.uniform(-0.3, 0.3)


@pytest.mark.parametrize("kind", list(LOSSES))
def test_compile_mlp_losses_under_no_grad_match_eager(kind):
    nout, loss_fn = LOSSES[kind]
    X, y = moons()
    model = nn.MLP(2, [6, nout], seed=5)

    def f(X):
        return loss_fn([model(x) for x in X], y)

    c = compile(f, X)
    model.zero_grad()
    with no_grad():
        got, expected = c(X), f(X).data
    grads = [p.grad for p in model.parameters()]
    assert got == expected and not any(grads), f"{kind}: {got} vs {expected}, grads {grads[:3]}"


def test_compile_batched_and_straight_line_code_agree():
    X, y = moons()
    model = nn.MLP(2, [5, 1], seed=2)
    params = model.parameters()

    def f(X, y):
        return nn.hinge_loss([model(x) for x in X], y)

    labels = [2.0 * t - 1.0 for t in y]
    loop, line = compile(f, X, labels), compile(f, X, labels, batched=False)
    assert "for i in range(24)" in loop.source and "for i in" not in line.source
    assert_same(compiled_run(line, [X, labels], params), compiled_run(loop, [X, labels], params),
                "loop vs straight-line")


def test_compile_reads_new_arguments_and_parameters_each_call():
    w = Value(2.0)
    c = compile(lambda x: (w * x).tanh(), 0.5)
    w.data = -1.0
    w.grad = 0.0
    assert c(0.25) == math.tanh(-0.25), "the compiled call should read w.data and x anew"
    assert w.grad == 0.25 * (1.0 - math.tanh(-0.25) ** 2)


def test_compile_adds_this_calls_gradient_to_grad():
    w = Value(3.0)
    c = compile(lambda x: w * x, 2.0)
    w.grad = 1.5
    c(2.0)
    assert w.grad == 1.5 + 2.0, f"expected old + this call's total = 3.5, got {w.grad}"


def test_compile_under_no_grad_runs_the_forward_only():
    w = Value(0.3)
    c = compile(lambda x: (w * x).sigmoid(), 1.0)
    with no_grad():
        value = c(2.0)
    assert value == (w * 2.0).sigmoid().data and w.grad == 0.0, f"value {value}, w.grad {w.grad}"


def test_compile_first_called_under_no_grad_still_traces_the_graph():
    w = Value(0.3)
    with no_grad():
        c = compile(lambda x: w * x, 1.0)
    c(2.0)
    assert w.grad == 2.0, f"expected the gradient 2.0, got {w.grad}"


def test_compile_returns_extra_outputs_as_floats():
    w = Value(0.5)
    c = compile(lambda X: (lambda outs: (outs[0] + outs[1], outs))([w * x for x in X]), [1.0, 3.0])
    value, outs = c([2.0, 4.0])
    assert (value, outs) == (3.0, [1.0, 2.0]), f"got {value}, {outs}"


# --- what the trace cannot see -----------------------------------------------------------------------


def test_compile_retraces_when_a_comparison_of_values_changes():
    w = Value(0.5)

    def f(x):
        return (x * w).exp() if x > 0 else (x * w).sin()

    c = compile(f, 1.0)
    assert (c(2.0), c(-1.0)) == (math.exp(1.0), math.sin(-0.5)) and c.traces == 2


def test_compile_refuses_a_changed_branch_when_told_not_to_retrace():
    c = compile(lambda x: x * 2.0 if x.data > 0 else -x, 1.0, retrace=False)
    with pytest.raises(DataDependentError, match="picks the graph"):
        c(-1.0)


def test_compile_refuses_numbers_taken_out_of_the_graph():
    with pytest.raises(DataDependentError, match="out of the graph"):
        compile(lambda x: x * (x.data * 2.0), 1.0)


def test_compile_relu_and_abs_are_ops_not_branches():
    c = compile(lambda x: x.relu() + abs(x), 1.0)
    assert [c(v) for v in (2.0, -3.0, 0.0)] == [4.0, 3.0, 0.0] and c.traces == 1


def test_compile_loop_length_from_a_value_is_detected():
    def f(x):
        y = x
        while y < 10.0:
            y = y * 2.0
        return y

    c = compile(f, 3.0)  # 3 -> 6 -> 12: two doublings, and so for 4.0; 1.0 needs four
    assert (c(4.0), c.traces) == (16.0, 1)
    assert (c(1.0), c.traces) == (16.0, 2)


def test_compile_batch_samples_may_switch_branches_between_calls():
    X, y = moons(12)
    model = nn.MLP(2, [4, 1], seed=7)
    params = model.parameters()

    def f(X, y):  # BCE with logits branches on each logit's sign
        return nn.binary_cross_entropy_with_logits([model(x) for x in X], y)

    c = compile(f, X, y)
    for b in (1.5, -1.5, 0.0):  # shifts every logit's sign one way, then the other
        params[-1].data = b
        assert_same(eager(f, [X, y], params), compiled_run(c, [X, y], params), f"bias {b}")


# --- arguments and source ---------------------------------------------------------------------


def test_compile_wrong_argument_count_is_a_type_error():
    c = compile(lambda x, y: x * y, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"takes 2 argument\(s\) \(x, y\).*got 3"):
        c(1.0, 2.0, 3.0)


def test_compile_wrong_argument_type_is_a_type_error():
    c = compile(lambda X: X[0] * X[1], [1.0, 2.0])
    with pytest.raises(TypeError, match=r"X\[1\].*str"):
        c([1.0, "2"])
    with pytest.raises(TypeError, match="plain numbers"):
        c([1.0, Value(2.0)])


def test_compile_wrong_argument_shape_is_a_value_error():
    c = compile(lambda X: X[0] * X[1], [1.0, 2.0])
    with pytest.raises(ValueError, match="expected 2 items.*got 3"):
        c([1.0, 2.0, 3.0])


def test_compile_source_has_forward_and_backward_blocks_with_names():
    model = nn.MLP(2, [4, 1], seed=1)
    x = Value(0.5, label="x")
    c = compile(lambda: (model([x, 1.0]) * x), names=model)
    source = c.source
    assert "# forward" in source and "# backward" in source, source
    assert "layers_0_neurons_3_w_1" in source and "d_layers_1_neurons_0_b" in source, source


def test_compile_source_shows_labels_as_comments():
    w, b = Value(0.5, "w"), Value(0.1, "b")

    def neuron(x):
        z = w * x + b
        z.label = "z"
        return z.tanh()

    assert "  # z" in compile(neuron, 1.0).source


# --- training (what fit(..., compile=True) runs) ----------------------------------------------------


@pytest.mark.parametrize("loss, nout, static", [("hinge", 1, False), ("bce", 1, False),
                                                ("mse", 1, False), ("ce", 2, True)])
def test_loss_compiler_trains_exactly_like_eager(loss, nout, static):
    from nn.train.evaluation import Task as _Task, l2_term as _l2_term

    X, y = moons(20)
    labels = [2 * t - 1 for t in y] if loss == "hinge" else y
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [5, nout], seed=4)
        params = model.parameters()
        opt = nn.optim.SGD(params, lr=0.1, momentum=0.9)
        task = _Task(loss, labels, None)

        def objective(outputs, targets):
            return task.loss_fn(outputs, targets) + _l2_term(params, 1e-3)

        step = compile_loss(model, objective, static_targets=static)
        history = []
        for X_batch, y_batch in nn.data.DataLoader(X, labels, 8, shuffle=True, seed=1):
            opt.zero_grad()
            if compiled:
                value, outputs = step(X_batch, y_batch)
            else:
                outputs = [model(x) for x in X_batch]
                value = objective(outputs, y_batch)
                value.backward()
                value = value.data
            opt.step()
            history.append((value, task.correct(outputs, y_batch)))
        runs.append((history, [p.data for p in params]))
    assert runs[0] == runs[1], f"eager {runs[0][0]}, compiled {runs[1][0]}"
