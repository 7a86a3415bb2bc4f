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
from autograd_core.compiler import compile_loss

from . import losses
from .data import DataLoader
from .validation import boolean, non_negative, one_of, positive_int, rows, targets

__all__ = ["Callback", "EarlyStopping", "History", "LOSSES", "evaluate", "fit", "loss_function",
           "predict", "predict_classes"]

LossFn = Callable[[list, list], Value]

# Short names accepted for `loss=` (the CLI's --loss choices) -> the loss functions' full names,
# which are accepted too (plus "binary_cross_entropy", for models that output probabilities).
LOSSES: dict[str, str] = {
    "hinge": "hinge_loss",
    "bce": "binary_cross_entropy_with_logits",
    "ce": "cross_entropy",
    "mse": "mse_loss",
    "l1": "l1_loss",
}
_FULL_NAMES = (*LOSSES.values(), "binary_cross_entropy")


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

    MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_loss",
                 restore_best_weights: bool = True) -> None:
        self.patience = positive_int("EarlyStopping: patience", patience)
        self.min_delta = non_negative("EarlyStopping: min_delta", min_delta)
        self.monitor = one_of("EarlyStopping: monitor", monitor, self.MONITORS)
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


def loss_function(loss: str | LossFn) -> tuple[str, LossFn]:
    """(full name, function) for a loss given by short name ("hinge"), full name ("hinge_loss")
    or as a function (outputs, targets) -> Value."""
    if callable(loss):
        return getattr(loss, "__name__", "loss"), loss
    if isinstance(loss, str):
        name = LOSSES.get(loss, loss)
        if name in _FULL_NAMES:
            return name, getattr(losses, name)
    choices = ", ".join(repr(k) for k in (*LOSSES, *_FULL_NAMES))
    raise ValueError(f"loss {loss!r:.40} is unknown; use one of {choices}, or a function "
                     f"loss(outputs, targets) -> Value")


def _data(v) -> float:
    return v.data if isinstance(v, Value) else v


class _Task:
    """How to score outputs against targets: the loss (its targets checked), and accuracy when
    the loss is a classification loss (or `accuracy=True`)."""

    def __init__(self, loss: str | LossFn, y: list, accuracy: bool | None,
                 n_outputs: int | None = None, name: str = "y") -> None:
        self.name, self.loss_fn = loss_function(loss)
        self.n_outputs = n_outputs
        self.check(y, name)
        if accuracy is not None and not isinstance(accuracy, bool):
            raise TypeError(f"accuracy must be True, False or None (automatic), got {accuracy!r:.40}")
        self.accuracy = self.name in losses.CLASSIFICATION if accuracy is None else accuracy
        # binary outputs are scores: class "high" when the score is above the threshold
        labels = sorted(set(y)) if self.accuracy else []
        self.high = labels[-1] if labels else 1
        logits = self.name in ("hinge_loss", "binary_cross_entropy_with_logits")
        self.threshold = 0.0 if logits or len(labels) < 2 else (labels[0] + labels[-1]) / 2

    def check(self, y: list, name: str) -> None:
        """Refuse targets this loss cannot score (a named loss only: a function checks its own)."""
        if self.name in _FULL_NAMES:
            losses.check_targets(self.name, y, self.n_outputs, name)

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


def _outputs(model, X: Sequence) -> list:
    """The model's outputs on each row of X, under no_grad in eval mode (its mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return [model(x) for x in X]
    finally:
        model.train(was_training)


def _evaluate(model, X, y, task: _Task, params: list, l2: float) -> tuple[float, float | None]:
    """(loss, accuracy or None) on the whole of X, y under no_grad and eval mode."""
    outputs = _outputs(model, X)
    with no_grad():
        loss = task.loss_fn(outputs, list(y)) + _l2_term(params, l2)
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


# --- fit: check everything first ----------------------------------------------------------------


@dataclass
class _Plan:
    """Everything `fit` checked and prepared before the first step (nothing changes before)."""

    task: _Task
    loader: DataLoader
    total: int
    eval_every: int
    validation: tuple[list, list] | None
    l2: float
    callbacks: list
    progress: bool | str
    compiled: Callable | None = None  # the compiled step, when fit(compile=True)


# `fit(live=True)` adds the callback registered here; nn.live registers its LiveView when nn is
# imported (so that this module need not import nn.live, which builds on it).
LIVE_VIEWS: list = []


def _n_outputs(model, row: list) -> int:
    """How many outputs the model gives per row: one forward pass under no_grad."""
    out = _outputs(model, [row])[0]
    return len(out) if isinstance(out, (list, tuple)) else 1


def _task_and_data(model, X, y, loss, accuracy) -> tuple[_Task, list, list]:
    """The checked rows, targets and task (cross-entropy asks the model how many classes it has)."""
    X = rows("fit: X", X)
    y = targets("fit: y", y, len(X))
    name, _ = loss_function(loss)
    n_outputs = _n_outputs(model, X[0]) if name == "cross_entropy" else None
    return _Task(loss, y, accuracy, n_outputs, "fit: y"), X, y


def _validation(validation_data, task: _Task, width: int) -> tuple[list, list] | None:
    """(X_val, y_val) checked like X and y, with rows as wide as X's."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
        raise TypeError(f"fit: validation_data must be a pair (X_val, y_val), got "
                        f"{type(validation_data).__name__}")
    X_val = rows("fit: validation_data X", validation_data[0])
    y_val = targets("fit: validation_data y", validation_data[1], len(X_val))
    if len(X_val[0]) != width:
        raise ValueError(f"fit: validation_data rows have {len(X_val[0])} features but X's rows "
                         f"have {width}; they must match")
    task.check(y_val, "fit: validation_data y")
    return X_val, y_val


def _check_callbacks(callbacks, validation, task: _Task) -> list:
    """The callbacks as a list; one that watches a value fit will not record is refused."""
    callbacks = list(callbacks)
    for cb in callbacks:
        if not (isinstance(cb, Callback) or callable(cb)):
            raise TypeError(f"fit: callbacks must be Callbacks or functions (step, logs) -> stop?, "
                            f"got {type(cb).__name__}")
        monitor = getattr(cb, "monitor", "") if isinstance(cb, Callback) else ""
        if monitor.startswith("val_") and validation is None:
            raise ValueError(f"fit: {cb!r} watches {monitor!r} but no validation_data was given; "
                             f"pass validation_data=(X_val, y_val) or monitor='loss'")
        if monitor.endswith("accuracy") and not task.accuracy:
            raise ValueError(f"fit: {cb!r} watches {monitor!r} but {task.name} records no "
                             f"accuracy; watch a loss, or pass accuracy=True")
    return callbacks


def _plan(model, X, y, *, loss, steps, epochs, batch_size, shuffle, validation_data, eval_every,
          l2, callbacks, progress, accuracy, seed, compile=False, live=False) -> _Plan:
    """Check every argument of `fit` and prepare the batches; raises before anything changes."""
    if (steps is None) == (epochs is None):
        raise ValueError(f"fit: give exactly one of steps= (number of updates) or epochs= (passes "
                         f"over the data), got steps={steps!r}, epochs={epochs!r}")
    count = positive_int("fit: steps", steps) if steps is not None else None
    passes = positive_int("fit: epochs", epochs) if epochs is not None else None
    eval_every = positive_int("fit: eval_every", eval_every) if eval_every is not None else None
    l2 = non_negative("fit: l2", l2)
    if progress not in (True, False, None, "text", "tqdm"):
        raise ValueError(f"fit: progress must be True, False, 'tqdm' or 'text', got {progress!r}")
    task, X, y = _task_and_data(model, X, y, loss, accuracy)
    validation = _validation(validation_data, task, len(X[0]))
    callbacks = _check_callbacks(callbacks, validation, task)
    loader = DataLoader(X, y, batch_size, shuffle=shuffle and batch_size is not None, seed=seed)
    total = count if count is not None else passes * len(loader)
    if boolean("fit: live", live):
        if not LIVE_VIEWS:
            raise ImportError("fit(live=True) needs nn.live (import nn); or pass callbacks=[LiveView(X, y)]")
        callbacks.append(LIVE_VIEWS[-1](X, y, steps=total))
    compiled = _compiled_step(model, task, l2) if boolean("fit: compile", compile) else None
    return _Plan(task, loader, total, eval_every or len(loader), validation, l2, callbacks,
                 progress, compiled)


def _compiled_step(model, task: _Task, l2: float):
    """The step's forward and backward as generated code, compiled per batch shape (compile=True)."""
    params = model.parameters()
    static = task.name not in ("hinge_loss", "binary_cross_entropy_with_logits", "mse_loss")
    return compile_loss(model, lambda outputs, targets: task.loss_fn(outputs, targets)
                        + _l2_term(params, l2), static_targets=static)


# --- fit: the loop -------------------------------------------------------------------------------


def _batches(loader: DataLoader, total: int):
    """(step, epoch, (X_batch, y_batch)) for steps 1..total, a new pass when one ends."""
    step, epoch = 0, 0
    while True:
        for batch in loader:
            step += 1
            yield step, epoch, batch
            if step == total:
                return
        epoch += 1


class _Training:
    """One run of `fit`: the step, and what happens around it, one method each."""

    def __init__(self, model, optimizer, scheduler, plan: _Plan) -> None:
        self.model, self.optimizer, self.scheduler, self.plan = model, optimizer, scheduler, plan
        self.params = model.parameters()
        self.history = History(loss_name=plan.task.name, l2=plan.l2)
        self.bar = None

    def run(self) -> History:
        """Train for plan.total steps or until a callback (or divergence) stops it."""
        self.bar = _progress_bar(self.plan.progress, self.plan.total)
        self.hook("on_train_begin")
        self.model.train()
        try:
            for step, epoch, (X_batch, y_batch) in _batches(self.plan.loader, self.plan.total):
                logs = self.step(step, epoch, X_batch, y_batch)
                if self.after_step(logs):
                    self.history.stopped_step = step
                    break
        finally:
            if self.bar is not None:
                self.bar.close()
        self.hook("on_train_end")
        return self.history

    def step(self, step: int, epoch: int, X_batch: list, y_batch: list) -> dict:
        """One update; returns its logs (step, epoch, loss before the update, lr, accuracy)."""
        task, lr = self.plan.task, self.optimizer.lr
        if self.plan.compiled is not None:  # 1 and 2 below, as generated code (fit(compile=True))
            self.optimizer.zero_grad()
            loss, outputs = self.plan.compiled(X_batch, y_batch)
        else:
            # 1. forward: the model's outputs, the loss, and the L2 term, as one graph
            outputs = [self.model(x) for x in X_batch]
            objective = task.loss_fn(outputs, y_batch) + _l2_term(self.params, self.plan.l2)
            loss = objective.data
            if math.isfinite(loss):  # a NaN or inf loss is reported by after_step
                # 2. backward: clear the old gradients (leaves accumulate), then d(objective)/d(params)
                self.optimizer.zero_grad()
                objective.backward()
        if math.isfinite(loss):
            # 3. update the parameters with this step's learning rate, then schedule the next one
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
        accuracy = task.correct(outputs, y_batch) / len(y_batch) if task.accuracy else None
        return {"step": step, "epoch": epoch, "loss": loss, "lr": lr, "accuracy": accuracy}

    def after_step(self, logs: dict) -> bool:
        """Record the step, validate when due, show progress, ask the callbacks; True to stop."""
        diverged = not math.isfinite(logs["loss"])
        self.record(logs)
        step = logs["step"]
        if not diverged and (step % self.plan.eval_every == 0 or step == self.plan.total):
            self.validate(logs)
        if self.bar is not None:
            self.bar.set_postfix_str(_postfix(logs), refresh=False)
            self.bar.update(1)
        if diverged:
            warnings.warn(f"fit: the loss became {logs['loss']} at step {step}, so training "
                          f"stopped before updating the weights: it diverged; try a smaller "
                          f"learning rate", RuntimeWarning, stacklevel=4)
            return True
        stop = False
        for cb in self.plan.callbacks:
            hook = cb.on_step_end if isinstance(cb, Callback) else cb
            stop = bool(hook(step, logs)) or stop
        return stop

    def record(self, logs: dict) -> None:
        """Append the step's numbers to the History."""
        history = self.history
        history.step.append(logs["step"])
        history.epoch.append(logs["epoch"])
        history.loss.append(logs["loss"])
        history.lr.append(logs["lr"])
        if self.plan.task.accuracy:
            history.accuracy.append(logs["accuracy"])

    def validate(self, logs: dict) -> None:
        """Loss (and accuracy) on the validation data, into the logs and the History."""
        if self.plan.validation is None:
            return
        X_val, y_val = self.plan.validation
        val_loss, val_acc = _evaluate(self.model, X_val, y_val, self.plan.task, self.params,
                                      self.plan.l2)
        logs.update(val_loss=val_loss, val_accuracy=val_acc)
        self.history.val_step.append(logs["step"])
        self.history.val_loss.append(val_loss)
        if val_acc is not None:
            self.history.val_accuracy.append(val_acc)

    def hook(self, name: str) -> None:
        """Call `name` ("on_train_begin" / "on_train_end") of every Callback object."""
        for cb in self.plan.callbacks:
            if isinstance(cb, Callback):
                getattr(cb, name)(self.model, self.history)


def fit(model, X: Sequence[Sequence[float]], y: Sequence, *, loss: str | LossFn, optimizer,
        steps: int | None = None, epochs: int | None = None, batch_size: int | None = None,
        shuffle: bool = True, validation_data: tuple[Sequence, Sequence] | None = None,
        eval_every: int | None = None, scheduler=None, l2: float = 0.0,
        callbacks: Sequence[Callback | Callable] = (), progress: bool | str = True,
        accuracy: bool | None = None, seed: int | None = None, compile: bool = False,
        live: bool = False) -> History:
    """Train `model` on (X, y) with `optimizer` for `steps` updates or `epochs` passes; return a History.

    Each step: forward the batch, loss (+ `l2` * sum of squared parameters), zero_grad, backward,
    optimizer.step(), scheduler.step(). `loss` is "hinge" (labels -1/+1), "bce" (labels 0/1),
    "ce" (class indices, one output per class), "mse", "l1", a full name ("hinge_loss",
    "binary_cross_entropy_with_logits", "cross_entropy", "mse_loss", "l1_loss",
    "binary_cross_entropy"), or a function (outputs, targets) -> Value. X is a list of rows or a
    2-d numpy array, y a list or 1-d array; everything is checked before the first step.
    `batch_size=None` is full-batch. Validation runs every `eval_every` steps (default: each epoch).
    Accuracy is recorded for classification losses (`accuracy=True/False` overrides).
    A callback is a `Callback` or a function (step, logs) -> stop?; see `EarlyStopping`.
    `compile=True` runs each step as generated code, compiled once per batch shape
    (`autograd_core.compile`; the same History, several times faster). `live=True` redraws the
    loss curves (and a 2-D decision boundary) in place in Jupyter while training (`nn.live`).
    """
    plan = _plan(model, X, y, loss=loss, steps=steps, epochs=epochs, batch_size=batch_size,
                 shuffle=shuffle, validation_data=validation_data, eval_every=eval_every, l2=l2,
                 callbacks=callbacks, progress=progress, accuracy=accuracy, seed=seed,
                 compile=compile, live=live)
    return _Training(model, optimizer, scheduler, plan).run()


# --- evaluate and predict ------------------------------------------------------------------------


def evaluate(model, X: Sequence[Sequence[float]], y: Sequence, loss: str | LossFn, *,
             l2: float = 0.0, accuracy: bool | None = None) -> dict[str, float | None]:
    """{"loss": ..., "accuracy": ... or None} of `model` on (X, y), under no_grad() in eval mode."""
    X = rows("evaluate: X", X)
    y = targets("evaluate: y", y, len(X))
    task = _Task(loss, y, accuracy, name="evaluate: y")
    value, acc = _evaluate(model, X, y, task, model.parameters(), non_negative("evaluate: l2", l2))
    return {"loss": value, "accuracy": acc}


def predict(model, X: Sequence[Sequence[float]]) -> list:
    """The model's outputs on each row of X as floats (a list of floats per row for several outputs)."""
    outputs = _outputs(model, rows("predict: X", X))
    return [[_data(o) for o in out] if isinstance(out, (list, tuple)) else _data(out)
            for out in outputs]


def predict_classes(model, X: Sequence[Sequence[float]], threshold: float = 0.0) -> list[int]:
    """Class index per row: the argmax of several outputs, or 1 if the single output > threshold else 0."""
    return [out.index(max(out)) if isinstance(out, list) else int(out > threshold)
            for out in predict(model, X)]
