"""Argument checks shared by all of `nn`: one place that says what a bad argument is.

A wrong type raises TypeError, a wrong value ValueError; every message names the argument, shows
the value and says what is expected. Each check returns the value converted (an int, a float).
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable


def _shown(value) -> str:
    return f"{value!r:.60}"


# --- checks added for module.py, layers.py, optim.py, schedulers.py, serialization.py ------------


def boolean(name: str, value) -> bool:
    """`value` if it is a bool (numpy bools too), else a TypeError."""
    if type(value).__name__ not in ("bool", "bool_"):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {_shown(value)}")
    return bool(value)


def finite_floats(name: str, values, length: int | None = None) -> list[float]:
    """`values` (a list or tuple of finite real numbers, `length` of them if given) as floats."""
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of numbers, got {type(values).__name__} "
                        f"{_shown(values)}")
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must hold {length} numbers, got {len(values)}")
    return [real(f"{name}[{i}]", v) for i, v in enumerate(values)]


def mapping(name: str, value, *, keys: Iterable[str] | None = None) -> dict:
    """`value` if it is a dict (with exactly `keys`, if given), else a TypeError / ValueError."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__} {_shown(value)}")
    if keys is not None and set(value) != set(keys):
        raise ValueError(f"{name} must have exactly the keys {sorted(keys)}, "
                         f"got {sorted(map(str, value))}")
    return value



def integer(name: str, value, *, minimum: int | None = None) -> int:
    """`value` as an int (numpy integers too; not bool or float), at least `minimum` if given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number (int), got {type(value).__name__} {_shown(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def positive_int(name: str, value) -> int:
    """`value` as an int >= 1."""
    return integer(name, value, minimum=1)


def real(name: str, value, *, low: float = -math.inf, high: float = math.inf,
         low_open: bool = False, high_open: bool = False) -> float:
    """`value` as a finite float in [low, high] (an open end excludes it; numpy scalars accepted)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or hasattr(value, "grad"):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {_shown(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low:g}, {high:g}{right}, got {value:g}")
    return value


def non_negative(name: str, value) -> float:
    """`value` as a finite float >= 0."""
    return real(name, value, low=0.0)


def positive(name: str, value) -> float:
    """`value` as a finite float > 0."""
    return real(name, value, low=0.0, low_open=True)


def one_of(name: str, value, choices: Iterable[str]) -> str:
    """`value` if it is one of `choices` (strings), else a ValueError listing them."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, choices))}, "
                        f"got {type(value).__name__} {_shown(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value
