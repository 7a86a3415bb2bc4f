"""Scoring a model: which loss (`loss_function`, by name or function), what counts as correct
(`Task`), and `evaluate`, `predict`, `predict_classes`, which run the model under `no_grad()` in
eval mode. loop.py trains with these; diagnostics.py, lr_finder.py and live.py use them too.
"""

from __future__ import annotations

from typing import Callable, Sequence

from autograd_core import Value, no_grad

from .. import losses
from ..validation import non_negative, rows, targets

__all__ = ["LOSSES", "Task", "evaluate", "l2_term", "loss_function", "number", "outputs_of",
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
FULL_NAMES = (*LOSSES.values(), "binary_cross_entropy")


def loss_function(loss: str | LossFn, where: str = "") -> tuple[str, LossFn]:
    """(full name, function) for a loss given by short name ("hinge"), full name ("hinge_loss")
    or as a function (outputs, targets) -> Value; an unknown name's error starts with `where`."""
    if callable(loss):
        return getattr(loss, "__name__", "loss"), loss
    if isinstance(loss, str):
        name = LOSSES.get(loss, loss)
        if name in FULL_NAMES:
            return name, getattr(losses, name)
    choices = ", ".join(repr(k) for k in (*LOSSES, *FULL_NAMES))
    raise ValueError(f"{where + ': ' if where else ''}loss {loss!r:.40} is unknown; use one of {choices}, or a function "
                     f"loss(outputs, targets) -> Value")


def number(v) -> float:
    """A Value's data, or the number itself."""
    return v.data if isinstance(v, Value) else v


class Task:
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
        if self.name in FULL_NAMES:
            losses.check_targets(self.name, y, self.n_outputs, name)

    def correct(self, outputs: Sequence, targets: Sequence) -> int:
        """How many outputs predict their target's class (argmax, or score above the threshold)."""
        hits = 0
        for out, target in zip(outputs, targets):
            if isinstance(out, (list, tuple)):
                datas = [number(o) for o in out]
                hits += datas.index(max(datas)) == target
            else:
                hits += (number(out) > self.threshold) == (target == self.high)
        return hits


def l2_term(params: list, l2: float):
    return l2 * losses.l2_penalty(params) if l2 else 0.0


def outputs_of(model, X: Sequence) -> list:
    """The model's outputs on each row of X, under no_grad in eval mode (its mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return [model(x) for x in X]
    finally:
        model.train(was_training)


def evaluate_task(model, X, y, task: _Task, params: list, l2: float) -> tuple[float, float | None]:
    """(loss, accuracy or None) on the whole of X, y under no_grad and eval mode."""
    outputs = outputs_of(model, X)
    with no_grad():
        loss = task.loss_fn(outputs, list(y)) + l2_term(params, l2)
    accuracy = task.correct(outputs, y) / len(y) if task.accuracy else None
    return number(loss), accuracy


def evaluate(model, X: Sequence[Sequence[float]], y: Sequence, loss: str | LossFn, *,
             l2: float = 0.0, accuracy: bool | None = None) -> dict[str, float | None]:
    """{"loss": ..., "accuracy": ... or None} of `model` on (X, y), under no_grad() in eval mode."""
    X = rows("evaluate: X", X)
    y = targets("evaluate: y", y, len(X))
    task = Task(loss, y, accuracy, name="evaluate: y")
    value, acc = evaluate_task(model, X, y, task, model.parameters(), non_negative("evaluate: l2", l2))
    return {"loss": value, "accuracy": acc}


def predict(model, X: Sequence[Sequence[float]]) -> list:
    """The model's outputs on each row of X as floats (a list of floats per row for several outputs)."""
    outputs = outputs_of(model, rows("predict: X", X))
    return [[number(o) for o in out] if isinstance(out, (list, tuple)) else number(out)
            for out in outputs]


def predict_classes(model, X: Sequence[Sequence[float]], threshold: float = 0.0) -> list[int]:
    """Class index per row: the argmax of several outputs, or 1 if the single output > threshold else 0."""
    return [out.index(max(out)) if isinstance(out, list) else int(out > threshold)
            for out in predict(model, X)]
