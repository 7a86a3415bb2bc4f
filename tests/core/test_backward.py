"""backward(): the chain rule over reused nodes, accumulation, depth, determinism, memory."""

import gc
import math
import subprocess
import sys
import textwrap

import pytest

from autograd_core import Value, dot, sum_values, topological_order


def test_backward_example_from_the_readme():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = (a * b + a ** 2).tanh()
    L.backward()
    local = 1 - math.tanh(-2.0) ** 2
    assert a.grad == pytest.approx(local * (b.data + 2 * a.data), rel=1e-15)
    assert b.grad == pytest.approx(local * a.data, rel=1e-15)
    assert L.grad == 1.0


def test_backward_square_through_one_reused_input():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_backward_reused_node_twice_removed():
    a = Value(2.0)
    b = a + a
    c = b + b
    c.backward()
    assert (a.grad, b.grad) == (4.0, 2.0)


def test_backward_twice_accumulates_in_leaves_only():
    x = Value(3.0)
    y = x * x * x
    y.backward()
    assert x.grad == 27.0
    x.grad = 0
    y.backward()
    assert x.grad == 27.0, "interior grads must be overwritten, not double-counted"
    y.backward()
    assert x.grad == 54.0, "leaves accumulate across calls, as in PyTorch"


def test_backward_gradient_argument_seeds_the_root():
    x = Value(2.0)
    y = x * 5
    y.backward(gradient=0.5)
    assert (x.grad, y.grad) == (2.5, 0.5)


def test_backward_on_a_leaf_accumulates_the_seed():
    x = Value(1.0)
    x.backward()
    x.backward(2.0)
    assert x.grad == 3.0


def test_backward_sum_values_is_one_node_with_unit_partials():
    xs = [Value(float(i)) for i in range(5)]
    s = sum_values(xs + [xs[0]])
    assert s.op == "sum" and len(s.parents) == 6 and s.data == 10.0
    s.backward()
    assert [x.grad for x in xs] == [2.0, 1.0, 1.0, 1.0, 1.0]


def test_backward_dot_with_bias_is_one_node():
    w = [Value(1.0), Value(2.0)]
    x = [Value(3.0), Value(4.0)]
    b = Value(0.5)
    out = dot(w, x, b)
    assert out.op == "dot" and out.data == 11.5 and topological_order(out)[-1] is out
    out.backward()
    assert [v.grad for v in w + x + [b]] == [3.0, 4.0, 1.0, 2.0, 1.0]


def test_dot_and_sum_accept_numbers_and_reject_mismatched_lengths():
    w = [Value(2.0), Value(3.0)]
    assert dot(w, [1, 2]).data == 8.0
    assert sum_values([1, Value(2.0)]).data == 3.0
    assert sum_values([]).data == 0.0
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        dot(w, [1, 2, 3])


def test_topological_order_puts_parents_first_and_root_last():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    order = topological_order(d)
    assert order[-1] is d and len(order) == 4
    for node in order:
        for parent in node.parents:
            assert order.index(parent) < order.index(node)


@pytest.mark.slow
def test_backward_a_million_deep_chain_without_recursion():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad == pytest.approx(1.0000001 ** 1_000_000, rel=1e-9)
    del y  # freeing must not recurse either


@pytest.mark.slow
def test_backward_a_million_term_sum_both_ways():
    xs = [Value(1.0) for _ in range(1_000_000)]
    one_node = sum_values(xs)
    one_node.backward()
    chain = sum(xs)  # a 1,000,000-deep chain of binary adds
    chain.backward()
    assert one_node.data == chain.data == 1_000_000.0
    assert xs[0].grad == xs[-1].grad == 2.0


def test_backward_creates_no_values():
    x = Value(0.3)
    y = ((x * 2).tanh() + x.sigmoid() * x).exp() / (1 + x * x)
    gc.collect()
    before = sum(type(o) is Value for o in gc.get_objects())
    y.backward()
    after = sum(type(o) is Value for o in gc.get_objects())
    assert after == before, f"first-order backward made {after - before} Values"


def test_graph_has_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = Value(0.5)
        y = x
        for i in range(1000):
            y = (y * 1.01 + x).tanh() if i % 2 else y.sigmoid() - x
        y.backward()
        del y, x
        assert gc.collect() == 0, "the graph left objects that only the cyclic collector can free"
    finally:
        gc.enable()


@pytest.mark.slow
def test_backward_is_bit_for_bit_deterministic_across_processes():
    script = textwrap.dedent("""
        import random
        from autograd_core import Value, dot, sum_values
        rng = random.Random(0)
        xs = [Value(rng.uniform(-1, 1)) for _ in range(50)]
        nodes = list(xs)
        for i in range(400):
            a, b = rng.choice(nodes), rng.choice(nodes)
            nodes.append([a * b, a + b, (a - b).tanh(), dot([a, b], [b, a])][i % 4])
        out = sum_values(nodes[-100:])
        out.backward()
        print([x.grad.hex() for x in xs])
    """)
    runs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout
            for seed in (1, 2, 3)}
    assert len(runs) == 1, "gradients differ between runs"
