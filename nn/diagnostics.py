"""Moved: `nn.diagnostics` is now `nn.train.diagnostics` (the training tools live together in nn/train/).

This module keeps `from nn.diagnostics import ...` working for one release.
"""

import warnings

from .train.diagnostics import *  # noqa: F401,F403
from .train.diagnostics import __all__  # noqa: F401

warnings.warn("nn.diagnostics moved to nn.train.diagnostics (import from there, or from nn.train); this path goes "
              "in the next release", DeprecationWarning, stacklevel=2)
