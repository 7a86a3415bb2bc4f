"""Old code against new code in one run: the same workloads, alternating fresh processes.

For a change to something hot (the engine, nn's forward): check out the old code next to this one
(`git worktree add --detach ../old <commit>`), then run `python bench/compare.py ../old` here. Each
round runs every workload once under the old tree and once under this one, in fresh processes, in
alternating order; it prints the median of each and new/old. Machines are noisy: trust the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> a snippet that prints one number (seconds per unit), run with the tree's bench/ on sys.path
WORKLOADS = {
    "chain fwd+bwd, 900 deep (ns/node)":
        "import engine as b; print(min(b.chain_fwd_bwd(900) for _ in range(20)) / 900 * 1e9)",
    "chain fwd+bwd, 1,000,000 deep (ns/node)":
        "import engine as b; print(min(b.chain_fwd_bwd(10**6) for _ in range(2)) / 10**6 * 1e9)",
    "sum of 200,000 products (ns/node)":
        "import engine as b; print(min(b.sum_of_products(200000) for _ in range(3)) / 799999 * 1e9)",
    "reference training step (ms/step)":
        "import train_step as b; X, y = b.two_moons(); w = b.peer_weights(); "
        "print(b.seconds_per_step(b.ours, X, y, w, 20)[0] * 1e3)",
}


def run(tree: str, snippet: str) -> float:
    code = f"import sys; sys.path[:0] = [{tree!r}, {os.path.join(tree, 'bench')!r}]; {snippet}"
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tree, check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="a checkout of the old code (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, default=5, help="old/new pairs per workload")
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    args = parser.parse_args()
    old, new = os.path.abspath(args.old), HERE
    print(f"old: {old}\nnew: {new}\n{args.rounds} rounds, alternating, fresh processes\n")
    print(f"{'workload':42} {'old':>9} {'new':>9} {'new/old':>8}")
    for name, snippet in WORKLOADS.items():
        if args.only and args.only not in name:
            continue
        times = {old: [], new: []}
        for i in range(args.rounds):
            for tree in ((old, new) if i % 2 == 0 else (new, old)):
                times[tree].append(run(tree, snippet))
        o, n = statistics.median(times[old]), statistics.median(times[new])
        print(f"{name:42} {o:9.1f} {n:9.1f} {n / o:8.3f}")


if __name__ == "__main__":
    main()
