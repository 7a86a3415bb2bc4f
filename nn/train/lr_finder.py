"""The learning-rate finder (fast.ai's habit, after Leslie Smith): train a copy of the model while
the learning rate grows exponentially, watch where the loss falls fastest and where it blows up.

`lr_find` never touches the model or optimizer it is given: it trains deep copies. Notebook 05b
uses it, then trains with the suggested rate.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Sequence

from .. import losses, validation
from ..data import DataLoader
from ..module import Module
from .evaluation import loss_function

__all__ = ["LRFindResult", "lr_find"]

SUGGESTIONS = ("steepest", "min/10")


@dataclass
class LRFindResult:
    """The curve (`lrs`, `losses`, `smoothed`) and a suggested rate.

    `suggestion` follows `method`: "min/10" (the default, fast.ai's first rule) is a tenth of the
    rate at the smoothed minimum, a safe rate; "steepest" is where the smoothed loss falls fastest
    per decade of learning rate before its minimum (it lags behind the rate: the copy keeps
    learning as the rate grows). Both are kept (`min_lr`, `steepest_lr`). `stopped_early` says
    whether the loss blew up.
    """

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    smoothed: list = field(default_factory=list)
    suggestion: float = math.nan
    method: str = "min/10"
    steepest_lr: float = math.nan
    min_lr: float = math.nan
    stopped_early: bool = False

    def plot(self, title: str | None = None):
        """The loss against the learning rate, with the suggestion marked (`nn.plots.plot_lr_find`)."""
        from ..plots import plot_lr_find  # plots.py reads train/, so it is imported on use

        return plot_lr_find(self, title=title)

    def __repr__(self) -> str:
        return (f"LRFindResult({len(self.lrs)} steps from lr {self.lrs[0]:.2g} to {self.lrs[-1]:.2g}, "
                f"suggestion {self.suggestion:.3g} ({self.method}))" if self.lrs else "LRFindResult()")


def copy_for_search(model: Module, optimizer):
    """(a deep copy of `model`, a new optimizer of the same type and hyperparameters over the copy's
    parameters). The copy has no forward hooks and fresh optimizer state; the originals are untouched."""
    originals = model.parameters()
    memo = {id(m._forward_hooks): {} for m in model.modules() if "_forward_hooks" in vars(m)}
    model_copy = copy.deepcopy(model, memo)
    index = {id(p): i for i, p in enumerate(originals)}
    missing = [i for i, p in enumerate(optimizer.params) if id(p) not in index]
    if missing:
        raise ValueError(f"lr_find: the optimizer's params[{missing[0]}] is not a parameter of the "
                         f"model; build the optimizer from model.parameters()")
    copies = model_copy.parameters()
    params = [copies[index[id(p)]] for p in optimizer.params]
    return model_copy, type(optimizer)(params, **optimizer.hyperparameters())


def lr_find(model: Module, X: Sequence, y: Sequence, *, loss, optimizer, start_lr: float = 1e-5,
            end_lr: float = 10.0, steps: int = 100, batch_size: int | None = None, l2: float = 0.0,
            smoothing: float = 0.9, diverge: float = 4.0, suggest: str = "min/10",
            seed: int | None = 0) -> LRFindResult:
    """Train a copy of `model` for up to `steps` steps with the learning rate growing from `start_lr`
    to `end_lr` (exponentially), stopping once the smoothed loss exceeds `diverge` x its best.

    `loss` is a name as in `fit` ("hinge", "bce", "ce", "mse") or a function; the loss is recorded
    before each step's update, smoothed by an exponential moving average (`smoothing`, with bias
    correction). The model and optimizer passed in are left exactly as they were.
    """
    loss_fn = loss_function(loss, "lr_find")[1]
    start_lr = validation.positive("lr_find: start_lr", start_lr)
    end_lr = validation.positive("lr_find: end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"lr_find: end_lr ({end_lr:g}) must be larger than start_lr ({start_lr:g})")
    steps = validation.integer("lr_find: steps", steps, minimum=3)
    smoothing = validation.real("lr_find: smoothing", smoothing, low=0.0, high=1.0, high_open=True)
    diverge = validation.real("lr_find: diverge", diverge, low=1.0, low_open=True)
    l2 = validation.non_negative("lr_find: l2", l2)
    validation.one_of("lr_find: suggest", suggest, SUGGESTIONS)
    model_copy, opt = copy_for_search(model, optimizer)
    loader = DataLoader(X, y, batch_size, shuffle=batch_size is not None, seed=seed)
    result = LRFindResult(method=suggest)
    _search(model_copy, opt, loader, loss_fn, l2, start_lr, end_lr, steps, smoothing, diverge, result)
    if len(result.lrs) < 3:
        raise ValueError(f"lr_find: the loss blew up after {len(result.lrs)} step(s), already at lr "
                         f"{result.lrs[-1]:.2g}; start lower (start_lr=...)")
    result.steepest_lr, result.min_lr = _suggestions(result.lrs, result.smoothed)
    result.suggestion = result.steepest_lr if suggest == "steepest" else result.min_lr / 10
    return result


def _search(model, opt, loader, loss_fn, l2, start_lr, end_lr, steps, smoothing, diverge, result):
    """The growing-rate training loop, appending to `result` until the end or a blow-up."""
    params = model.parameters()
    model.train()
    batches, average, best = iter(loader), 0.0, math.inf
    for i in range(steps):
        try:
            X_batch, y_batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            X_batch, y_batch = next(batches)
        lr = start_lr * (end_lr / start_lr) ** (i / (steps - 1))
        objective = loss_fn([model(x) for x in X_batch], list(y_batch))
        if l2:
            objective = objective + l2 * losses.l2_penalty(params)
        if not math.isfinite(objective.data):
            break
        average = smoothing * average + (1 - smoothing) * objective.data
        smoothed = average / (1 - smoothing ** (i + 1))  # bias correction: the average starts at 0
        result.lrs.append(lr)
        result.losses.append(objective.data)
        result.smoothed.append(smoothed)
        best = min(best, smoothed)
        if smoothed > diverge * best:
            result.stopped_early = True
            break
        opt.lr = lr
        opt.zero_grad()
        objective.backward()
        try:
            opt.step()
        except ValueError:  # a non-finite gradient or update: the loss has blown up
            result.stopped_early = True
            break


def _suggestions(lrs: list, smoothed: list) -> tuple[float, float]:
    """(the rate of the steepest fall of the smoothed loss against log10(lr) before its minimum,
    the rate at the minimum)."""
    low = min(range(len(smoothed)), key=smoothed.__getitem__)
    logs = [math.log10(lr) for lr in lrs]
    slopes = [(smoothed[i + 1] - smoothed[i - 1]) / (logs[i + 1] - logs[i - 1])
              for i in range(1, max(low, 2))]
    steepest = 1 + min(range(len(slopes)), key=slopes.__getitem__)
    return lrs[steepest], lrs[low]
