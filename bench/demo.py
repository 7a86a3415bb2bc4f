"""Time the default demo (`python -m nn train` with no options), excluding start-up and imports.

Imports everything the demo uses first, then times `nn.cli.main(["train", ...])` end to end
(data, 100 training steps, metrics, model, plots, graph) and, separately, the training alone.
Usage: python bench/demo.py [--repeat N]. The issue's budget is 5 s; the best-known peer needs 160-280 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402,F401  (imported here so that the timing excludes it)

import nn.cli  # noqa: E402
import nn.plots  # noqa: E402,F401

try:
    import autograd_core.viz  # noqa: F401  (timed runs exclude imports)
except ImportError:
    pass
try:
    import tqdm.auto  # noqa: F401
except ImportError:
    pass


def run_once(out: str) -> tuple[float, float]:
    """(seconds for the whole command, seconds of training) for one default demo run."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        started = time.perf_counter()
        code = nn.cli.main(["train", "--out", out])
        total = time.perf_counter() - started
    if code != 0:
        sys.exit(f"the demo failed with exit code {code}")
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        final = json.load(f)["final"]
    if final.get("train_accuracy") != 1.0:
        print(f"warning: the demo reached {final.get('train_accuracy')} training accuracy, not 100%")
    return total, final["train_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs to time (the median is shown)")
    args = parser.parse_args()
    totals, trainings = [], []
    with tempfile.TemporaryDirectory() as tmp:
        run_once(os.path.join(tmp, "warm-up"))  # first savefig builds matplotlib's font cache
        for i in range(args.repeat):
            total, training = run_once(os.path.join(tmp, f"run{i}"))
            totals.append(total)
            trainings.append(training)
    print(f"default demo, {args.repeat} runs after one warm-up (median; min-max):")
    print(f"  whole command  {statistics.median(totals):.2f} s  ({min(totals):.2f}-{max(totals):.2f})")
    low, high = min(trainings), max(trainings)
    print(f"  training only  {statistics.median(trainings):.2f} s  ({low:.2f}-{high:.2f})")
    print("  budget (issue 5): 5 s for the whole command")


if __name__ == "__main__":
    main()
