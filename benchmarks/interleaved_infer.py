"""Before/after cost of whole ``poselifter infer`` runs, interleaved: one run per tree per round,
the order reversed every round, so both trees see the same load.

    python benchmarks/interleaved_infer.py --tree before=/path/to/old/checkout --tree after=. \\
        --source clip.avi --rounds 3 [--args=--no-video]

Per tree: wall and CPU time per frame (the process and its children, the video encoder
included), the process's peak RSS, medians over the rounds, and ratios to the first tree.
``--args`` are extra ``infer`` arguments for the trees that have them (``NAME:ARG`` for one tree).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def run_once(tree: Path, source: str, extra: list[str]) -> dict[str, float]:
    """One ``infer`` run of ``tree``'s code; wall and CPU seconds, peak RSS in MiB, frames."""
    with tempfile.TemporaryDirectory() as output:
        command = [sys.executable, "-c", "import sys; from poselifter_core.cli import main; sys.exit(main())",
                   "infer", source, "-o", output, "--no-progress", *extra]
        environment = {**os.environ, "PYTHONPATH": str(tree.resolve())}
        started = time.perf_counter()
        process = subprocess.Popen(command, env=environment, cwd=tree, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"infer of {tree} failed with status {status}")
        frames = sum(1 for _ in open(Path(output) / "results.jsonl", encoding="utf-8"))
    # ru_maxrss of a reaped child is the largest of it and its own reaped children (the encoder).
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024,
            "frames": frames}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--source", required=True, help="the video (or image folder) given to infer")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--args", action="append", default=[], metavar="[NAME:]ARG",
                        help="an extra infer argument, for every tree or for the tree NAME")
    args = parser.parse_args(argv)
    trees = [(name, Path(path)) for name, _, path in (t.partition("=") for t in args.tree)]
    extra = {name: [a.partition(":")[2] if ":" in a else a for a in args.args
                    if ":" not in a or a.partition(":")[0] == name] for name, _ in trees}
    runs: dict[str, list[dict]] = {name: [] for name, _ in trees}
    load = os.getloadavg()[0]
    for k in range(args.rounds):
        for name, tree in (trees if k % 2 == 0 else trees[::-1]):
            runs[name].append(run_once(tree, args.source, extra[name]))
    print(f"`poselifter infer {args.source}`, {args.rounds} rounds taking turns; load average {load:.1f} at the "
          f"start.\n")
    print("| tree | extra arguments | frames | wall ms/frame | CPU ms/frame (with encoder) | peak RSS MiB | wall ratio | "
          "CPU ratio | RSS ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for name, _ in trees:
        r = runs[name]
        frames = r[0]["frames"]
        wall = 1000 * np.median([x["wall_s"] for x in r]) / frames
        cpu = 1000 * np.median([x["cpu_s"] for x in r]) / frames
        rss = np.median([x["peak_rss_mib"] for x in r])
        base = base or (wall, cpu, rss)
        print(f"| {name} | {' '.join(extra[name]) or '-'} | {frames} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | "
              f"{wall / base[0]:.2f} | {cpu / base[1]:.2f} | {rss / base[2]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
