"""Lifter speed per inference backend, next to a plain matrix-multiply ceiling.

For each backend: median latency of one network call at small batches (after warm-up), poses/s
at a large batch, and the peak resident memory of the process that made and ran it. The ceiling
runs the lifter's own layer shapes as bare sgemm calls (numpy/OpenBLAS and torch) at the
throughput batch: what the CPU's BLAS reaches on the same FLOPs without any framework.

Every backend and every ceiling library is measured in its own fresh process: the thread pools
of different libraries (torch's OpenMP, OpenBLAS's, ONNX Runtime's) keep spinning after use and,
on a machine with few cores, slow the next library down by orders of magnitude; a fresh process
also makes the peak RSS that backend's own.
"""
from __future__ import annotations

import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..integrity import int8_path
from ..lifter.checkpoint import load_lifter, save_checkpoint
from ..lifter.export import LIFTER_SIGNATURE, export_lifter, quantize_lifter_int8, random_lifter_inputs
from ..lifter.model import LifterConfig, PoseLifter
from ..runtime.backend import BackendError
from ..runtime.factory import create_backend
from .lifter import machine_description
from .timing import median_seconds

CEILING_LIBRARIES = ("numpy", "torch")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class BackendRow:
    setting: str
    name: str = ""
    latency_ms: dict[int, float] = field(default_factory=dict)
    poses_per_s: float = float("nan")
    peak_rss_mib: float = float("nan")
    added_rss_mib: float = float("nan")
    error: str = ""


@dataclass(frozen=True)
class BackendJob:
    """Everything a fresh process needs to make and measure one backend."""

    setting: str
    onnx_path: str
    checkpoint: str
    cache_dir: str
    precision: str
    threads: int | None
    batches: tuple[int, ...]
    throughput_batch: int
    repeats: int


def lifter_layer_shapes(config: LifterConfig) -> list[tuple[int, int]]:
    """(in, out) features of every Linear layer of the lifter."""
    return [(m.in_features, m.out_features) for m in PoseLifter(config).modules() if isinstance(m, torch.nn.Linear)]


def flops_per_pose(config: LifterConfig) -> int:
    """Multiply-adds of the Linear layers, times 2 (everything else is negligible)."""
    return sum(2 * i * o for i, o in lifter_layer_shapes(config))


def chain_gflops(library: str, shapes: list[tuple[int, int]], batch: int, repeats: int) -> float:
    """GFLOP/s of one sgemm per layer shape at ``batch`` with ``library`` (numpy or torch)."""
    rng = np.random.default_rng(0)
    arrays = [[rng.standard_normal((batch, i), dtype=np.float32) for i, _ in shapes],
              [rng.standard_normal((i, o), dtype=np.float32) for i, o in shapes],
              [np.empty((batch, o), dtype=np.float32) for _, o in shapes]]
    if library == "torch":
        arrays = [[torch.from_numpy(a) for a in group] for group in arrays]
    multiply = torch.mm if library == "torch" else np.matmul

    def chain() -> None:
        for x, w, y in zip(*arrays):
            multiply(x, w, out=y)

    return batch * sum(2 * i * o for i, o in shapes) / median_seconds(chain, repeats) / 1e9


def matmul_ceiling(config: LifterConfig, batch: int, repeats: int, threads: int | None = None) -> dict[str, float]:
    """GFLOP/s of plain sgemm chains with the lifter's layer shapes at ``batch``, per library."""
    shapes = lifter_layer_shapes(config)
    return {library: in_fresh_process(chain_gflops, threads, library, shapes, batch, repeats) for library in CEILING_LIBRARIES}


def measure_backend(job: BackendJob) -> BackendRow:
    """Make the backend and time it (run this in a fresh process: see the module docstring)."""
    row = BackendRow(setting=job.setting)
    if job.threads:
        torch.set_num_threads(job.threads)
    before, _ = _rss_mib()
    try:
        backend = create_backend(job.setting, job.onnx_path, lambda: load_lifter(job.checkpoint)[0], job.cache_dir,
                                 signature=LIFTER_SIGNATURE, precision=job.precision, max_batch=max(job.batches),
                                 threads=job.threads, model_name="lifter")
    except BackendError as error:
        row.error = str(error)
        return row
    row.name = backend.name
    rng = np.random.default_rng(0)
    for batch in job.batches:
        inputs = random_lifter_inputs(batch, 17, rng)
        backend.warmup(inputs)
        row.latency_ms[batch] = 1000 * median_seconds(lambda: backend.run(inputs), job.repeats, warmup=0)
    inputs = random_lifter_inputs(job.throughput_batch, 17, rng)
    backend.warmup(inputs, iterations=2)
    row.poses_per_s = job.throughput_batch / median_seconds(lambda: backend.run(inputs), max(3, job.repeats // 10), warmup=0)
    _, row.peak_rss_mib = _rss_mib()
    row.added_rss_mib = row.peak_rss_mib - before
    return row


def backend_report(settings: list[str], width: int, batches: tuple[int, ...] = (1, 8, 64), throughput_batch: int = 1024,
                   repeats: int = 200, cache_dir: str | Path | None = None, threads: int | None = None,
                   precision: str = "fp16", int8: bool = False) -> str:
    """Markdown: one row per backend setting for a randomly initialised lifter of ``width``; with
    ``int8``, one more ONNX Runtime CPU row on the int8-weight export."""
    config = LifterConfig(width=width)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="poselifter-bench-") as tmp:
        checkpoint = Path(tmp) / f"lifter_w{width}.pt"
        save_checkpoint(checkpoint, PoseLifter(config).eval())
        export = export_lifter(checkpoint, Path(tmp) / f"lifter_w{width}.onnx")
        rows = [in_fresh_process(measure_backend, threads, BackendJob(
            setting, str(export.path), str(checkpoint), str(cache_dir or Path(tmp) / "engines"), precision, threads,
            tuple(batches), throughput_batch, repeats)) for setting in settings]
        if int8:
            quantized = quantize_lifter_int8(export.path, int8_path(export.path))
            row = in_fresh_process(measure_backend, threads, BackendJob(
                "onnxruntime-cpu", str(quantized), str(checkpoint), str(Path(tmp) / "engines"), precision, threads,
                tuple(batches), throughput_batch, repeats))
            row.setting, row.name = "onnxruntime int8 weights", row.name + "-int8"
            rows.append(row)
    ceiling = matmul_ceiling(config, throughput_batch, max(3, repeats // 10), threads)
    return format_report(rows, config, tuple(batches), throughput_batch, ceiling, export.max_abs_error,
                         (load_before, os.getloadavg()), threads)


def format_report(rows: list[BackendRow], config: LifterConfig, batches: tuple[int, ...], throughput_batch: int,
                  ceiling: dict[str, float], parity: float, loads: tuple[tuple[float, ...], tuple[float, ...]],
                  threads: int | None = None) -> str:
    flops = flops_per_pose(config)
    ceiling_poses = max(ceiling.values()) * 1e9 / flops
    lines = [
        f"Machine: {machine_description()}; load average (1/5/15 min) {_load(loads[0])} before, {_load(loads[1])} after.",
        f"Threads per library: {threads or 'library defaults (ONNX Runtime: physical cores)'}.",
        f"Lifter width {config.width}: {flops / 1e6:.2f} MFLOP per pose; ONNX export max abs error vs PyTorch {parity:.2e}.",
        "",
        "| backend | runs as | " + " | ".join(f"batch {b} (ms)" for b in batches)
        + f" | poses/s at batch {throughput_batch} | share of matmul ceiling | peak RSS (MiB) | RSS added (MiB) |",
        "|---|---|" + "---:|" * (len(batches) + 4),
    ]
    for row in rows:
        if row.error:
            lines.append(f"| {row.setting} | not available | " + " | ".join("-" for _ in range(len(batches) + 4)) + " |")
        else:
            lines.append(f"| {row.setting} | {row.name} | " + " | ".join(f"{row.latency_ms[b]:.3f}" for b in batches)
                         + f" | {row.poses_per_s:,.0f} | {row.poses_per_s / ceiling_poses:.0%} | {row.peak_rss_mib:,.0f} | "
                         f"{row.added_rss_mib:,.0f} |")
    lines += ["", f"Matmul ceiling (the lifter's layer shapes as plain sgemm at batch {throughput_batch}, each library in "
              "its own process): " + ", ".join(f"{lib} {g:.1f} GFLOP/s" for lib, g in ceiling.items())
              + f" -> {ceiling_poses:,.0f} poses/s."]
    reference = next((r for r in rows if r.name.startswith("torch")), None)
    first = batches[0]
    for row in rows:
        if row.error:
            lines.append(f"{row.setting}: not available: {row.error}")
        elif reference is not None and row is not reference:
            lines.append(f"Batch {first} latency of {row.name}: {reference.latency_ms[first] / row.latency_ms[first]:.1f}x "
                         f"lower than {reference.name}.")
    lines.append("Cascade per-frame latency: see poselifter benchmark --cascade PHOTO.")
    return "\n".join(lines) + "\n"


def in_fresh_process(fn: Callable[..., Any], threads: int | None, *args: Any) -> Any:
    """``fn(*args)`` in a new interpreter; ``threads`` caps OpenMP/OpenBLAS/MKL pools there (they
    read these variables when the libraries load, so they are set in the environment it inherits)."""
    saved = dict(os.environ)
    if threads:
        os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            return pool.submit(fn, *args).result()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB, from /proc/self/status."""
    values = {"VmRSS": float("nan"), "VmHWM": float("nan")}
    try:
        with open("/proc/self/status", encoding="utf-8") as stream:
            for line in stream:
                key = line.split(":", 1)[0]
                if key in values:
                    values[key] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def _load(values: tuple[float, ...]) -> str:
    return "/".join(f"{v:.2f}" for v in values)
