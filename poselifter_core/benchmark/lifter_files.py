"""Latency of given lifter exports (e.g. the shipped model, old and new) on ONNX Runtime CPU.

``--backends`` times a random-weight lifter of a given width; this times the files themselves:
their own graph (input features, the mask input or not, folded BatchNorm), as the cascade runs
them. Two times per file and batch size: the network call alone, and ``lift`` (input checks,
the network and the numpy decoding: the lifter's whole cost per frame in the cascade).

The files are timed in interleaved rounds (each round times every file once, ``repeats`` calls
after warm-up, the order reversed every round), so that a shared machine's load changes hit every file alike; the report gives
the median over all calls and each file's ratio to the first. With ``flip_average`` each file is
timed twice in the same rounds, as it is and flip-averaged (:mod:`..lifter.flip`: the batch and its
mirror in one call, twice the people), so the ratio between the two is that of the same moment.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..lifter.export import random_lifter_inputs
from ..lifter.runtime import LifterRuntime
from .timing import cpu_name, interleaved_median_ms


def _timed_calls(runtime: LifterRuntime, batch: int, rng: np.random.Generator):
    """(network call, lift) callables on one random valid input of ``batch`` people."""
    inputs = random_lifter_inputs(batch, runtime.skeleton.num_joints, rng)
    network_inputs = {name: inputs[name] for name in runtime.signature.input_names}
    visible = inputs["visible"] if runtime.config.takes_mask else None
    return (lambda: runtime.backend.run(network_inputs),
            lambda: runtime.lift(inputs["keypoints"], inputs["intrinsics"], visible))


def lifter_files_report(paths: list[str | Path], batches: tuple[int, ...] = (1, 8), rounds: int = 10,
                        repeats: int = 50, threads: int | None = None, flip_average: bool = False) -> str:
    """Markdown: median ms of the network call and of ``lift`` per file and batch size (module docstring)."""
    for path in map(Path, paths):
        if path.suffix != ".onnx":
            raise ValueError(f"{path}: give ONNX exports (poselifter export); checkpoints are timed with --backends")
    variants = [(Path(path), flip) for path in paths for flip in ((False, True) if flip_average else (False,))]
    paths = [path for path, _ in variants]
    # each file as given: weights="fp32" keeps an int8 variant beside a file from standing in for it
    runtimes = [LifterRuntime.from_onnx(path, "onnxruntime-cpu", weights="fp32", threads=threads, flip_average=flip)
                for path, flip in variants]
    rng = np.random.default_rng(0)
    calls = {(i, b, k): call for i, r in enumerate(runtimes) for b in batches
             for k, call in enumerate(_timed_calls(r, b, rng))}
    load_before = os.getloadavg()
    median = interleaved_median_ms(calls, rounds, repeats, warmup=3)
    load_after = os.getloadavg()
    lines = [f"Machine: {cpu_name()}, {os.cpu_count()} logical cores; ONNX Runtime CPU, threads: "
             f"{threads or 'its default (physical cores)'}; load average {load_before[0]:.2f} before, "
             f"{load_after[0]:.2f} after. Median over {rounds} interleaved rounds of {repeats} calls; ms.", "",
             "| lifter file | input | file (MB) | "
             + " | ".join(f"network, batch {b} | lift, batch {b}" for b in batches) + " | lift ratio to the first |",
             "|---|---|---:|" + "---:|---:|" * len(batches) + "---:|"]
    for i, (path, runtime) in enumerate(zip(paths, runtimes)):
        cells = " | ".join(f"{median[i, b, 0]:.3f} | {median[i, b, 1]:.3f}" for b in batches)
        ratio = median[i, batches[0], 1] / median[0, batches[0], 1]
        kind = ("rays + mask" if runtime.config.takes_mask else "pixels, no mask") + (
            ", flip-averaged" if runtime.flip_average else "")
        lines.append(f"| {path} | {kind}, width {runtime.config.width} | {path.stat().st_size / 1e6:.1f} | {cells} | "
                     f"{ratio:.2f} |")
    return "\n".join(lines) + "\n"
