"""Random expression DAGs (shared subexpressions, reused nodes) against central differences."""

from hypothesis import given

from autograd_core import Value
from tests.helpers.programs import as_function, central_difference, close, programs, run


@given(programs())
def test_random_program_gradients_match_central_differences(program):
    inputs, steps = program
    xs = [Value(x) for x in inputs]
    out = run(steps, xs)
    out.backward()
    f = as_function(steps)
    for i, x in enumerate(xs):
        numeric = central_difference(f, inputs, i)
        scale = max(1.0, abs(out.data))
        assert close(x.grad, numeric, rtol=1e-5, atol=1e-6 * scale), (
            f"input {i}: analytic {x.grad} vs numeric {numeric} for {steps}")


@given(programs())
def test_random_program_backward_twice_gives_the_same_grads(program):
    inputs, steps = program
    xs = [Value(x) for x in inputs]
    out = run(steps, xs)
    out.backward()
    first = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    out.backward()
    assert [x.grad for x in xs] == first
