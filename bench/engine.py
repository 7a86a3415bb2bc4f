"""Engine speed and memory, printed as multiples of a floor measured in the same run.

The floor is the least any pure-Python graph node can cost: a bare `__slots__` object with the same
fields, made through `__mul__` with one float multiply-add. Run: `python bench/engine.py [--quick]`.
Machines are noisy: compare the ratios, and take the best of several repeats (what this prints).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from autograd_core import Value, dot  # noqa: E402


# --- the floor -----------------------------------------------------------------------------------


class Bare:
    """What a node costs at least: Value's fields, one multiply-add, nothing else."""

    __slots__ = ("data", "grad", "label", "_op", "_x", "_y", "_mark")

    def __init__(self, data: float) -> None:
        self.data = data

    def __mul__(self, other: "Bare") -> "Bare":
        out = object.__new__(Bare)
        out.data = self.data * other.data + 0.1
        out.grad = 0.0
        out.label = ""
        out._op = None
        out._x = self
        out._y = other
        out._mark = None
        return out


def floor_chain(depth: int) -> float:
    """Seconds to build a `depth`-long chain of Bare nodes."""
    w = Bare(1.0)
    start = time.perf_counter()
    y = w
    for _ in range(depth):
        y = y * w
    elapsed = time.perf_counter() - start
    del y
    return elapsed


# --- workloads -----------------------------------------------------------------------------------


def mixed_chain(depth: int):
    """x -> x*w -> +c -> tanh -> -c -> ... : one new node per link, shared w and c."""
    x, w, c = Value(0.5), Value(1.0001), Value(0.001)
    y = x
    for i in range(depth):
        k = i & 3
        if k == 0:
            y = y * w
        elif k == 1:
            y = y + c
        elif k == 2:
            y = y.tanh()
        else:
            y = y - c
    return y


def chain_fwd_bwd(depth: int, create_graph: bool = False) -> float:
    start = time.perf_counter()
    y = mixed_chain(depth)
    y.backward(create_graph=create_graph)
    elapsed = time.perf_counter() - start
    del y
    return elapsed


def sum_of_products(terms: int) -> float:
    """sum_i a_i * b_i as a balanced tree of binary adds, leaves included: 4*terms - 1 nodes."""
    rng = random.Random(0)
    numbers = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(terms)]
    start = time.perf_counter()
    level = [Value(a) * Value(b) for a, b in numbers]
    while len(level) > 1:
        nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    level[0].backward()
    elapsed = time.perf_counter() - start
    del level
    return elapsed


def mlp_points(points: int = 100) -> tuple[float, int]:
    """MLP(2, [16, 16, 1]) forward over `points` inputs, summed, then backward."""
    rng = random.Random(0)
    sizes = [2, 16, 16, 1]
    layers = [[([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(0.0)) for _ in range(nout)]
              for nin, nout in zip(sizes, sizes[1:])]
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(points)]
    start = time.perf_counter()
    outs = []
    for x in xs:
        h = [Value(v) for v in x]
        for depth, layer in enumerate(layers):
            pre = [dot(w, h, b) for w, b in layer]
            h = pre if depth == len(layers) - 1 else [p.relu() for p in pre]
        outs.append(h[0])
    total = outs[0]
    for o in outs[1:]:
        total = total + o
    total.backward()
    elapsed = time.perf_counter() - start
    nodes = points * (2 + 2 * 16 + 2 * 16 + 1) + points - 1
    return elapsed, nodes


# --- memory --------------------------------------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def bytes_per_node(depth: int = 100_000) -> tuple[float, float]:
    """(tracemalloc, RSS) bytes per node of a retained chain after backward, in a fresh process."""
    import subprocess

    script = (
        "import gc, resource, sys, tracemalloc\n"
        f"sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
        "from engine import mixed_chain, _rss_bytes\n"
        "mixed_chain(1000).backward()\n"
        "gc.collect(); before = _rss_bytes()\n"
        f"y = mixed_chain({depth}); y.backward()\n"
        "rss = _rss_bytes() - before\n"
        "del y; gc.collect(); tracemalloc.start()\n"  # tracemalloc's own records would count in RSS
        f"y = mixed_chain({depth}); y.backward()\n"
        "print(tracemalloc.get_traced_memory()[0], rss)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    traced, rss = map(int, out.stdout.split())
    return traced / depth, rss / depth


def free_deep_graph(depth: int = 1_000_000) -> tuple[float, int]:
    """(seconds, objects the cyclic collector found) to drop a `depth`-deep graph by refcount."""
    y = mixed_chain(depth)
    y.backward()
    gc.collect()
    start = time.perf_counter()
    del y
    elapsed = time.perf_counter() - start
    return elapsed, gc.collect()


# --- report --------------------------------------------------------------------------------------


def best(fn, repeats: int) -> float:
    """The least of `repeats` timings, each starting from a collected heap (outside the clock)."""
    timings = []
    for _ in range(repeats):
        gc.collect()  # create_graph's grads form cycles with their graph, as in PyTorch
        timings.append(fn())
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 1,000,000-deep run")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    print(f"python {sys.version.split()[0]}, gc thresholds {gc.get_threshold()} (defaults), "
          f"best of {repeats}\n")

    print(f"{'workload':46} {'ns/node':>9} {'x floor':>8}")
    depths = [900, 100_000] + ([] if args.quick else [1_000_000])
    floors = {}
    for depth in depths:
        reps = repeats if depth < 1_000_000 else 3
        floor = best(lambda: floor_chain(depth), reps) / depth
        floors[depth] = floor
        ours = best(lambda: chain_fwd_bwd(depth), reps) / depth
        print(f"{'floor: bare __slots__ node via __mul__, ' + format(depth, ',') + ' deep':46} "
              f"{floor * 1e9:9.0f} {1.0:8.2f}")
        print(f"{'  chain fwd+bwd, ' + format(depth, ',') + ' deep':46} {ours * 1e9:9.0f} "
              f"{ours / floor:8.2f}")
    depth = 100_000
    first = best(lambda: chain_fwd_bwd(depth), repeats) / depth
    second = best(lambda: chain_fwd_bwd(depth, create_graph=True), repeats) / depth
    print(f"{'  chain fwd+bwd(create_graph), 100,000 deep':46} {second * 1e9:9.0f} "
          f"{second / floors[depth]:8.2f}   = {second / first:.2f}x first order")

    terms = 200_000
    nodes = 4 * terms - 1
    floor = best(lambda: floor_chain(nodes), 3) / nodes
    sop = best(lambda: sum_of_products(terms), 3) / nodes
    print(f"{'floor, 800,000 nodes':46} {floor * 1e9:9.0f} {1.0:8.2f}")
    print(f"{'  sum of 200,000 products (800k nodes), add tree':46} {sop * 1e9:9.0f} {sop / floor:8.2f}")

    floor = best(lambda: floor_chain(7000), repeats) / 7000
    seconds, nodes = min(mlp_points() for _ in range(repeats))  # builds no cycles
    print(f"{'  MLP(2,[16,16,1]) over 100 points (' + str(nodes) + ' nodes)':46} "
          f"{seconds / nodes * 1e9:9.0f} {seconds / nodes / floor:8.2f}   = {seconds * 1e3:.1f} ms")

    traced, rss = bytes_per_node()
    print(f"\nmemory, retained 100,000-node chain after backward (fresh process): "
          f"{traced:.0f} B/node (tracemalloc), {rss:.0f} B/node (RSS)")
    if not args.quick:
        seconds, found = free_deep_graph()
        print(f"freeing a 1,000,000-deep graph: {seconds * 1e3:.0f} ms by reference counting, "
              f"{found} objects left for the cyclic collector")


if __name__ == "__main__":
    main()
