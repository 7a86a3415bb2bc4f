"""The training loop: forward, loss, backward, update, repeated, with a History of what happened.

`fit` runs the loop (mini-batches, a learning-rate scheduler, L2, validation, early stopping,
callbacks, a progress bar); `evaluate` and `predict` run the model under `no_grad()`.
Notebook 05 (training) builds this loop by hand first, then calls `fit`.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from autograd_core import Value, no_grad

from . import losses
from .data import DataLoader

__all__ = ["Callback", "EarlyStopping", "History", "evaluate", "fit", "predict", "predict_classes"]

LossFn = Callable[[list, list], Value]

# Short names accepted for `loss=` (the CLI's --loss choices), and the full function names.
LOSSES: dict[str, str] = {
    "hinge": "hinge_loss",
    "bce": "binary_cross_entropy_with_logits",
    "ce": "cross_entropy",
    "mse": "mse_loss",
}


# --- History -------------------------------------------------------------------------------------


@dataclass
class History:
    """What `fit` saw: per step `loss`, `accuracy`, `lr`; per evaluation `val_loss`, `val_accuracy`.

    `loss` is the objective that was differentiated (data loss + L2 term) on the step's batch, before
    that step's update; `val_loss` is the same objective on the validation set, after the update.
    `accuracy` lists stay empty for regression.
    """

    step: list[int] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_step: int | None = None
    stopped_step: int | None = None
    loss_name: str = ""
    l2: float = 0.0

    def per_epoch(self, key: str = "loss") -> list[float]:
        """The mean of a per-step series (`loss`, `accuracy`, `lr`) over each epoch."""
        series = getattr(self, key)
        sums: dict[int, list[float]] = {}
        for epoch, value in zip(self.epoch, series):
            sums.setdefault(epoch, []).append(value)
        return [sum(vs) / len(vs) for vs in sums.values()]

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain lists and numbers (NaN and inf become None, so it is valid JSON)."""
        def clean(v):
            if isinstance(v, list):
                return [clean(x) for x in v]
            return None if isinstance(v, float) and not math.isfinite(v) else v
        return {name: clean(getattr(self, name)) for name in self.__dataclass_fields__}

    def __repr__(self) -> str:
        last = f", last loss {self.loss[-1]:.4g}" if self.loss else ""
        return f"History({len(self.step)} steps, {len(self.val_step)} evaluations{last})"


# --- callbacks -----------------------------------------------------------------------------------


class Callback:
    """Hooks that `fit` calls (Keras's names); subclass and override what you need."""

    def on_train_begin(self, model, history: History) -> None:
        """Called once before the first step."""

    def on_step_end(self, step: int, logs: dict) -> bool | None:
        """Called after every step with that step's logs; return True to stop training."""

    def on_train_end(self, model, history: History) -> None:
        """Called once after the last step (also after an early stop)."""


class EarlyStopping(Callback):
    """Stop when `monitor` (default "val_loss") has not improved for `patience` evaluations,
    then put back the weights of the best evaluation (`restore_best_weights`)."""

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_loss",
                 restore_best_weights: bool = True) -> None:
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an int >= 1, got {patience!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.monitor = monitor
        self.restore_best_weights = restore_best_weights
        self.sign = -1.0 if "acc" in monitor else 1.0  # accuracies should go up, losses down

    def on_train_begin(self, model, history: History) -> None:
        self.model = model
        self.best = math.inf
        self.best_step: int | None = None
        self.best_state: dict | None = None
        self.wait = 0

    def on_step_end(self, step: int, logs: dict) -> bool:
        value = logs.get(self.monitor)
        if value is None:  # not evaluated at this step
            return False
        if self.sign * value < self.best - self.min_delta:
            self.best, self.best_step, self.wait = self.sign * value, step, 0
            self.best_state = self.model.state_dict()
            return False
        self.wait += 1
        return self.wait >= self.patience

    def on_train_end(self, model, history: History) -> None:
        history.best_step = self.best_step
        if self.restore_best_weights and self.best_state is not None:
            model.load_state_dict(self.best_state)

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, monitor={self.monitor!r})"


# --- losses and accuracy -------------------------------------------------------------------------


def _loss_function(loss: str | LossFn) -> tuple[str, LossFn]:
    """(name, function) for a loss given by short name, full name, or as a function."""
    if callable(loss):
        return getattr(loss, "__name__", "loss"), loss
    if isinstance(loss, str):
        name = LOSSES.get(loss, loss)
        if name in LOSSES.values() and hasattr(losses, name):
            return name, getattr(losses, name)
    choices = ", ".join(repr(k) for k in LOSSES)
    raise ValueError(f"fit: unknown loss {loss!r}; use one of {choices} or a function "
                     f"loss(outputs, targets) -> Value")


def _data(v) -> float:
    return v.data if isinstance(v, Value) else v


class _Task:
    """How to score outputs against targets: the loss, and accuracy when the targets are classes."""

    def __init__(self, loss: str | LossFn, y: Sequence, accuracy: bool | None) -> None:
        self.name, self.loss_fn = _loss_function(loss)
        if self.name == "hinge_loss":
            bad = [t for t in y if t not in (-1, 1)]
            if bad:
                raise ValueError(f"fit: hinge loss needs labels -1 or +1, got {bad[0]!r}; convert "
                                 f"0/1 labels with nn.data.to_pm1(y)")
        integral = all(isinstance(t, int) or (isinstance(t, float) and t.is_integer()) for t in y)
        self.accuracy = integral if accuracy is None else accuracy
        # binary outputs are scores: class "high" when the score is above the threshold
        labels = sorted(set(y)) if self.accuracy else []
        self.high = labels[-1] if labels else 1
        logits = self.name in ("hinge_loss", "binary_cross_entropy_with_logits")
        self.threshold = 0.0 if logits or len(labels) < 2 else (labels[0] + labels[-1]) / 2

    def correct(self, outputs: Sequence, targets: Sequence) -> int:
        """How many outputs predict their target's class (argmax, or score above the threshold)."""
        hits = 0
        for out, target in zip(outputs, targets):
            if isinstance(out, (list, tuple)):
                datas = [_data(o) for o in out]
                hits += datas.index(max(datas)) == target
            else:
                hits += (_data(out) > self.threshold) == (target == self.high)
        return hits


def _l2_term(params: list, l2: float):
    return l2 * losses.l2_penalty(params) if l2 else 0.0


def _evaluate(model, X, y, task: _Task, params: list, l2: float) -> tuple[float, float | None]:
    """(loss, accuracy or None) on the whole of X, y under no_grad and eval mode."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = [model(x) for x in X]
            loss = task.loss_fn(outputs, list(y)) + _l2_term(params, l2)
    finally:
        model.train(was_training)
    accuracy = task.correct(outputs, y) / len(y) if task.accuracy else None
    return _data(loss), accuracy


# --- progress bars -------------------------------------------------------------------------------


class _TextBar:
    """A one-line progress bar redrawn with "\\r" (used when tqdm is not installed)."""

    def __init__(self, total: int, desc: str = "train", file=None, width: int = 24) -> None:
        self.total, self.desc, self.width = total, desc, width
        self.file = file if file is not None else sys.stderr
        self.n = 0
        self.postfix = ""
        self._last_draw = 0.0

    def set_postfix_str(self, text: str, refresh: bool = False) -> None:
        self.postfix = text

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last_draw >= 0.1 or self.n >= self.total:
            self._last_draw = now
            self._draw()

    def _draw(self) -> None:
        filled = int(self.width * self.n / self.total) if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.file.write(f"\r{self.desc} {self.n}/{self.total} [{bar}] {self.postfix}")
        self.file.flush()

    def close(self) -> None:
        self._draw()
        self.file.write("\n")
        self.file.flush()


def _progress_bar(progress: bool | str, total: int):
    """tqdm.auto's bar when installed (progress=True), the text bar ("text" or no tqdm), or None."""
    if progress is False or progress is None:
        return None
    if progress not in (True, "text", "tqdm"):
        raise ValueError(f"fit: progress must be True, False, 'tqdm' or 'text', got {progress!r}")
    if progress != "text":
        try:
            from tqdm.auto import tqdm
        except ImportError:
            if progress == "tqdm":
                raise ImportError("fit(progress='tqdm'): tqdm is not installed; "
                                  "pip install tqdm, or use progress=True") from None
        else:
            return tqdm(total=total, desc="train", unit="step", dynamic_ncols=True)
    return _TextBar(total)


def _postfix(logs: dict) -> str:
    parts = [f"loss={logs['loss']:.4f}"]
    if logs.get("accuracy") is not None:
        parts.append(f"acc={logs['accuracy']:.1%}")
    if logs.get("val_loss") is not None:
        parts.append(f"val_loss={logs['val_loss']:.4f}")
    if logs.get("val_accuracy") is not None:
        parts.append(f"val_acc={logs['val_accuracy']:.1%}")
    parts.append(f"lr={logs['lr']:.3g}")
    return " ".join(parts)


# --- fit -----------------------------------------------------------------------------------------


def _positive_int(name: str, value) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"fit: {name} must be an int >= 1, got {value!r}")


def fit(model, X: Sequence[Sequence[float]], y: Sequence, *, loss: str | LossFn, optimizer,
        steps: int | None = None, epochs: int | None = None, batch_size: int | None = None,
        shuffle: bool = True, validation_data: tuple[Sequence, Sequence] | None = None,
        eval_every: int | None = None, scheduler=None, l2: float = 0.0,
        callbacks: Sequence[Callback | Callable] = (), progress: bool | str = True,
        accuracy: bool | None = None, seed: int | None = None) -> History:
    """Train `model` on (X, y) with `optimizer` for `steps` updates or `epochs` passes; return a History.

    Each step: forward the batch, loss (+ `l2` * sum of squared parameters), zero_grad, backward,
    optimizer.step(), scheduler.step(). `loss` is "hinge" (labels -1/+1), "bce" (labels 0/1),
    "ce" (class indices, one output per class), "mse", or a function (outputs, targets) -> Value.
    `batch_size=None` is full-batch. Validation runs every `eval_every` steps (default: each epoch).
    A callback is a `Callback` or a function (step, logs) -> stop?; see `EarlyStopping`.
    """
    if (steps is None) == (epochs is None):
        raise ValueError(f"fit: give exactly one of steps= (number of updates) or epochs= (passes "
                         f"over the data), got steps={steps!r}, epochs={epochs!r}")
    _positive_int("steps", steps)
    _positive_int("epochs", epochs)
    _positive_int("eval_every", eval_every)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)} targets; they must match")
    if not isinstance(l2, (int, float)) or not l2 >= 0.0:
        raise ValueError(f"fit: l2 must be a number >= 0, got {l2!r}")
    task = _Task(loss, y, accuracy)
    if validation_data is not None:
        X_val, y_val = validation_data
        if len(X_val) != len(y_val) or not X_val:
            raise ValueError(f"fit: validation_data must be (X_val, y_val) of equal, non-zero length, "
                             f"got {len(X_val)} rows and {len(y_val)} targets")
        _Task(loss, y_val, accuracy)  # same label checks as the training targets
    callbacks = list(callbacks)
    for cb in callbacks:
        monitor = getattr(cb, "monitor", "")
        if monitor.startswith("val_") and validation_data is None:
            raise ValueError(f"fit: {cb!r} watches {monitor!r} but no validation_data was given; "
                             f"pass validation_data=(X_val, y_val) or monitor='loss'")

    loader = DataLoader(X, y, batch_size, shuffle=shuffle and batch_size is not None, seed=seed)
    total = steps if steps is not None else epochs * len(loader)
    eval_every = eval_every or len(loader)
    params = model.parameters()
    history = History(loss_name=task.name, l2=float(l2))
    bar = _progress_bar(progress, total)
    for cb in callbacks:
        if isinstance(cb, Callback):
            cb.on_train_begin(model, history)

    model.train()
    step, epoch, batches = 0, 0, iter(loader)
    try:
        while step < total:
            try:
                X_batch, y_batch = next(batches)
            except StopIteration:
                epoch += 1
                batches = iter(loader)
                continue
            step += 1
            # 1. forward: the model's outputs, the loss, and the L2 term, as one graph
            outputs = [model(x) for x in X_batch]
            objective = task.loss_fn(outputs, y_batch) + _l2_term(params, l2)
            diverged = not math.isfinite(objective.data)
            lr = optimizer.lr
            if not diverged:
                # 2. backward: clear the old gradients (leaves accumulate), then d(objective)/d(params)
                optimizer.zero_grad()
                objective.backward()
                # 3. update the parameters with this step's learning rate, then schedule the next one
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()

            logs = {"step": step, "epoch": epoch, "loss": objective.data, "lr": lr,
                    "accuracy": task.correct(outputs, y_batch) / len(y_batch) if task.accuracy else None}
            history.step.append(step)
            history.epoch.append(epoch)
            history.loss.append(objective.data)
            history.lr.append(lr)
            if task.accuracy:
                history.accuracy.append(logs["accuracy"])
            evaluate_now = step % eval_every == 0 or step == total
            if validation_data is not None and evaluate_now and not diverged:
                val_loss, val_acc = _evaluate(model, X_val, y_val, task, params, l2)
                logs.update(val_loss=val_loss, val_accuracy=val_acc)
                history.val_step.append(step)
                history.val_loss.append(val_loss)
                if val_acc is not None:
                    history.val_accuracy.append(val_acc)
            if bar is not None:
                bar.set_postfix_str(_postfix(logs), refresh=False)
                bar.update(1)
            if diverged:
                warnings.warn(f"fit: the loss became {objective.data} at step {step}, so training "
                              f"stopped before updating the weights: it diverged; try a smaller "
                              f"learning rate", RuntimeWarning, stacklevel=2)
                history.stopped_step = step
                break

            stop = False
            for cb in callbacks:
                hook = cb.on_step_end if isinstance(cb, Callback) else cb
                stop = bool(hook(step, logs)) or stop
            if stop:
                history.stopped_step = step
                break
    finally:
        if bar is not None:
            bar.close()
    for cb in callbacks:
        if isinstance(cb, Callback):
            cb.on_train_end(model, history)
    return history


# --- evaluate and predict ------------------------------------------------------------------------


def evaluate(model, X: Sequence[Sequence[float]], y: Sequence, loss: str | LossFn, *,
             l2: float = 0.0, accuracy: bool | None = None) -> dict[str, float | None]:
    """{"loss": ..., "accuracy": ... or None} of `model` on (X, y), under no_grad() in eval mode."""
    if len(X) != len(y) or not X:
        raise ValueError(f"evaluate: X and y must have equal, non-zero length, got {len(X)} rows "
                         f"and {len(y)} targets")
    task = _Task(loss, y, accuracy)
    value, acc = _evaluate(model, X, y, task, model.parameters(), l2)
    return {"loss": value, "accuracy": acc}


def predict(model, X: Sequence[Sequence[float]]) -> list:
    """The model's outputs on each row of X as floats (a list of floats per row for several outputs)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = [model(x) for x in X]
    finally:
        model.train(was_training)
    return [[_data(o) for o in out] if isinstance(out, (list, tuple)) else _data(out)
            for out in outputs]


def predict_classes(model, X: Sequence[Sequence[float]], threshold: float = 0.0) -> list[int]:
    """Class index per row: the argmax of several outputs, or 1 if the single output > threshold else 0."""
    return [out.index(max(out)) if isinstance(out, list) else int(out > threshold)
            for out in predict(model, X)]
