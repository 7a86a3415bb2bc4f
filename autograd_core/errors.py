"""The errors every op can raise, said plainly: a non-number given where a number is needed
(`as_float`), an input outside an op's domain or a result too large (`op_error`), and a local
derivative that cannot be computed during backward (`backward_error`).

Each names the op and its inputs and says what to do. node.py and engine.py raise them.
"""

from __future__ import annotations

import numbers

_LARGEST = "the largest float is about 1.8e308"


def as_float(x, where: str) -> float:
    """`x` as a float if it is a real number (int, float, bool, numpy scalar), else a TypeError."""
    if type(x) is float:
        return x
    is_number = isinstance(x, numbers.Real)  # (a Value is not a numbers.Real)
    kind = getattr(getattr(x, "dtype", None), "kind", "")
    if is_number or (kind in ("b", "i", "u", "f") and getattr(x, "ndim", 1) == 0):  # numpy, 0-d arrays
        try:
            return float(x)
        except OverflowError:
            text = repr(x) if len(repr(x)) <= 24 else f"{repr(x)[:12]}…({len(repr(x))} digits)"
            raise OverflowError(f"{where}: {text} is too large for a float ({_LARGEST})") from None
    if hasattr(x, "backward") and hasattr(x, "parents"):  # a Value (value.py imports this file)
        raise TypeError(f"{where}: got a Value where a plain number is needed; "
                        f"use value.data for its number, or value.detach() for a copy")
    raise TypeError(f"{where}: expected a real number (int or float), got {type(x).__name__} {x!r:.60}")


_PLAIN_REASONS = {  # math's terse messages, said plainly
    "math domain error": "the input is outside the domain of the function",
    "float division by zero": "division by zero",
}


def op_error(op, args: tuple, exc: Exception, during: str = "") -> Exception:
    """The same kind of exception as `exc`, naming the op, its inputs and what to do."""
    call = f"{op.name}({', '.join(repr(a) for a in args)})"
    settings = ", ".join(f"{k}={v:g}" for k, v in op.params.items())
    if settings:
        call = f"{call[:-1]}, {settings})" if args else f"{op.name}({settings})"
    if isinstance(exc, OverflowError):  # math says "math range error" or an errno tuple
        reason = f"the result is too large for a float ({_LARGEST})"
    else:
        reason = _PLAIN_REASONS.get(str(exc), str(exc))
    hint = f" {op.hint}" if op.hint else ""
    return type(exc)(f"{during}{call}: {reason}.{hint}")


def backward_error(node, exc: Exception) -> Exception:
    """The error for a local derivative that cannot be computed, naming the op and its inputs."""
    inputs = ", ".join(repr(p._data) for p in node.parents)
    return type(exc)(f"backward through {node._op.name}({inputs}): the local derivative is not a "
                     f"finite number here ({exc}). No .grad was changed. Move the input away from this "
                     f"point, or use an op whose derivative is defined there.")
