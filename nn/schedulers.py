"""Learning-rate schedules with torch.optim.lr_scheduler's names and exact sequences.

A scheduler reads and writes `optimizer.lr`. Like PyTorch, construction already applies step 0, and
each `step()` (call it after `optimizer.step()`) moves one step on. Where PyTorch computes the next lr
from the current one ("chainable" form) we do too, so the sequences agree to the last bit, not just
to round-off. Notebook 05 trains with a schedule.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from typing import Callable, Iterable

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
           "OneCycleLR", "LambdaLR"]


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _finite(name: str, value, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low:g}, {high:g}], got {value!r}")
    return float(value)


class LRScheduler:
    """Base class: `step()` advances `last_epoch` and writes the new lr into `optimizer.lr`.

    Subclasses compute the next lr in `_next_lr(lr)` from the current one (and `last_epoch`,
    `base_lr`); `_settings` names the attributes that `state_dict()` saves.
    """

    _settings: tuple = ()

    def __init__(self, optimizer) -> None:
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"{type(optimizer).__name__} has no `lr` attribute; pass an optimizer "
                            f"such as nn.optim.SGD")
        self.optimizer = optimizer
        initial = getattr(optimizer, "initial_lr", None)
        if initial is None:  # the first scheduler records the starting lr (PyTorch's "initial_lr")
            initial = optimizer.lr
            try:
                optimizer.initial_lr = initial
            except AttributeError:
                pass
        self.base_lr = float(initial)
        self.last_epoch = -1
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()  # step 0, as PyTorch's constructor does
        finally:
            self._is_initial = False

    @property
    def base_lrs(self) -> list[float]:
        """[base_lr], the starting learning rate (a list, as in PyTorch)."""
        return [self.base_lr]

    def _next_lr(self, lr: float) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set `optimizer.lr`; on an error nothing changes."""
        self.last_epoch += 1
        try:
            lr = self._next_lr(self.optimizer.lr)
            try:
                self.optimizer.lr = lr
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{type(self).__name__} step {self.last_epoch}: {exc}") from None
        except BaseException:
            self.last_epoch -= 1
            raise
        self._step_count += 1
        self._last_lr = [self.optimizer.lr]

    def get_last_lr(self) -> list[float]:
        """[the lr set by the last step()] (a list, as in PyTorch)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """A JSON-ready dict of the schedule's position and settings (a lambda is not saved)."""
        state = {"type": type(self).__name__, "last_epoch": self.last_epoch,
                 "step_count": self._step_count, "base_lr": self.base_lr,
                 "last_lr": self._last_lr[0]}
        for name in self._settings:
            value = getattr(self, name)
            state[name] = list(value) if isinstance(value, tuple) else value
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a `state_dict()`; validated first (as PyTorch, this does not touch optimizer.lr)."""
        where = f"{type(self).__name__}.load_state_dict"
        expected = {"type", "last_epoch", "step_count", "base_lr", "last_lr", *self._settings}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{where}: expected keys {sorted(expected)}, got {got}; nothing was changed")
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"{where}: this state belongs to a {state_dict['type']!r}; "
                             f"nothing was changed")
        for key in ("last_epoch", "step_count"):
            v = state_dict[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < (-1 if key == "last_epoch" else 0):
                raise ValueError(f"{where}: {key} must be a whole number, got {v!r}; nothing was changed")
        try:
            base_lr = _finite("base_lr", state_dict["base_lr"], low=0.0)
            last_lr = _finite("last_lr", state_dict["last_lr"], low=0.0)
            settings = self._check_settings({k: state_dict[k] for k in self._settings})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}; nothing was changed") from None
        self.last_epoch = state_dict["last_epoch"]
        self._step_count = state_dict["step_count"]
        self.base_lr = base_lr
        self._last_lr = [last_lr]
        for k, v in settings.items():
            setattr(self, k, v)

    def _check_settings(self, settings: dict) -> dict:
        return settings

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._settings)
        return f"{type(self).__name__}({settings}{', ' if settings else ''}last_epoch={self.last_epoch})"


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(step)."""

    def __init__(self, optimizer, lr_lambda: Callable[[int], float]) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda must be a function of the step number, got "
                            f"{type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return self.base_lr * self.lr_lambda(self.last_epoch)


class StepLR(LRScheduler):
    """Multiply the lr by `gamma` every `step_size` steps."""

    _settings = ("step_size", "gamma")

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1) -> None:
        for k, v in self._check_settings({"step_size": step_size, "gamma": gamma}).items():
            setattr(self, k, v)
        super().__init__(optimizer)

    def _check_settings(self, s: dict) -> dict:
        return {"step_size": _positive_int("step_size", s["step_size"]),
                "gamma": _finite("gamma", s["gamma"])}

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lr
        return lr * self.gamma


class MultiStepLR(LRScheduler):
    """Multiply the lr by `gamma` at each step listed in `milestones` (twice if listed twice)."""

    _settings = ("milestones", "gamma")

    def __init__(self, optimizer, milestones: Iterable[int], gamma: float = 0.1) -> None:
        for k, v in self._check_settings({"milestones": milestones, "gamma": gamma}).items():
            setattr(self, k, v)
        super().__init__(optimizer)

    def _check_settings(self, s: dict) -> dict:
        try:
            milestones = list(s["milestones"])
        except TypeError:
            raise ValueError(f"milestones must be a list of step numbers, "
                             f"got {s['milestones']!r}") from None
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, numbers.Integral):
                raise ValueError(f"milestones must be whole numbers, got {m!r}")
        return {"milestones": sorted(int(m) for m in milestones), "gamma": _finite("gamma", s["gamma"])}

    def _next_lr(self, lr: float) -> float:
        count = Counter(self.milestones)[self.last_epoch]
        return lr if count == 0 else lr * self.gamma ** count


class ExponentialLR(LRScheduler):
    """Multiply the lr by `gamma` every step."""

    _settings = ("gamma",)

    def __init__(self, optimizer, gamma: float) -> None:
        self.gamma = self._check_settings({"gamma": gamma})["gamma"]
        super().__init__(optimizer)

    def _check_settings(self, s: dict) -> dict:
        return {"gamma": _finite("gamma", s["gamma"])}

    def _next_lr(self, lr: float) -> float:
        return lr if self._is_initial else lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to `eta_min` over `T_max` steps (then back up, periodically).

    Closed form: eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2; computed, as PyTorch
    does, as a ratio applied to the current lr.
    """

    _settings = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0) -> None:
        for k, v in self._check_settings({"T_max": T_max, "eta_min": eta_min}).items():
            setattr(self, k, v)
        super().__init__(optimizer)

    def _check_settings(self, s: dict) -> dict:
        return {"T_max": _positive_int("T_max", s["T_max"]),
                "eta_min": _finite("eta_min", s["eta_min"], low=0.0)}

    def _next_lr(self, lr: float) -> float:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return lr
        if (t - 1 - T) % (2 * T) == 0:
            return lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
        return ((1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - eta_min) + eta_min)


class LinearLR(LRScheduler):
    """Scale the lr linearly from `start_factor` x to `end_factor` x base over `total_iters` steps."""

    _settings = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5) -> None:
        settings = {"start_factor": start_factor, "end_factor": end_factor, "total_iters": total_iters}
        for k, v in self._check_settings(settings).items():
            setattr(self, k, v)
        super().__init__(optimizer)

    def _check_settings(self, s: dict) -> dict:
        start = _finite("start_factor", s["start_factor"])
        end = _finite("end_factor", s["end_factor"])
        if start > 1.0 or start <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less "
                             "or equal to 1.")
        if end > 1.0 or end < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        return {"start_factor": start, "end_factor": end,
                "total_iters": _positive_int("total_iters", s["total_iters"])}

    def _next_lr(self, lr: float) -> float:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return lr * start
        if self._is_initial or t > self.total_iters:
            return lr
        return lr * (1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start)))


class OneCycleLR(LRScheduler):
    """The 1cycle policy: warm up from max_lr/div_factor to max_lr, then anneal to a tiny lr.

    As PyTorch, `cycle_momentum=True` (the default) also cycles the optimizer's `momentum` (SGD,
    RMSprop) or beta1 (Adam) inversely, from `max_momentum` to `base_momentum` and back; pass
    `cycle_momentum=False` to change only the lr. `step()` past `total_steps` raises.
    """

    _settings = ("max_lr", "total_steps", "pct_start", "anneal_strategy", "div_factor",
                 "final_div_factor", "three_phase", "cycle_momentum", "base_momentum",
                 "max_momentum")

    def __init__(self, optimizer, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, *,
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95) -> None:
        settings = self._check_settings(dict(
            max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
            anneal_strategy=anneal_strategy, div_factor=div_factor, final_div_factor=final_div_factor,
            three_phase=three_phase, cycle_momentum=cycle_momentum, base_momentum=base_momentum,
            max_momentum=max_momentum))
        if settings["cycle_momentum"]:
            if not hasattr(optimizer, "momentum") and not hasattr(optimizer, "betas"):
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                                 "option enabled (or pass cycle_momentum=False)")
        for k, v in settings.items():
            setattr(self, k, v)
        if hasattr(optimizer, "lr"):
            optimizer.initial_lr = self.initial_lr  # PyTorch overwrites group["initial_lr"] here
        if self.cycle_momentum:
            self._set_momentum(optimizer, self.max_momentum)
        super().__init__(optimizer)

    @property
    def initial_lr(self) -> float:
        return self.max_lr / self.div_factor

    @property
    def min_lr(self) -> float:
        return self.initial_lr / self.final_div_factor

    def _check_settings(self, s: dict) -> dict:
        out = dict(s)
        out["max_lr"] = _finite("max_lr", s["max_lr"], low=0.0)
        out["total_steps"] = _positive_int("total_steps", s["total_steps"])
        out["pct_start"] = _finite("pct_start", s["pct_start"], 0.0, 1.0)
        if s["anneal_strategy"] not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{s['anneal_strategy']!r}")
        out["div_factor"] = _finite("div_factor", s["div_factor"])
        out["final_div_factor"] = _finite("final_div_factor", s["final_div_factor"])
        if out["div_factor"] == 0 or out["final_div_factor"] == 0:
            raise ValueError("div_factor and final_div_factor must be nonzero")
        out["three_phase"] = bool(s["three_phase"])
        out["cycle_momentum"] = bool(s["cycle_momentum"])
        out["base_momentum"] = _finite("base_momentum", s["base_momentum"])
        out["max_momentum"] = _finite("max_momentum", s["max_momentum"])
        return out

    def _phases(self) -> list:
        # (end step, start lr, end lr, start momentum, end momentum), as PyTorch's _schedule_phases
        warm_end = float(self.pct_start * self.total_steps) - 1
        lo, hi, floor = self.initial_lr, self.max_lr, self.min_lr
        m_lo, m_hi = self.base_momentum, self.max_momentum
        if self.three_phase:
            return [(warm_end, lo, hi, m_hi, m_lo),
                    (float(2 * self.pct_start * self.total_steps) - 2, hi, lo, m_lo, m_hi),
                    (self.total_steps - 1, lo, floor, m_hi, m_hi)]
        return [(warm_end, lo, hi, m_hi, m_lo), (self.total_steps - 1, hi, floor, m_lo, m_hi)]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _next_lr(self, lr: float) -> float:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}")
        phases = self._phases()
        start_step = 0.0
        for i, (end_step, lr_a, lr_b, m_a, m_b) in enumerate(phases):
            if step <= end_step or i == len(phases) - 1:
                pct = (step - start_step) / (end_step - start_step)
                if self.cycle_momentum:
                    self._set_momentum(self.optimizer, self._anneal(m_a, m_b, pct))
                return self._anneal(lr_a, lr_b, pct)
            start_step = end_step
        raise AssertionError("unreachable")

    def step(self) -> None:
        """Advance one step: set the lr (and the momentum, if cycled); on an error nothing changes."""
        opt = self.optimizer
        saved = getattr(opt, "betas", None), getattr(opt, "momentum", None)
        try:
            super().step()
        except BaseException:
            if self.cycle_momentum and not self._is_initial:
                if hasattr(opt, "betas"):
                    opt.betas = saved[0]
                else:
                    opt.momentum = saved[1]
            raise

    @staticmethod
    def _set_momentum(optimizer, momentum: float) -> None:
        if hasattr(optimizer, "betas"):
            optimizer.betas = (momentum, *tuple(optimizer.betas)[1:])
        else:
            optimizer.momentum = momentum
