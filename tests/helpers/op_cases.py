"""The op registry as test cases: every (op, settings) pair, and points inside each op's domain."""

from hypothesis import strategies as st

from autograd_core import OPS

CASES = [(name, params) for name, op in OPS.items() for params in op.test_params]
IDS = [f"{name}{params or ''}" for name, params in CASES]


def draw_point(op, data, arity: int, kink_gap: float = 0.05) -> list:
    """`arity` inputs drawn inside the op's domain, at least `kink_gap` from its kinks (points of
    each input, or for a binary op points of x - y: maximum's kink is the tie x == y)."""
    xs = []
    for i in range(arity):
        low, high = op.domain[min(i, len(op.domain) - 1)]
        x = data.draw(st.floats(low, high, allow_nan=False))
        if arity != 2:
            for kink in op.kinks:
                if abs(x - kink) < kink_gap:
                    x = kink + kink_gap if x >= kink else kink - kink_gap
        xs.append(x)
    if arity == 2:
        for kink in op.kinks:
            gap = xs[0] - xs[1] - kink
            if abs(gap) < kink_gap:  # move y away, so that x - y is at least kink_gap from the kink
                xs[1] += gap - kink_gap if gap >= 0 else gap + kink_gap
    return xs
