"""Helpers the notebooks share: printed checks, figures with alt text, timings, exercises.

Every notebook in notebooks/ imports these (`from course import check, show, ...`); this file sits
next to them, so it is found whenever a notebook runs from notebooks/ (Jupyter, nbmake, build.py).
Nothing here is part of the library: it is how the course shows its evidence.
"""

from __future__ import annotations

import base64
import html
import math
import time
from typing import Callable

__all__ = ["bar_chart", "check", "compact", "exercise", "legend_outside", "show", "timed"]


def _fmt(x, digits: int = 10) -> str:
    """A number as the check line prints it (`digits` significant digits); others as repr."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return repr(x)
    return f"{x:,}" if isinstance(x, int) else f"{x:.{digits}g}"


def check(claim: str, value, expected=None, *, tol: float = 1e-6, below=None,
          above=None) -> None:
    """Print `check claim: <numbers> ✓` and assert it; the line always shows the numbers compared.

    `check(claim, x, y)` compares numbers to `tol` (relative or absolute; tol=0: exact), other values
    with ==; `check(claim, x, below=b)` asserts x < b; `above=a` asserts x > a.
    """
    if (expected is None) == (below is None and above is None):
        raise TypeError(f"check({claim!r}): give an expected value, or below= / above= bounds")
    if expected is not None:
        if isinstance(value, (int, float)) and isinstance(expected, (int, float)):
            ok = math.isclose(value, expected, rel_tol=tol, abs_tol=tol)
        else:
            ok = value == expected
        numbers = f"{_fmt(value)} vs {_fmt(expected)}"
    else:
        ok = (below is None or value < below) and (above is None or value > above)
        bounds = ([f"{_fmt(above, 6)} <"] if above is not None else []) + [_fmt(value, 6)]
        bounds += [f"< {_fmt(below, 6)}"] if below is not None else []
        numbers = " ".join(bounds)
    print(f"check {claim}: {numbers} {'✓' if ok else '✗'}")
    assert ok, f"{claim}: {numbers}"


class Figure:
    """An image with alt text; Jupyter and static renders show it as <img alt=...>."""

    def __init__(self, mime: str, data: bytes, alt: str) -> None:
        self.mime, self.data, self.alt = mime, data, alt

    def _repr_html_(self) -> str:
        src = f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"
        return (f'<img src="{src}" alt="{html.escape(self.alt)}" '
                f'style="max-width:100%;height:auto">')

    def __repr__(self) -> str:
        return f"[figure: {self.alt}]"


def show(figure, alt: str) -> Figure:
    """Show a matplotlib Figure (as PNG) or a graphviz graph (as SVG) with `alt` as its alt text.

    The image is scaled down to the width of the page (never up), so wide figures still fit an
    800 px screen. A matplotlib figure is closed afterwards, so it is not shown a second time.
    """
    if not alt or not alt.strip():
        raise ValueError("show: give alt text that says what the figure shows, for readers who "
                         "cannot see it")
    if hasattr(figure, "savefig"):
        import io

        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        return Figure("image/png", buffer.getvalue(), alt)
    if hasattr(figure, "pipe"):
        return Figure("image/svg+xml", figure.pipe(format="svg"), alt)
    raise TypeError(f"show: expected a matplotlib Figure or a graphviz graph, got "
                    f"{type(figure).__name__}")


def compact(graph, ranksep: float = 0.15, nodesep: float = 0.1):
    """The graphviz graph with less space between its ranks and nodes, so it fits a screen."""
    graph.graph_attr.update(ranksep=str(ranksep), nodesep=str(nodesep))
    return graph


def legend_outside(ax, ncol: int = 2) -> None:
    """Move an axes' legend below the plot, where it cannot cover any data."""
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=ncol,
              fontsize="small", frameon=False)
    ax.figure.tight_layout()


def timed(run: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of `repeat` runs of `run()`, in seconds (the least disturbed by other work)."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def bar_chart(seconds: dict, title: str):
    """A horizontal bar chart of timings in milliseconds, each bar labelled with its number."""
    import matplotlib.pyplot as plt

    names, values = list(seconds), [1000 * s for s in seconds.values()]
    fig, ax = plt.subplots(figsize=(6.5, 0.6 + 0.5 * len(names)))
    ax.barh(names[::-1], values[::-1], color="C0")
    for i, v in enumerate(values[::-1]):
        ax.text(v, i, f" {v:.3g} ms", va="center")
    ax.set_xlabel("milliseconds (fastest of 5 runs; varies with the machine and its load)")
    ax.set_xlim(0, max(values) * 1.25)
    ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    return fig


def exercise(yours: Callable, reference: Callable) -> Callable:
    """Your function, or while it is still blank (raises NotImplementedError) the reference one.

    The notebook runs from top to bottom either way: the check after each exercise tests your
    answer as soon as you fill it in, and tests the hidden reference solution until then.
    """
    told = []

    def run(*args, **kwargs):
        try:
            return yours(*args, **kwargs)
        except NotImplementedError:
            if not told:
                print(f"({yours.__name__} is still blank: checking the reference solution "
                      f"instead)")
                told.append(True)
            return reference(*args, **kwargs)
    return run
