"""One training step of micrograd's reference demo, timed three ways in the same run.

The workload (issue 4): MLP(2, [16, 16, 1]) over 100 two-moons points, max-margin loss + 1e-4 * sum p^2,
backward, SGD update, building the graph every step. Timed with nn + autograd_core, with PyTorch on
0-d float64 tensors (if torch is installed), and with a tiny closure-based engine written below in
micrograd's style. Prints seconds/step and ratios. Run: `python bench/train_step.py [--quick]`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import os
import pstats
import random
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nn  # noqa: E402

ALPHA = 1e-4  # L2 coefficient of the reference demo


# --- data: two moons, sklearn's make_moons algorithm ------------------------------------------------


def two_moons(n: int = 100, noise: float = 0.1, seed: int = 1337):
    """(points, labels in {-1, +1}); with numpy, exactly sklearn's make_moons after np.random.seed(seed)."""
    try:
        import numpy as np
    except ImportError:  # same shape of data, different random numbers
        rng = random.Random(seed)
        n_out = n // 2
        pts = [[math.cos(math.pi * i / (n_out - 1)), math.sin(math.pi * i / (n_out - 1))]
               for i in range(n_out)]
        pts += [[1 - math.cos(math.pi * i / (n - n_out - 1)), 0.5 - math.sin(math.pi * i / (n - n_out - 1))]
                for i in range(n - n_out)]
        labels = [-1.0] * n_out + [1.0] * (n - n_out)
        order = list(range(n))
        rng.shuffle(order)
        return ([[pts[i][0] + rng.gauss(0, noise), pts[i][1] + rng.gauss(0, noise)] for i in order],
                [labels[i] for i in order])
    np.random.seed(seed)
    n_out, n_in = n // 2, n - n // 2
    x = np.append(np.cos(np.linspace(0, np.pi, n_out)), 1 - np.cos(np.linspace(0, np.pi, n_in)))
    y = np.append(np.sin(np.linspace(0, np.pi, n_out)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5)
    X = np.vstack([x, y]).T
    labels = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n)
    np.random.shuffle(order)
    X, labels = X[order], labels[order]
    X += np.random.normal(scale=noise, size=X.shape)
    return X.tolist(), [float(2 * v - 1) for v in labels]


def peer_weights(sizes=(2, 16, 16, 1), seed: int = 1337) -> list:
    """[layer][neuron] = (weights, bias) drawn as micrograd does: random.uniform(-1, 1), bias 0."""
    random.seed(seed)
    return [[([random.uniform(-1, 1) for _ in range(nin)], 0.0) for _ in range(nout)]
            for nin, nout in zip(sizes, sizes[1:])]


# --- 1. ours ----------------------------------------------------------------------------------------


def ours(X, y, weights):
    model = nn.MLP(2, [16, 16, 1], init="uniform", seed=0)
    params = model.parameters()
    flat = [v for layer in weights for w, b in layer for v in (*w, b)]
    for p, v in zip(params, flat):
        p.data = v
    opt = nn.optim.SGD(params, lr=1.0)
    k = 0

    def step() -> float:
        nonlocal k
        scores = [model(x) for x in X]
        loss = nn.hinge_loss(scores, y) + ALPHA * nn.l2_penalty(params)
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / 100
        opt.step()
        k += 1
        return loss.data

    return step


def peer_style_loss(layers, params, inputs, y):
    """The demo's loss written the peer's way, for any scalar type: Python sum() chains, 2n nodes
    per neuron, mean hinge loss + ALPHA * sum(p*p)."""

    def forward(x):
        for i, layer in enumerate(layers):
            out = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = out if i == len(layers) - 1 else [o.relu() for o in out]
        return x[0]

    scores = [forward(x) for x in inputs]
    losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
    return sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in params)


# --- 2. PyTorch, one 0-d float64 tensor per scalar ---------------------------------------------------


def pytorch(X, y, weights):
    import torch

    layers = [[([torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in w],
                torch.tensor(b, dtype=torch.float64, requires_grad=True)) for w, b in layer]
              for layer in weights]
    params = [p for layer in layers for w, b in layer for p in (*w, b)]
    k = 0

    def step() -> float:
        nonlocal k
        inputs = [[torch.tensor(v, dtype=torch.float64) for v in row] for row in X]
        loss = peer_style_loss(layers, params, inputs, y)
        for p in params:
            p.grad = None
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        k += 1
        return loss.item()

    return step


# --- 3. a micrograd-style engine: closures, parents in a set, recursive topological sort ------------


class MiniValue:
    """The peer's design, re-implemented minimally for timing (not copied): see STYLE.md for why we
    do not build ours this way (closures that point back at their node, recursion, sets of parents)."""

    def __init__(self, data, children=(), op=""):
        self.data, self.grad = data, 0.0
        self._backward = lambda: None
        self._prev, self._op = set(children), op

    def __add__(self, other):
        other = other if isinstance(other, MiniValue) else MiniValue(other)
        out = MiniValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, MiniValue) else MiniValue(other)
        out = MiniValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = MiniValue(0.0 if self.data < 0 else self.data, (self,), "relu")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    __radd__ = __add__  # other + self
    __rmul__ = __mul__  # other * self

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def closures(X, y, weights):
    layers = [[([MiniValue(v) for v in w], MiniValue(b)) for w, b in layer] for layer in weights]
    params = [p for layer in layers for w, b in layer for p in (*w, b)]
    k = 0

    def step() -> float:
        nonlocal k
        loss = peer_style_loss(layers, params, [[MiniValue(v) for v in row] for row in X], y)
        for p in params:
            p.grad = 0.0
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad
        k += 1
        return loss.data

    return step


# --- measuring ----------------------------------------------------------------------------------------


def seconds_per_step(make_step, X, y, weights, steps: int) -> tuple[float, float, list]:
    """(best, median) seconds/step over `steps` timed steps after a warm-up step; and the losses."""
    step = make_step(X, y, weights)
    losses = [step()]
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), losses


def peak_memory(X, y, weights) -> float:
    """Peak bytes traced during one of our steps (the graph of one step, alive at once)."""
    step = ours(X, y, weights)
    step()
    gc.collect()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def profile_summary(X, y, weights, top: int = 8) -> str:
    step = ours(X, y, weights)
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        step()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    return "\n".join(lines[start:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timed steps")
    parser.add_argument("--profile", action="store_true", help="also print where our step spends time")
    args = parser.parse_args()
    X, y = two_moons()
    weights = peer_weights()
    n_ours, n_base = (5, 1) if args.quick else (30, 3)
    print(f"python {sys.version.split()[0]}; reference workload: MLP(2, [16, 16, 1]), {len(X)} points, "
          f"hinge + L2, backward, SGD; best of the timed steps\n")

    ours_s, ours_med, ours_losses = seconds_per_step(ours, X, y, weights, n_ours)
    rows = [("nn + autograd_core (ours)", ours_s, ours_med, n_ours)]
    mini_s, mini_med, mini_losses = seconds_per_step(closures, X, y, weights, n_base)
    rows.append(("micrograd-style closures (bench/, same run)", mini_s, mini_med, n_base))
    try:
        import torch  # noqa: F401  (only: is it installed?)
    except ImportError:
        torch_s = None
    else:
        torch_s, torch_med, _ = seconds_per_step(pytorch, X, y, weights, n_base)
        rows.append(("PyTorch, 0-d float64 tensors", torch_s, torch_med, n_base))

    print(f"{'engine':46} {'best s':>8} {'median s':>9} {'steps':>6} {'x ours':>7}")
    for name, best, median, n in rows:
        print(f"{name:46} {best:8.4f} {median:9.4f} {n:6d} {best / ours_s:7.1f}")
    target = 0.02
    print(f"\nours: {ours_s * 1e3:.1f} ms/step best, {ours_med * 1e3:.1f} median "
          f"(target <= {target * 1e3:.0f} ms: {'met' if ours_s <= target else 'NOT met'}); "
          f"{mini_s / ours_s:.0f}x the micrograd-style engine"
          + (f", {torch_s / ours_s:.0f}x PyTorch on 0-d tensors" if torch_s else ""))
    same = all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(ours_losses, mini_losses))
    print(f"losses agree with the micrograd-style engine step by step (1e-9): {same}; "
          f"step 0 loss {ours_losses[0]!r}")
    print(f"peak memory of one step (tracemalloc): {peak_memory(X, y, weights) / 1e6:.1f} MB")
    if args.profile:
        print("\nwhere our step spends its time (cProfile, 5 steps, sorted by own time):")
        print(profile_summary(X, y, weights))


if __name__ == "__main__":
    main()
