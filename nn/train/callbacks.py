"""Callbacks: what `fit` calls around each step (Keras's names), and `EarlyStopping`.

A callback is a `Callback` subclass or a plain function (step, logs) -> stop?. diagnostics.py and
live.py are callbacks too. Notebook 06 stops early with one.
"""

from __future__ import annotations

import math

from ..validation import non_negative, one_of, positive_int
from .history import History

__all__ = ["Callback", "EarlyStopping"]


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
