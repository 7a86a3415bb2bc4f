"""The progress bar of `fit`: tqdm's (a widget in Jupyter) when installed, else a one-line text bar.
"""

from __future__ import annotations

import sys
import time

__all__ = ["TextBar", "postfix", "progress_bar"]


class TextBar:
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


def progress_bar(progress: bool | str, total: int):
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
    return TextBar(total)


def postfix(logs: dict) -> str:
    """The numbers shown after the bar: loss, accuracy, validation, learning rate."""
    parts = [f"loss={logs['loss']:.4f}"]
    if logs.get("accuracy") is not None:
        parts.append(f"acc={logs['accuracy']:.1%}")
    if logs.get("val_loss") is not None:
        parts.append(f"val_loss={logs['val_loss']:.4f}")
    if logs.get("val_accuracy") is not None:
        parts.append(f"val_acc={logs['val_accuracy']:.1%}")
    parts.append(f"lr={logs['lr']:.3g}")
    return " ".join(parts)
