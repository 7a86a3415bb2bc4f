"""A live view of training: the loss curve (and, for 2-D inputs, the decision boundary) redrawn in
place while `fit` runs, in ONE Jupyter output that is updated, not appended to.

Outside Jupyter it prints a progress line now and then instead. The last redraw shows the final
state and nothing that depends on timing, so a saved notebook keeps one deterministic picture.
Notebook 05b uses it.
"""

from __future__ import annotations

import base64
import html
import io
import math
import sys
import time
from typing import Sequence

from autograd_core import Value

from .. import validation
from ..layers import MLP
from .callbacks import Callback
from .evaluation import predict

__all__ = ["LiveView", "in_jupyter"]

MODES = ("auto", "jupyter", "text")


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel), where displays can update."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class LiveView(Callback):
    """A `fit` callback that redraws the training curves in place: `fit(..., callbacks=[LiveView(X, y)])`.

    Redraws every `every` steps if given, else at most every `interval` seconds (and never more
    often than keeps drawing under ~20% of the time), and once more at the end. Give `X, y` to see
    the decision boundary of a model with 2-D inputs; `steps` fixes the x-axis to the run's length.
    `mode="auto"` draws in Jupyter and prints lines to `file` (stderr) elsewhere.
    """

    def __init__(self, X: Sequence | None = None, y: Sequence | None = None, *,
                 every: int | None = None, interval: float = 0.5, steps: int | None = None,
                 boundary: bool | None = None, resolution: int = 30, mode: str = "auto",
                 file=None) -> None:
        self.every = None if every is None else validation.positive_int("LiveView: every", every)
        self.interval = validation.non_negative("LiveView: interval", interval)
        self.total = None if steps is None else validation.positive_int("LiveView: steps", steps)
        self.resolution = validation.integer("LiveView: resolution", resolution, minimum=5)
        self.mode = validation.one_of("LiveView: mode", mode, MODES)
        if (X is None) != (y is None) or (X is not None and len(X) != len(y)):
            raise ValueError("LiveView: give both X and y (of equal length) to draw the decision "
                             "boundary, or neither")
        two_d = X is not None and len(X) > 0 and all(len(row) == 2 for row in X)
        if boundary and not two_d:
            raise ValueError("LiveView: boundary=True needs X and y with 2-D inputs (rows of 2 numbers)")
        self.X, self.y = X, y
        self.boundary = two_d if boundary is None else bool(boundary)
        self.file = file
        self.frames = 0  # how many times the view was drawn (or printed)
        self._reset(None)

    def _reset(self, model) -> None:
        self.model = model
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.val_steps: list[int] = []
        self.val_losses: list[float] = []
        self.accuracy: float | None = None
        self._handle = None
        self._last_draw = 0.0
        self._draw_cost = 0.0

    # --- the fit callback -------------------------------------------------------------------------

    def on_train_begin(self, model, history) -> None:
        self._reset(model)
        self._jupyter = self.mode == "jupyter" or (self.mode == "auto" and in_jupyter())
        if self._jupyter:
            self._show(first=True)
        self._last_draw = time.monotonic()

    def on_step_end(self, step: int, logs: dict) -> None:
        self.steps.append(step)
        self.losses.append(float(logs["loss"]))
        if logs.get("val_loss") is not None:
            self.val_steps.append(step)
            self.val_losses.append(float(logs["val_loss"]))
        if logs.get("accuracy") is not None:
            self.accuracy = float(logs["accuracy"])
        if self._due(step):
            self._show()

    def on_train_end(self, model, history) -> None:
        self._show(final=True)  # the last picture: the final state, nothing timing-dependent

    def _due(self, step: int) -> bool:
        if self.every is not None:
            return step % self.every == 0
        # time-based: every `interval` s, and at least 4x the drawing time apart (drawing <= 20%)
        return time.monotonic() - self._last_draw >= max(self.interval, 4 * self._draw_cost)

    # --- showing ----------------------------------------------------------------------------------

    def _show(self, first: bool = False, final: bool = False) -> None:
        start = time.monotonic()
        if self._jupyter:
            self._update_display(first)
        else:
            self._print_line(final)
        self.frames += 1
        self._last_draw = time.monotonic()
        self._draw_cost = self._last_draw - start

    def _update_display(self, first: bool) -> None:
        from IPython.display import display

        png = base64.b64encode(self.render_png()).decode("ascii")
        text = "Live training view: " + self.summary()
        # the PNG again inside <img alt=...>, so that screen readers and saved notebooks describe it
        bundle = {"image/png": png, "text/plain": text,
                  "text/html": f'<img src="data:image/png;base64,{png}" alt="{html.escape(text)}">'}
        if first or self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def _print_line(self, final: bool) -> None:
        out = self.file if self.file is not None else sys.stderr
        if self.steps:
            out.write(("live: " if not final else "live (final): ") + self.summary() + "\n")
            out.flush()

    def summary(self) -> str:
        """One line: the step, the last loss (and validation loss, accuracy) so far."""
        if not self.steps:
            return "no step yet"
        of = f" of {self.total}" if self.total else ""
        parts = [f"step {self.steps[-1]}{of}", f"loss {self.losses[-1]:.4f}"]
        if self.val_losses:
            parts.append(f"validation loss {self.val_losses[-1]:.4f}")
        if self.accuracy is not None:
            parts.append(f"accuracy {self.accuracy:.1%}")
        return ", ".join(parts)

    # --- drawing ----------------------------------------------------------------------------------

    def render_png(self, dpi: int = 90) -> bytes:
        """The current picture as PNG bytes (drawn without pyplot, so Jupyter shows it only here)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        panels = 2 if self.boundary and self.model is not None else 1
        fig = Figure(figsize=(4.6 * panels, 3.6))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, panels, squeeze=False)[0]
        self._draw_loss(axes[0])
        if panels == 2:
            self._draw_boundary(axes[1])
        fig.subplots_adjust(left=0.08 if panels == 2 else 0.15, right=0.98, bottom=0.14, top=0.9,
                            wspace=0.25)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()

    def _draw_loss(self, ax) -> None:
        ax.plot(self.steps, self.losses, color="C0", label="training loss")
        if self.val_losses:
            ax.plot(self.val_steps, self.val_losses, color="C1", marker=".", label="validation loss")
        ax.set_xlim(0, self.total or max(self.steps, default=1))
        ax.set_ylim(bottom=0.0, top=max(self.losses + self.val_losses, default=1.0) * 1.05 or 1.0)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        done = f"{self.steps[-1]}" + (f" of {self.total}" if self.total else "") if self.steps else "0"
        ax.set_title(f"Loss, step {done}", fontsize="medium")
        ax.grid(alpha=0.3)
        if self.steps:
            ax.legend(loc="upper right", fontsize="small")

    def _draw_boundary(self, ax) -> None:
        gx, gy, grid = _grid(self.X, self.resolution)
        outputs = _outputs(self.model, grid)
        n = self.resolution
        if outputs and isinstance(outputs[0], list):  # several outputs: the argmax class
            field = [[max(range(len(o)), key=o.__getitem__) for o in outputs[j * n:(j + 1) * n]]
                     for j in range(n)]
            ax.contourf(gx, gy, field, alpha=0.25, cmap="tab10", vmin=0, vmax=9)
        else:  # one output: its sign
            field = [[float(o) for o in outputs[j * n:(j + 1) * n]] for j in range(n)]
            big = max(abs(v) for row in field for v in row) + 1.0
            ax.contourf(gx, gy, field, levels=[-big, 0.0, big], colors=["#1f77b4", "#ff7f0e"],
                        alpha=0.25)
        labels = sorted(set(_number(t) for t in self.y))
        colours = {label: f"C{i}" for i, label in enumerate(labels)}
        ax.scatter([r[0] for r in self.X], [r[1] for r in self.X], s=14, edgecolors="black",
                   linewidths=0.4, c=[colours[_number(t)] for t in self.y], zorder=3)
        ax.set_xlabel("x[0]")
        ax.set_ylabel("x[1]")
        ax.set_title("Decision boundary (shade: predicted, dots: true class)", fontsize="medium")


def _grid(X: Sequence, n: int, margin: float = 0.15):
    """An n x n grid of points over X's bounding box plus a margin: (xs, ys, points row by row)."""
    spans = []
    for column in (0, 1):
        lo, hi = min(row[column] for row in X), max(row[column] for row in X)
        pad = (hi - lo) * margin or 1.0
        spans.append([lo - pad + (hi - lo + 2 * pad) * i / (n - 1) for i in range(n)])
    gx, gy = spans
    return gx, gy, [[x, y] for y in gy for x in gx]


_FLOAT_ACTIVATIONS = {
    "relu": lambda v: v if v > 0.0 else 0.0,
    "tanh": math.tanh,
    "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)) if v >= 0.0 else math.exp(v) / (1.0 + math.exp(v)),
    "leaky_relu": lambda v: v if v > 0.0 else 0.01 * v,
    "linear": lambda v: v,
}


def _outputs(model, points: list) -> list:
    """The model's outputs on `points`: an MLP computed on plain floats (no graph, ~10x faster than
    `predict`, same numbers to round-off), any other model through `predict`."""
    if type(model) is not MLP:
        return predict(model, points)
    layers = [([([w.data for w in n.w], n.b.data) for n in layer.neurons],
               _FLOAT_ACTIVATIONS[layer.activation]) for layer in model.layers]
    outputs = []
    for h in points:
        for neurons, act in layers:
            h = [act(sum([w * x for w, x in zip(ws, h)], b)) for ws, b in neurons]
        outputs.append(h[0] if len(h) == 1 else h)
    return outputs


def _number(t) -> float:
    return t.data if isinstance(t, Value) else float(t)
