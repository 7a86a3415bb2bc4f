"""Training and what watches it: the loop (`fit`), its `History`, callbacks (`EarlyStopping`), the
progress bar, scoring (`evaluate`, `predict`), and the inspection tools: `Diagnostics` (per-layer
statistics), `lr_find` (the learning-rate finder) and `LiveView` (curves redrawn in place).

Read loop.py first. Notebook 05 trains with `fit`; notebook 05b looks inside training.
"""

from . import diagnostics, live, lr_finder
from .callbacks import Callback, EarlyStopping
from .diagnostics import Diagnostics, LayerTrace, diagnose
from .evaluation import LOSSES, evaluate, loss_function, predict, predict_classes
from .history import History
from .live import LiveView
from .loop import fit
from .lr_finder import LRFindResult, lr_find

__all__ = ["Callback", "Diagnostics", "EarlyStopping", "History", "LOSSES", "LRFindResult",
           "LayerTrace", "LiveView", "diagnose", "diagnostics", "evaluate", "fit", "live",
           "loss_function", "lr_find", "lr_finder", "predict", "predict_classes"]
