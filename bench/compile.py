"""Compiled training against our eager loop and batched PyTorch, measured in the same run (issue 12).

The reference workload: two moons (100 points, noise 0.1, seed 1337, labels -1/+1),
MLP(2, [16, 16, 1], seed=1337, init="uniform"), full batch, hinge loss + 1e-4 * sum p^2, SGD.
Prints seconds for 100 steps, the ratios, the compile time, and how a compiled step grows with the
hidden width. Times are CPU seconds of this process (time.process_time: on a shared machine, time
spent waiting for a core is not ours) with wall-clock seconds beside them.
Run: `python bench/compile.py [--quick]`. Notebook 09 explains what is measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nn  # noqa: E402
from autograd_core import compile  # noqa: E402

ALPHA = 1e-4  # L2 coefficient of the reference workload
STEPS = 100


class Timer:
    """CPU and wall-clock seconds since it was made."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def stop(self) -> tuple[float, float]:
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def workload(width: int = 16):
    """(X, labels, model, loss function of (X, y)) for hidden widths [width, width]."""
    X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
    labels = [2.0 * t - 1.0 for t in y]
    model = nn.MLP(2, [width, width, 1], seed=1337, init="uniform")
    params = model.parameters()

    def loss(X, y):
        return nn.hinge_loss([model(x) for x in X], y) + ALPHA * nn.l2_penalty(params)

    return X, labels, model, loss


def lr_at(k: int) -> float:
    return 1.0 - 0.9 * k / STEPS  # the reference demo's schedule


def train_eager(steps: int, width: int = 16) -> tuple[tuple, list]:
    """((cpu, wall) seconds, losses) of `steps` eager steps: build the graph, backward, SGD."""
    X, labels, model, loss = workload(width)
    opt = nn.optim.SGD(model.parameters(), lr=1.0)
    losses = []
    timer = Timer()
    for k in range(steps):
        value = loss(X, labels)
        opt.zero_grad()
        value.backward()
        opt.lr = lr_at(k)
        opt.step()
        losses.append(value.data)
    return timer.stop(), losses


def train_compiled(steps: int, width: int = 16) -> tuple[tuple, tuple, list]:
    """((cpu, wall) compile seconds, (cpu, wall) seconds of `steps` compiled steps, losses)."""
    X, labels, model, loss = workload(width)
    opt = nn.optim.SGD(model.parameters(), lr=1.0)
    timer = Timer()
    step = compile(loss, X, labels, names=model)
    compile_s = timer.stop()
    losses = []
    timer = Timer()
    for k in range(steps):
        opt.zero_grad()
        losses.append(step(X, labels))
        opt.lr = lr_at(k)
        opt.step()
    return compile_s, timer.stop(), losses


def train_torch(steps: int):
    """Seconds of `steps` steps of the same model on batched float64 tensors (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    X, labels, model, _ = workload()
    torch.set_num_threads(1)
    weights = [(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64),
                torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
               for layer in model.layers]
    params = [t.requires_grad_() for pair in weights for t in pair]
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(labels, dtype=torch.float64)
    timer = Timer()
    for k in range(steps):
        h = inputs
        for i, (w, b) in enumerate(weights):
            h = h @ w.T + b
            h = h.relu() if i < len(weights) - 1 else h
        loss = (1.0 - targets * h[:, 0]).relu().mean() + ALPHA * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr_at(k) * p.grad
    return timer.stop()


def straight_line() -> tuple:
    """(compile s, ms per call, lines) of the reference loss as straight-line code (no batch loop)."""
    X, labels, model, loss = workload()
    timer = Timer()
    step = compile(loss, X, labels, names=model, batched=False)
    compile_s = timer.stop()[0]
    timer = Timer()
    for _ in range(5):
        step(X, labels)
    return compile_s, timer.stop()[0] / 5 * 1e3, len(step.source.splitlines())


def width_table(widths=(8, 16, 32, 64), steps: int = 10) -> list:
    """Per width: (width, parameters, compile s, compiled ms/step, eager ms/step), CPU time."""
    rows = []
    for width in widths:
        X, labels, model, loss = workload(width)
        timer = Timer()
        step = compile(loss, X, labels, names=model)
        compile_s = timer.stop()[0]
        timer = Timer()
        for _ in range(steps):
            step(X, labels)
        compiled_ms = timer.stop()[0] / steps * 1e3
        eager_ms = train_eager(3, width)[0][0] / 3 * 1e3
        rows.append((width, len(model.parameters()), compile_s, compiled_ms, eager_ms))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 eager steps instead of 100")
    args = parser.parse_args()
    eager_steps = 20 if args.quick else STEPS
    print(f"python {sys.version.split()[0]}; two moons (100 points), MLP(2, [16, 16, 1]), full batch, "
          f"hinge + 1e-4 L2, SGD; {STEPS} steps; CPU seconds (wall-clock in brackets)\n")
    compile_s, compiled_s, compiled_losses = train_compiled(STEPS)
    eager_s, eager_losses = train_eager(eager_steps)
    eager_s = tuple(t * STEPS / eager_steps for t in eager_s)
    torch_s = train_torch(STEPS)
    print(f"{'run':42} {'s / 100 steps':>22} {'ms / step':>10}")
    for name, (cpu, wall) in (("compiled (autograd_core.compile)", compiled_s),
                              (f"eager (ours){', 20 steps x 5' if args.quick else ''}", eager_s),
                              ("PyTorch, batched float64 tensors", torch_s or (None, None))):
        if cpu is not None:
            print(f"{name:42} {cpu:10.3f} ({wall:8.3f} wall) {cpu / STEPS * 1e3:10.2f}")
    print(f"\ncompiling (trace + code generation + Python's compile): {compile_s[0]:.3f} s "
          f"({compile_s[1]:.3f} s wall; target <= 1 s)")
    print(f"100 compiled steps: {compiled_s[0]:.3f} s (target <= 0.5 s)")
    print(f"compiled vs eager: {eager_s[0] / compiled_s[0]:.1f}x faster (target >= 4x)")
    if torch_s is not None:
        ratio = compiled_s[0] / torch_s[0]
        print(f"compiled vs batched PyTorch: {ratio:.1f}x its time (target <= 10x)")
    same = compiled_losses[:eager_steps] == eager_losses
    print(f"losses equal to eager's, step by step ({eager_steps} steps, ==): {same}")
    line_s, line_ms, line_count = straight_line()
    print(f"without the batch loop (straight-line code, {line_count} lines): compiling "
          f"{line_s:.2f} s, {line_ms:.2f} ms per step")
    print("\nhow a compiled step grows with the hidden width (MLP(2, [w, w, 1]), CPU time):")
    print(f"{'width':>6} {'params':>7} {'compile s':>10} {'compiled ms':>12} {'eager ms':>9} {'x':>5}")
    for width, count, comp, ms, eager_ms in width_table():
        print(f"{width:6d} {count:7d} {comp:10.3f} {ms:12.2f} {eager_ms:9.1f} {eager_ms / ms:5.1f}")


if __name__ == "__main__":
    main()
