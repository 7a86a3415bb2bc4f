"""Grad mode: whether operations on Values record the graph.

`no_grad()` switches recording off (evaluation, weight updates), `enable_grad()` back on. Both are
context managers and decorators, nest, restore on exceptions, and follow contextvars, so threads and
asyncio tasks each see their own mode. Notebook 02 shows when to use them.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

_grad_enabled: ContextVar[bool] = ContextVar("autograd_core_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    """True when new operations record their inputs (the default)."""
    return _grad_enabled.get()


class set_grad_enabled:
    """Set grad mode to `mode` inside a `with` block or a decorated function, then restore it."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._tokens: list = []  # one per active `with`, so a single instance can nest

    def __enter__(self) -> "set_grad_enabled":
        self._tokens.append(_grad_enabled.set(self.mode))
        return self

    def __exit__(self, *exc_info) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class no_grad(set_grad_enabled):
    """Record nothing inside this block or decorated function: results are leaves (PyTorch's no_grad)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record operations again inside this block, even within `no_grad()`."""

    def __init__(self) -> None:
        super().__init__(True)
