"""Timing helpers shared by every benchmark: repeated wall-clock times of a call, and the CPU's name.

The benchmarks report medians (robust to a shared machine's spikes) or minima (ceilings), so the
helpers return every time and leave the statistic to the caller.
"""
from __future__ import annotations

import platform
import time
from collections.abc import Callable, Hashable

import numpy as np


def seconds(fn: Callable[[], object], repeats: int, warmup: int = 2,
            synchronize: Callable[[], None] | None = None) -> np.ndarray:
    """Wall-clock seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones.

    ``synchronize`` (e.g. ``torch.cuda.synchronize``) runs before and after each timed call, so
    asynchronous device work is inside the time.
    """
    for _ in range(warmup):
        fn()
    times = np.empty(max(1, repeats))
    for i in range(len(times)):
        if synchronize is not None:
            synchronize()
        start = time.perf_counter()
        fn()
        if synchronize is not None:
            synchronize()
        times[i] = time.perf_counter() - start
    return times


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 5,
                   synchronize: Callable[[], None] | None = None) -> float:
    """Median of :func:`seconds`."""
    return float(np.median(seconds(fn, repeats, warmup, synchronize)))


def interleaved_median_ms(calls: dict[Hashable, Callable[[], object]], rounds: int = 10, per_round: int = 20,
                          warmup: int = 2) -> dict[Hashable, float]:
    """Median ms of each of ``calls`` (name -> callable), timed in alternating blocks of
    ``per_round`` calls (the order reversed every round), so every call sees the same moments of a
    shared machine."""
    times: dict[Hashable, list[np.ndarray]] = {name: [] for name in calls}
    names = list(calls)
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            times[name].append(seconds(calls[name], per_round, warmup))
    return {name: 1000 * float(np.median(np.concatenate(parts))) for name, parts in times.items()}


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, or what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            names = [line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")]
        if names:
            return names[0]
    except OSError:
        pass
    return platform.processor() or platform.machine()
