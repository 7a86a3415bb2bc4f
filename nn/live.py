"""Moved: `nn.live` is now `nn.train.live` (the training tools live together in nn/train/).

This module keeps `from nn.live import ...` working for one release.
"""

import warnings

from .train.live import *  # noqa: F401,F403
from .train.live import __all__  # noqa: F401

warnings.warn("nn.live moved to nn.train.live (import from there, or from nn.train); this path goes "
              "in the next release", DeprecationWarning, stacklevel=2)
