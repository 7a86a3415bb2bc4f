"""Reference solutions to notebook 01's exercises (try them yourself first)."""

from autograd_core import Value


def central_slope(f, x, h=1e-5):
    """Exercise 1: the central difference (f(x + h) - f(x - h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def difference_of_squares(a: Value, b: Value) -> Value:
    """Exercise 2: (a + b) * (a - b), built from the Values a and b."""
    return (a + b) * (a - b)


def partials(f, xs, h=1e-5):
    """Exercise 3: one central difference per input, nudging one input at a time."""
    slopes = []
    for i in range(len(xs)):
        up = [x + h if j == i else x for j, x in enumerate(xs)]
        down = [x - h if j == i else x for j, x in enumerate(xs)]
        slopes.append((f(*up) - f(*down)) / (2 * h))
    return slopes
