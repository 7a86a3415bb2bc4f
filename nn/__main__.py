"""`python -m nn train ...`: the same command line as `autograd-core` (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
