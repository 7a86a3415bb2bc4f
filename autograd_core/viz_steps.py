"""Moved: backward step by step now lives in `autograd_core.viz` (steps.py and player.py).

This module keeps `from autograd_core.viz_steps import ...` working for one release.
"""

import warnings

from .viz import BackwardStep, StepsPlayer, backward_steps, backward_trace, play_frames, save_gif

warnings.warn("autograd_core.viz_steps moved to autograd_core.viz (import from there); this path "
              "goes in the next release", DeprecationWarning, stacklevel=2)

__all__ = ["BackwardStep", "StepsPlayer", "backward_steps", "backward_trace", "play_frames",
           "save_gif"]
