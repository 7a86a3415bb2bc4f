"""The training loop: forward, loss, backward, update, repeated, with a History of what happened.

`fit` runs the loop (mini-batches, a learning-rate scheduler, L2, validation, early stopping,
callbacks, a progress bar, compiled steps, a live view); evaluation.py scores models, history.py,
callbacks.py and progress.py hold what the loop reports to. Notebook 05 (training) builds this
loop by hand first, then calls `fit`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

from autograd_core.compiler import compile_loss

from ..data import DataLoader
from ..validation import boolean, non_negative, positive_int, rows, targets
from .callbacks import Callback
from .evaluation import LossFn, Task, evaluate_task, l2_term, loss_function, outputs_of
from .history import History
from .live import LiveView
from .progress import postfix, progress_bar

__all__ = ["fit"]


# --- fit: check everything first ----------------------------------------------------------------


@dataclass
class _Plan:
    """Everything `fit` checked and prepared before the first step (nothing changes before)."""

    task: Task
    loader: DataLoader
    total: int
    eval_every: int
    validation: tuple[list, list] | None
    l2: float
    callbacks: list
    progress: bool | str
    compiled: Callable | None = None  # the compiled step, when fit(compile=True)


def _noutputs_of(model, row: list) -> int:
    """How many outputs the model gives per row: one forward pass under no_grad."""
    out = outputs_of(model, [row])[0]
    return len(out) if isinstance(out, (list, tuple)) else 1


def _task_and_data(model, X, y, loss, accuracy) -> tuple[Task, list, list]:
    """The checked rows, targets and task (cross-entropy asks the model how many classes it has)."""
    X = rows("fit: X", X)
    y = targets("fit: y", y, len(X))
    name, _ = loss_function(loss)
    n_outputs = _noutputs_of(model, X[0]) if name == "cross_entropy" else None
    return Task(loss, y, accuracy, n_outputs, "fit: y"), X, y


def _validation(validation_data, task: Task, width: int) -> tuple[list, list] | None:
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


def _check_callbacks(callbacks, validation, task: Task) -> list:
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
        callbacks.append(LiveView(X, y, steps=total))
    compiled = _compiled_step(model, task, l2) if boolean("fit: compile", compile) else None
    return _Plan(task, loader, total, eval_every or len(loader), validation, l2, callbacks,
                 progress, compiled)


def _compiled_step(model, task: Task, l2: float):
    """The step's forward and backward as generated code, compiled per batch shape (compile=True)."""
    params = model.parameters()
    static = task.name not in ("hinge_loss", "binary_cross_entropy_with_logits", "mse_loss")
    return compile_loss(model, lambda outputs, targets: task.loss_fn(outputs, targets)
                        + l2_term(params, l2), static_targets=static)


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
        self.bar = progress_bar(self.plan.progress, self.plan.total)
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
            objective = task.loss_fn(outputs, y_batch) + l2_term(self.params, self.plan.l2)
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
            self.bar.set_postfix_str(postfix(logs), refresh=False)
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
        val_loss, val_acc = evaluate_task(self.model, X_val, y_val, self.plan.task, self.params,
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
    loss curves (and a 2-D decision boundary) in place in Jupyter while training (`nn.train.LiveView`).
    """
    plan = _plan(model, X, y, loss=loss, steps=steps, epochs=epochs, batch_size=batch_size,
                 shuffle=shuffle, validation_data=validation_data, eval_every=eval_every, l2=l2,
                 callbacks=callbacks, progress=progress, accuracy=accuracy, seed=seed,
                 compile=compile, live=live)
    return _Training(model, optimizer, scheduler, plan).run()
