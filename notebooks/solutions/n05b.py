"""Reference solutions to notebook 05b's exercises (try them yourself first)."""


def largest_first_gradient(runs: dict) -> str:
    """Exercise 1: the activation whose first layer has the largest gradient std."""
    return max(runs, key=lambda a: runs[a].layers["layers.0"].grad_std[0])


def lr_for_ratio(ratio: float, lr: float, target: float) -> float:
    """Exercise 2: for SGD the log10 update ratio moves one-for-one with log10(lr)."""
    return lr * 10 ** (target - ratio)


def dead_units(values: list, units: int) -> int:
    """Exercise 3: the units whose output is 0 for every sample (values: samples x units)."""
    return sum(all(v == 0.0 for v in values[unit::units]) for unit in range(units))
