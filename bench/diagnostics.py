"""What recording per-layer diagnostics costs: a training step of the reference model with and
without `nn.train.diagnostics.Diagnostics` attached, timed alternately in the same run.

Reference model: MLP(2, [16, 16, 1], seed=1337, init="uniform") on make_moons(100, noise=0.1,
seed=1337) with labels -1/+1, hinge loss + 1e-4 L2, SGD (as bench/train_step.py). The goal
(issue 14): recording adds at most 25% to a step. Run: `python bench/diagnostics.py [--quick]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nn  # noqa: E402
from nn.train.diagnostics import Diagnostics  # noqa: E402

ALPHA = 1e-4  # L2 coefficient of the reference demo


def make_step(X, y, diag: Diagnostics | None):
    """One SGD step of a fresh reference model, recording into `diag` if given."""
    model = nn.MLP(2, [16, 16, 1], seed=1337, init="uniform")
    params = model.parameters()
    opt = nn.optim.SGD(params, lr=0.1)
    if diag is not None:
        diag.attach(model)

    def step() -> float:
        loss = nn.hinge_loss([model(x) for x in X], y) + ALPHA * nn.l2_penalty(params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if diag is not None:
            diag.record()
        return loss.data

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timed steps")
    args = parser.parse_args()
    X, y01 = nn.data.make_moons(100, noise=0.1, seed=1337)
    y = nn.data.to_pm1(y01)
    plain, recorded = make_step(X, y, None), make_step(X, y, Diagnostics())
    plain(), recorded()  # warm-up
    times: dict[str, list] = {"plain": [], "recorded": []}
    for _ in range(5 if args.quick else 60):  # alternate, so both see the same machine load
        for name, step in (("plain", plain), ("recorded", recorded)):
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    best = {name: min(ts) for name, ts in times.items()}
    median = {name: statistics.median(ts) for name, ts in times.items()}
    # each recorded step against the plain step timed just before it: robust to load that drifts
    pair_ratio = statistics.median(r / p for p, r in zip(times["plain"], times["recorded"]))
    print(f"python {sys.version.split()[0]}; reference step: MLP(2, [16, 16, 1]), {len(X)} points, "
          f"hinge + L2, backward, SGD; {len(times['plain'])} steps each, alternating\n")
    for name in times:
        print(f"{name:9} best {best[name] * 1e3:7.2f} ms   median {median[name] * 1e3:7.2f} ms")
    print(f"\nrecording diagnostics: {pair_ratio:.2f}x the plain step (median over alternating "
          f"pairs; best vs best {best['recorded'] / best['plain']:.2f}x); goal <= 1.25x: "
          f"{'met' if pair_ratio <= 1.25 else 'NOT met'}")


if __name__ == "__main__":
    main()
