"""Pictures of training: loss and accuracy curves, decision boundaries, regression fits.

Needs matplotlib (`pip install 'autograd-core[notebooks]'`). Each function returns the Figure and,
like pandas and seaborn, leaves it open in pyplot: Jupyter shows every figure of a cell once when
the cell ends (`fig = plot_history(h)` too), and `fig.savefig(path)` writes it to a file.
Scripts that draw many figures close each one after saving it (`close(fig)`).
Notebook 05 (training) draws all three.
"""

from __future__ import annotations

import functools
import io
import math
from typing import Sequence

from .train.evaluation import predict
from .train.history import History

__all__ = ["close", "plot_activations", "plot_decision_boundary", "plot_gradients", "plot_history",
           "plot_layer_stats", "plot_lr_find", "plot_regression", "plot_update_ratios"]

_CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("nn.plots needs matplotlib, which is not installed; install it with "
                          "pip install 'autograd-core[notebooks]' (or pip install matplotlib)") from None
    return plt


def _percent_formatter():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


def _show_png(fig) -> None:
    """Display `fig` as a PNG in Jupyter (tight bounding box, as the inline backend draws it)."""
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    display(Image(data=buffer.getvalue(), format="png"))


@functools.lru_cache(maxsize=None)
def _figure_class() -> type:
    """matplotlib's Figure, displayed in Jupyter exactly once (see Figure._ipython_display_)."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib._pylab_helpers import Gcf
    from matplotlib.figure import Figure as MatplotlibFigure

    class Figure(MatplotlibFigure):
        """matplotlib's Figure, displayed in Jupyter exactly once."""

        def _ipython_display_(self) -> None:
            # Jupyter's inline backend displays every open figure when a cell ends; a figure that
            # is also the cell's value would show twice. So show the open figures up to this one
            # (keeping their order) and close them: the end of the cell skips them.
            if "inline" not in matplotlib.get_backend():
                _show_png(self)
                return
            opened = [m.canvas.figure for m in Gcf.get_all_fig_managers()]
            for fig in opened[:opened.index(self) + 1] if self in opened else [self]:
                _show_png(fig)
                plt.close(fig)

    Figure.__module__, Figure.__qualname__ = __name__, "Figure"
    return Figure


def _subplots(plt, *args, **kwargs):
    """plt.subplots with this module's Figure class."""
    return plt.subplots(*args, FigureClass=_figure_class(), **kwargs)


def _finish(plt, fig):
    """Lay out `fig` and return it, left open in pyplot (Jupyter shows open figures once)."""
    fig.tight_layout()
    return fig


def close(fig) -> None:
    """Close `fig` in pyplot (after `fig.savefig(...)` in a script that draws many figures)."""
    _pyplot().close(fig)


# --- training curves -------------------------------------------------------------------------------


def plot_history(history: History, title: str | None = None):
    """Loss (train vs validation), accuracy (if classification) and learning rate against step."""
    plt = _pyplot()
    if not history.step:
        raise ValueError("plot_history: the History is empty; train with fit(...) first")
    panels = ["loss"]
    if history.accuracy:
        panels.append("accuracy")
    if len(set(history.lr)) > 1:
        panels.append("lr")
    fig, axes = _subplots(plt, 1, len(panels), figsize=(3.8 * len(panels), 3.4), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "loss":
            ax.plot(history.step, history.loss, color="C0", label="train (per step)")
            if history.val_loss:
                ax.plot(history.val_step, history.val_loss, color="C1", label="validation")
            if history.best_step is not None:
                ax.axvline(history.best_step, color="gray", linestyle="--", label="best validation loss")
            name = history.loss_name.replace("_", " ") or "loss"
            ax.set_title(f"Loss: {name}" + (f" + {history.l2:g} L2" if history.l2 else ""),
                         fontsize="medium")
            values = [v for v in history.loss + history.val_loss if math.isfinite(v)]
            if values and 0.0 < min(values) and max(values) < 1e100 and max(values) > 100 * min(values):
                ax.set_yscale("log")  # a loss that falls 100x is flat on a linear axis
                ax.set_ylabel("loss (log scale)")
            else:
                ax.set_ylabel("loss")
                ax.set_ylim(bottom=0.0)
        elif panel == "accuracy":
            ax.plot(history.step, history.accuracy, color="C0", label="train (per step)")
            if history.val_accuracy:
                ax.plot(history.val_step, history.val_accuracy, color="C1", label="validation")
            ax.set_title("Accuracy", fontsize="medium")
            ax.set_ylabel("accuracy")
            ax.set_ylim(-0.02, 1.02)
            ax.yaxis.set_major_formatter(_percent_formatter())
        else:
            ax.plot(history.step, history.lr, color="C2", label="lr used at each step")
            ax.set_title("Learning rate (scheduled)", fontsize="medium")
            ax.set_ylabel("learning rate")
            ax.set_ylim(bottom=0.0)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(loc={"loss": "upper right", "accuracy": "lower right"}.get(panel, "best"),
                  fontsize="small")
    if title:
        fig.suptitle(title)
    return _finish(plt, fig)


# --- decision boundaries ---------------------------------------------------------------------------


def _grid(X: Sequence[Sequence[float]], resolution: int, margin: float = 0.15):
    """A resolution x resolution grid of points covering X's bounding box plus a margin."""
    xs, ys = [row[0] for row in X], [row[1] for row in X]
    (x0, x1), (y0, y1) = (min(xs), max(xs)), (min(ys), max(ys))
    dx, dy = (x1 - x0) * margin or 1.0, (y1 - y0) * margin or 1.0
    gx = [x0 - dx + (x1 - x0 + 2 * dx) * i / (resolution - 1) for i in range(resolution)]
    gy = [y0 - dy + (y1 - y0 + 2 * dy) * j / (resolution - 1) for j in range(resolution)]
    return gx, gy, [[x, y] for y in gy for x in gx]


def _class_names(labels: list) -> list[str]:
    return [f"class {label:+g}" if any(v < 0 for v in labels) else f"class {label:g}"
            for label in labels]


def plot_decision_boundary(model, X: Sequence[Sequence[float]], y: Sequence, *, resolution: int = 80,
                           title: str | None = None):
    """The 2-D input plane coloured by the class the model predicts, with the data on top.

    Binary models (one output) predict the larger label where the output is > 0 (hinge labels -1/+1 or
    BCE labels 0/1) and get the boundary drawn as a black line; multi-class models predict the argmax.
    Misclassified points are crossed out.
    """
    plt = _pyplot()
    if not X or len(X[0]) != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D inputs (rows of 2 numbers), got rows of "
                         f"{len(X[0]) if X else 0}; plot two features or use plot_regression")
    if len(X) != len(y):
        raise ValueError(f"plot_decision_boundary: X has {len(X)} rows but y has {len(y)} labels")
    labels = sorted(set(y))
    gx, gy, points = _grid(X, resolution)
    grid_out = predict(model, points)
    data_out = predict(model, X)
    multi = isinstance(grid_out[0], list)
    if multi:  # class k is output k: the argmax
        n_classes = len(grid_out[0])
        pred = [out.index(max(out)) for out in data_out]
        color_index = {label: int(label) for label in labels}
    else:  # one output: the larger label where it is > 0
        n_classes = 2
        pred = [labels[-1] if out > 0.0 else labels[0] for out in data_out]
        color_index = {labels[0]: 0, labels[-1]: 1}
    colors = [_CLASS_COLORS[k % len(_CLASS_COLORS)] for k in range(max(n_classes, len(labels)))]

    fig, ax = _subplots(plt, figsize=(5.6, 5.4))
    if multi:
        # region of class k: where output k beats every other output (a smooth field, so smooth edges)
        for k in range(n_classes):
            margin = [out[k] - max(out[:k] + out[k + 1:]) for out in grid_out]
            field = [margin[j * resolution:(j + 1) * resolution] for j in range(resolution)]
            if max(margin) > 0.0:
                ax.contourf(gx, gy, field, levels=[0.0, max(margin) + 1.0], colors=[colors[k]],
                            alpha=0.22)
            if min(margin) < 0.0 < max(margin):
                ax.contour(gx, gy, field, levels=[0.0], colors="black", linewidths=1.0)
        label = "decision boundaries"
    else:
        scores = [grid_out[j * resolution:(j + 1) * resolution] for j in range(resolution)]
        big = max(abs(v) for v in grid_out) + 1.0
        ax.contourf(gx, gy, scores, levels=[-big, 0.0, big], colors=colors[:2], alpha=0.22)
        if min(grid_out) < 0.0 < max(grid_out):
            ax.contour(gx, gy, scores, levels=[0.0], colors="black", linewidths=1.2)
        label = "decision boundary (output = 0)"
    ax.plot([], [], color="black", linewidth=1.2, label=label)
    names = _class_names(labels)
    for label, name in zip(labels, names):
        rows = [row for row, t in zip(X, y) if t == label]
        ax.scatter([r[0] for r in rows], [r[1] for r in rows], s=22,
                   color=colors[color_index[label] % len(colors)],
                   edgecolors="black", linewidths=0.5, label=f"{name} (true label)", zorder=3)
    wrong = [row for row, t, p in zip(X, y, pred) if t != p]
    if wrong:
        ax.scatter([r[0] for r in wrong], [r[1] for r in wrong], s=70, marker="x", color="red",
                   linewidths=1.5, label=f"misclassified ({len(wrong)})", zorder=4)
    for label, name in zip(labels, names):  # what the shading means
        ax.fill_between([], [], color=colors[color_index[label] % len(colors)], alpha=0.22,
                        label=f"predicted {name}")
    accuracy = 1.0 - len(wrong) / len(y)
    ax.set_title(f"{title or 'Decision boundary'}\naccuracy {accuracy:.1%} on these {len(y)} points",
                 fontsize="medium")
    ax.set_xlabel("x[0] (feature 1)")
    ax.set_ylabel("x[1] (feature 2)")
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize="small")
    return _finish(plt, fig)


# --- regression ------------------------------------------------------------------------------------


def plot_regression(model, X: Sequence[Sequence[float]], y: Sequence[float], *, resolution: int = 200,
                    title: str | None = None):
    """The data (x, y) as dots and the model's prediction as a curve, for 1-D inputs."""
    plt = _pyplot()
    if not X or len(X[0]) != 1:
        raise ValueError(f"plot_regression: needs 1-D inputs (rows of 1 number), got rows of "
                         f"{len(X[0]) if X else 0}")
    xs = [row[0] for row in X]
    lo, hi = min(xs), max(xs)
    curve_x = [lo + (hi - lo) * i / (resolution - 1) for i in range(resolution)]
    curve_y = predict(model, [[x] for x in curve_x])
    fig, ax = _subplots(plt, figsize=(5.6, 4.0))
    ax.scatter(xs, y, s=16, color="C0", alpha=0.7, label="data")
    ax.plot(curve_x, curve_y, color="C3", linewidth=2, label="model prediction")
    ax.set_title(title or "Regression fit")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return _finish(plt, fig)


# --- diagnostics -----------------------------------------------------------------------------------
# Pictures of nn.train.diagnostics (per-layer histograms, update ratios, statistics per layer) and of
# nn.lr_find. Notebook 05b (inside training) draws them all.


def _layer_label(trace, key: str = "values") -> str:
    """A legend entry: the layer, its kind, and the statistics that matter for that kind."""
    s = trace.last()
    if key == "values":
        text = f"mean {s['mean']:+.2f}, std {s['std']:.2f}"
        if s["saturated"] is not None:
            text += f", saturated {s['saturated']:.0%}"
        if s["dead"] is not None:
            text += f", dead {s['dead']:.0%}"
    elif key == "grads":
        text = f"mean {s['grad_mean']:+.1e}, std {s['grad_std']:.1e}"
    else:
        text = f"mean {s['weight_grad_mean']:+.1e}, std {s['weight_grad_std']:.1e}"
    return f"{trace.name} ({trace.kind}): {text}"


def _histogram_lines(diagnostics, key: str, layers, bins: int, xlabel: str, title: str):
    """One density line per layer of the raw numbers `key` of the last recorded step, over shared
    bins. By default the hidden layers (those with a nonlinearity) only, if there are any."""
    import numpy as np

    plt = _pyplot()
    if not diagnostics.steps:
        raise ValueError("nothing recorded yet: train with fit(..., callbacks=[diag]), call "
                         "diag.record(), or use nn.train.diagnose(model, X, y, loss=...)")
    traces = [t for name, t in diagnostics.layers.items()
              if (layers is None or name in layers) and getattr(t, key)]
    if layers is None and any(t.kind not in ("linear", "other") for t in traces):
        traces = [t for t in traces if t.kind not in ("linear", "other")]
    if not traces:
        raise ValueError(f"no layer has {key} to draw; layers={layers!r} names none of "
                         f"{list(diagnostics.layers)}")
    numbers = np.concatenate([np.asarray(getattr(t, key), dtype=float) for t in traces])
    low, high = float(numbers.min()), float(numbers.max())
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    fig, ax = _subplots(plt, figsize=(9.0, 3.4))
    for i, trace in enumerate(traces):
        density, _ = np.histogram(getattr(trace, key), bins=edges, density=True)
        ax.plot((edges[:-1] + edges[1:]) / 2, density, color=f"C{i % 10}",
                label=_layer_label(trace, key))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    at = f" (step {diagnostics.steps[-1]})" if len(diagnostics.steps) > 1 else ""
    ax.set_title(title + at, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", title="layer")
    return _finish(plt, fig)


def plot_activations(diagnostics, *, layers: Sequence[str] | None = None, bins: int = 30,
                     title: str = "Activations per layer"):
    """Histograms of each layer's outputs at the last recorded step, one line per layer (the hidden
    layers unless `layers` names others)."""
    return _histogram_lines(diagnostics, "values", layers, bins, "activation (layer output)", title)


def plot_gradients(diagnostics, *, of: str = "outputs", layers: Sequence[str] | None = None,
                   bins: int = 30, title: str | None = None):
    """Histograms of the gradients of each layer's outputs (`of="outputs"`) or weights
    (`of="weights"`) at the last recorded step, one line per layer."""
    if of not in ("outputs", "weights"):
        raise ValueError(f"plot_gradients: of must be 'outputs' or 'weights', got {of!r}")
    key = "grads" if of == "outputs" else "weight_grads"
    xlabel = ("gradient of the loss w.r.t. the layer's outputs" if of == "outputs"
              else "gradient of the loss w.r.t. the layer's weights")
    return _histogram_lines(diagnostics, key, layers, bins, xlabel,
                            title or f"Gradients of the {of} per layer")


def plot_update_ratios(diagnostics, *, guide: float = -3.0, title: str | None = None):
    """log10(std(update) / std(weights)) per layer against step, with a guide line at `guide`
    (about 1e-3, a common rule of thumb: much lower learns slowly, much higher is unstable)."""
    plt = _pyplot()
    traces = [t for t in diagnostics.layers.values()
              if any(r is not None and math.isfinite(r) for r in t.update_ratio)]
    if not traces:
        raise ValueError("plot_update_ratios: no update was recorded; record over training steps "
                         "(fit(..., callbacks=[diag]) or diag.record() after optimizer.step())")
    fig, ax = _subplots(plt, figsize=(8.4, 3.4))
    for i, trace in enumerate(traces):
        points = [(s, r) for s, r in zip(diagnostics.steps, trace.update_ratio)
                  if r is not None and math.isfinite(r)]
        ax.plot([s for s, _ in points], [r for _, r in points], color=f"C{i % 10}",
                label=f"{trace.name} ({trace.kind}) weights")
    ax.axhline(guide, color="black", linestyle="--", linewidth=1.0,
               label=f"guide: 1e{guide:g} (rule of thumb)")
    ax.set_xlabel("step")
    ax.set_ylabel("log10(std(update) / std(weights))")
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, guide - 0.5), max(high, guide + 0.5))
    ax.set_title(title or "Update-to-data ratio per layer", fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    return _finish(plt, fig)


def plot_layer_stats(runs, stat: str = "grad_std", *, log: bool = True, title: str | None = None,
                     ylabel: str | None = None):
    """One statistic (e.g. "grad_std", "std", "dead") at the last recorded step against layer depth,
    one line per run: a Diagnostics, or a dict {label: Diagnostics} to compare models."""
    from .train.diagnostics import STATS

    plt = _pyplot()
    if stat not in STATS:
        raise ValueError(f"plot_layer_stats: stat must be one of {', '.join(STATS)}, got {stat!r}")
    runs = runs if isinstance(runs, dict) else {"": runs}
    fig, ax = _subplots(plt, figsize=(6.4, 3.4))
    for i, (label, diag) in enumerate(runs.items()):
        values = [t.last()[stat] for t in diag.layers.values()]
        depth = [k + 1 for k, v in enumerate(values) if v is not None and (v > 0 or not log)]
        ax.plot(depth, [values[k - 1] for k in depth], marker="o", color=f"C{i % 10}",
                label=label or None)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel(ylabel or stat.replace("_", " ") + (" (log scale)" if log else ""))
    ax.set_title(title or f"{stat.replace('_', ' ')} per layer", fontsize="medium")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    if any(runs):
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    return _finish(plt, fig)


def plot_lr_find(result, *, title: str | None = None):
    """The learning-rate finder's loss against the learning rate (log axis), raw and smoothed,
    with the suggested rate marked."""
    plt = _pyplot()
    if not result.lrs:
        raise ValueError("plot_lr_find: the result is empty; run nn.lr_find(...) first")
    fig, ax = _subplots(plt, figsize=(8.4, 3.4))
    ax.plot(result.lrs, result.losses, color="C0", alpha=0.35, label="loss at each step")
    ax.plot(result.lrs, result.smoothed, color="C0", label="smoothed loss")
    ax.axvline(result.suggestion, color="C3", linestyle="--",
               label=f"suggestion ({result.method}): {result.suggestion:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
    top = min(max(result.smoothed), 4 * min(result.smoothed)) * 1.2
    ax.set_ylim(bottom=0.0, top=max(top, max(result.smoothed[:5])) * 1.05)
    ax.set_title(title or "Learning-rate finder: loss while the rate grows", fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    return _finish(plt, fig)
