"""`History`: what `fit` saw, step by step (loss, accuracy, learning rate) and per evaluation
(validation loss and accuracy). `nn.plots.plot_history` draws it; notebook 05 reads one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["History"]


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
