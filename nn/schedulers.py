"""Learning-rate schedules with torch.optim.lr_scheduler's names and exact sequences.

A scheduler reads and writes each group's lr through `optimizer.param_groups`, as PyTorch's do. Like
PyTorch, construction already applies step 0, and each `step()` (call it after `optimizer.step()`)
moves one step on. Where PyTorch computes the next lr from the current one ("chainable" form) we do
too, so the sequences agree to the last bit, not just to round-off. Notebook 05 trains with one.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Iterable

from . import validation

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
           "OneCycleLR", "LambdaLR"]


def _lrs(name: str, values, n: int) -> list[float]:
    """`values` as a list of `n` learning rates (finite floats >= 0), one per param group."""
    return [validation.non_negative(f"{name}[{i}]", v)
            for i, v in enumerate(validation.finite_floats(name, values, n))]


class LRScheduler:
    """Base class: `step()` advances `last_epoch` and writes each group's new lr.

    Subclasses compute a group's next lr in `_next_lr(lr, base_lr)` from its current lr (and
    `last_epoch`); `_settings` names the attributes that `state_dict()` saves.
    """

    _settings: tuple = ()

    def __init__(self, optimizer) -> None:
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
            raise TypeError(f"{type(optimizer).__name__} has no `param_groups` with an \"lr\"; pass "
                            f"an optimizer such as nn.optim.SGD")
        self.optimizer = optimizer
        for group in groups:  # the first scheduler records the starting lr (PyTorch's "initial_lr")
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [float(group["initial_lr"]) for group in groups]
        self.last_epoch = -1
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()  # step 0, as PyTorch's constructor does
        finally:
            self._is_initial = False

    @property
    def base_lr(self) -> float:
        """The first group's starting learning rate."""
        return self.base_lrs[0]

    def _next_lr(self, lr: float, base_lr: float) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set every group's lr; on an error nothing changes."""
        groups = self.optimizer.param_groups
        self.last_epoch += 1
        try:
            lrs = [self._next_lr(g["lr"], base) for g, base in zip(groups, self.base_lrs)]
            lrs = [self._checked(lr) for lr in lrs]
        except BaseException:
            self.last_epoch -= 1
            raise
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._step_count += 1
        self._last_lr = lrs

    def _checked(self, lr) -> float:
        try:
            return validation.non_negative("learning rate", lr)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{type(self).__name__} step {self.last_epoch}: {exc}") from None

    def get_last_lr(self) -> list[float]:
        """[the lr of each group set by the last step()] (as PyTorch)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """A JSON-ready dict of the schedule's position and settings (a lambda is not saved)."""
        state = {"type": type(self).__name__, "last_epoch": self.last_epoch,
                 "step_count": self._step_count, "base_lrs": list(self.base_lrs),
                 "last_lr": list(self._last_lr)}
        for name in self._settings:
            value = getattr(self, name)
            state[name] = list(value) if isinstance(value, tuple) else value
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a `state_dict()`; validated first (as PyTorch, this does not touch the lrs)."""
        where = f"{type(self).__name__}.load_state_dict"
        expected = {"type", "last_epoch", "step_count", "base_lrs", "last_lr", *self._settings}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{where}: expected keys {sorted(expected)}, got {got}; "
                             f"nothing was changed")
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"{where}: this state belongs to a {state_dict['type']!r}; "
                             f"nothing was changed")
        n = len(self.base_lrs)
        try:
            last_epoch = validation.integer("last_epoch", state_dict["last_epoch"], minimum=-1)
            step_count = validation.integer("step_count", state_dict["step_count"], minimum=0)
            base_lrs = _lrs("base_lrs", state_dict["base_lrs"], n)
            last_lr = _lrs("last_lr", state_dict["last_lr"], n)
            settings = self._check_settings({k: state_dict[k] for k in self._settings})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}; nothing was changed") from None
        self.last_epoch, self._step_count = last_epoch, step_count
        self.base_lrs, self._last_lr = base_lrs, last_lr
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

    def _next_lr(self, lr: float, base_lr: float) -> float:
        return base_lr * self.lr_lambda(self.last_epoch)


class StepLR(LRScheduler):
    """Multiply the lr by `gamma` every `step_size` steps."""

    _settings = ("step_size", "gamma")

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1) -> None:
        for k, v in self._check_settings({"step_size": step_size, "gamma": gamma}).items():
            setattr(self, k, v)
        super().__init__(optimizer)

    def _check_settings(self, s: dict) -> dict:
        return {"step_size": validation.positive_int("step_size", s["step_size"]),
                "gamma": validation.real("gamma", s["gamma"])}

    def _next_lr(self, lr: float, base_lr: float) -> float:
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
            raise TypeError(f"milestones must be a list of step numbers, "
                            f"got {s['milestones']!r:.40}") from None
        milestones = [validation.integer("each of milestones", m) for m in milestones]
        return {"milestones": sorted(milestones), "gamma": validation.real("gamma", s["gamma"])}

    def _next_lr(self, lr: float, base_lr: float) -> float:
        count = Counter(self.milestones)[self.last_epoch]
        return lr if count == 0 else lr * self.gamma ** count


class ExponentialLR(LRScheduler):
    """Multiply the lr by `gamma` every step."""

    _settings = ("gamma",)

    def __init__(self, optimizer, gamma: float) -> None:
        self.gamma = self._check_settings({"gamma": gamma})["gamma"]
        super().__init__(optimizer)

    def _check_settings(self, s: dict) -> dict:
        return {"gamma": validation.real("gamma", s["gamma"])}

    def _next_lr(self, lr: float, base_lr: float) -> float:
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
        return {"T_max": validation.positive_int("T_max", s["T_max"]),
                "eta_min": validation.non_negative("eta_min", s["eta_min"])}

    def _next_lr(self, lr: float, base_lr: float) -> float:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return lr
        if (t - 1 - T) % (2 * T) == 0:
            return lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
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
        start = validation.real("start_factor", s["start_factor"])
        end = validation.real("end_factor", s["end_factor"])
        if start > 1.0 or start <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less "
                             "or equal to 1.")
        if end > 1.0 or end < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        return {"start_factor": start, "end_factor": end,
                "total_iters": validation.positive_int("total_iters", s["total_iters"])}

    def _next_lr(self, lr: float, base_lr: float) -> float:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return lr * start
        if self._is_initial or t > self.total_iters:
            return lr
        return lr * (1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start)))


class OneCycleLR(LRScheduler):
    """The 1cycle policy: warm up from max_lr/div_factor to max_lr, then anneal to a tiny lr.

    As PyTorch, `cycle_momentum=True` (the default) also cycles each group's `momentum` (SGD,
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
        groups = getattr(optimizer, "param_groups", [])
        if settings["cycle_momentum"] and not all("momentum" in g or "betas" in g for g in groups):
            raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                             "option enabled (or pass cycle_momentum=False)")
        for k, v in settings.items():
            setattr(self, k, v)
        for group in groups:
            group["initial_lr"] = self.initial_lr  # PyTorch overwrites group["initial_lr"] here
        if self.cycle_momentum:
            self._set_momentum(groups, self.max_momentum)
        super().__init__(optimizer)

    @property
    def initial_lr(self) -> float:
        return self.max_lr / self.div_factor

    @property
    def min_lr(self) -> float:
        return self.initial_lr / self.final_div_factor

    def _check_settings(self, s: dict) -> dict:
        out = dict(s)
        out["max_lr"] = validation.non_negative("max_lr", s["max_lr"])
        out["total_steps"] = validation.positive_int("total_steps", s["total_steps"])
        out["pct_start"] = validation.real("pct_start", s["pct_start"], low=0.0, high=1.0)
        out["anneal_strategy"] = validation.one_of("anneal_strategy", s["anneal_strategy"],
                                                   ("cos", "linear"))
        out["div_factor"] = validation.real("div_factor", s["div_factor"])
        out["final_div_factor"] = validation.real("final_div_factor", s["final_div_factor"])
        if out["div_factor"] == 0 or out["final_div_factor"] == 0:
            raise ValueError("div_factor and final_div_factor must be nonzero")
        out["three_phase"] = bool(s["three_phase"])
        out["cycle_momentum"] = bool(s["cycle_momentum"])
        out["base_momentum"] = validation.real("base_momentum", s["base_momentum"])
        out["max_momentum"] = validation.real("max_momentum", s["max_momentum"])
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

    def _position(self) -> tuple:
        """(the current phase, how far into it) for `last_epoch`."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}")
        phases = self._phases()
        start_step = 0.0
        for i, phase in enumerate(phases):
            if step <= phase[0] or i == len(phases) - 1:
                return phase, (step - start_step) / (phase[0] - start_step)
            start_step = phase[0]
        raise AssertionError("unreachable")

    def _next_lr(self, lr: float, base_lr: float) -> float:
        (_, lr_a, lr_b, _, _), pct = self._position()
        return self._anneal(lr_a, lr_b, pct)

    def step(self) -> None:
        """Advance one step: set the lr (and the momentum, if cycled); on an error nothing changes."""
        super().step()
        if self.cycle_momentum:
            (_, _, _, m_a, m_b), pct = self._position()
            self._set_momentum(self.optimizer.param_groups, self._anneal(m_a, m_b, pct))

    @staticmethod
    def _set_momentum(groups: list, momentum: float) -> None:
        for group in groups:
            if "betas" in group:
                group["betas"] = (momentum, *tuple(group["betas"])[1:])
            else:
                group["momentum"] = momentum
