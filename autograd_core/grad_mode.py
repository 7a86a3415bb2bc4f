"""Grad mode: whether operations on Values record the graph.

`no_grad()` switches recording off (evaluation, weight updates), `enable_grad()` back on. Both are
context managers and decorators (with or without parentheses, on functions and generators), nest,
restore on exceptions, and follow contextvars, so threads and asyncio tasks each see their own mode,
even when they share one instance. `set_grad_enabled(mode)` also works as a plain call, as in
PyTorch. Notebook 02 shows when to use them.
"""

from __future__ import annotations

import functools
import inspect
from contextvars import ContextVar
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

# Whether operations record the graph, per context (node.py reads it once per new node).
grad_enabled: ContextVar[bool] = ContextVar("autograd_core_grad_enabled", default=True)
# The modes to restore, one stack per context (thread or task), so a shared instance can be entered
# by many threads and tasks at once; a tuple, so that contexts copied from this one never share it.
_saved: ContextVar[tuple] = ContextVar("autograd_core_saved_grad_modes", default=())


def is_grad_enabled() -> bool:
    """True when new operations record their inputs (the default)."""
    return grad_enabled.get()


class _GradMode:
    """Set grad mode to `self.mode` inside a `with` block or a decorated function, then restore it."""

    mode = True

    def __new__(cls, func=None, *args, **kwargs):
        if callable(func) and not isinstance(func, bool):  # used bare: @no_grad
            return cls()(func)
        return super().__new__(cls)

    def __enter__(self) -> "_GradMode":
        _saved.set(_saved.get() + (grad_enabled.get(),))
        grad_enabled.set(self.mode)
        return self

    def __exit__(self, *exc_info) -> None:
        saved = _saved.get()
        _saved.set(saved[:-1])
        grad_enabled.set(saved[-1])

    def __call__(self, func: F) -> F:
        mode = type(self)

        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):  # the mode holds inside the body, not between yields
                gen = func(*args, **kwargs)
                resume, arg = gen.send, None
                while True:
                    with mode():
                        try:
                            item = resume(arg)
                        except StopIteration as stop:
                            return stop.value
                    try:
                        resume, arg = gen.send, (yield item)
                    except GeneratorExit:
                        with mode():
                            gen.close()
                        raise
                    except BaseException as exc:  # thrown in by the caller: pass it on
                        resume, arg = gen.throw, exc

            return generator  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with mode():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class no_grad(_GradMode):
    """Record nothing inside this block or decorated function: results are leaves (PyTorch's no_grad)."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again inside this block, even within `no_grad()`."""

    mode = True


class set_grad_enabled(_GradMode):
    """Grad mode `mode`: as a `with` block or decorator, for that block; called alone, from now on."""

    def __new__(cls, mode: bool = True):
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._before = grad_enabled.get()
        grad_enabled.set(self.mode)  # PyTorch: set_grad_enabled(False) alone switches recording off

    def __enter__(self) -> "set_grad_enabled":
        _saved.set(_saved.get() + (self._before,))  # the mode from before this object was made
        grad_enabled.set(self.mode)
        return self

    def __call__(self, func: F) -> F:
        grad_enabled.set(self._before)  # used as a decorator: the mode applies inside func only
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        if inspect.isgeneratorfunction(func):
            return (enable_grad if mode else no_grad)()(func)
        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"set_grad_enabled({self.mode})"
