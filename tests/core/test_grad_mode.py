"""no_grad / enable_grad / set_grad_enabled: context managers and decorators, contextvars-based."""

import asyncio
import threading

import pytest

from autograd_core import Value, enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def test_no_grad_records_nothing():
    x = Value(2.0)
    with no_grad():
        y = x * 3
    assert y.is_leaf and y.data == 6.0 and y.op == ""


def test_no_grad_as_decorator():
    @no_grad()
    def f(v):
        return v * v

    out = f(Value(3.0))
    assert out.is_leaf and is_grad_enabled()


def test_no_grad_nests_and_enable_grad_reenables():
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
            assert not (Value(1.0) + 1).is_leaf
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_one_instance_can_nest():
    mode = no_grad()
    with mode:
        with mode:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_restored_after_exception():
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert is_grad_enabled()


def test_set_grad_enabled_false_then_true():
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True], "a new thread starts in the default mode"


def test_grad_mode_is_per_async_task():
    async def inside():
        with no_grad():
            await asyncio.sleep(0)
            return is_grad_enabled()

    async def outside():
        await asyncio.sleep(0)
        return is_grad_enabled()

    async def main():
        return await asyncio.gather(inside(), outside())

    assert asyncio.run(main()) == [False, True]
