"""Moved: `nn.lr_finder` is now `nn.train.lr_finder` (the training tools live together in nn/train/).

This module keeps `from nn.lr_finder import ...` working for one release.
"""

import warnings

from .train.lr_finder import *  # noqa: F401,F403
from .train.lr_finder import __all__  # noqa: F401

warnings.warn("nn.lr_finder moved to nn.train.lr_finder (import from there, or from nn.train); this path goes "
              "in the next release", DeprecationWarning, stacklevel=2)
