"""Cost of the whole cascade per frame, next to references measured in the same run (#16).

Absolute times move from machine to machine and, on a shared machine, from minute to minute, so
the report gives each time with a reference taken by the same process minutes apart:

* the **sgemm ceiling**: GFLOP/s of plain float32 matrix products, one per thread of the ONNX
  Runtime policy; MoveNet's convolution FLOPs at that rate is the least time its network could
  take;
* the **memory-bandwidth floor** of the batch-1 lifter: at batch 1 each call reads every weight
  once, so the ONNX file's bytes over the copy bandwidth (same threads) is the least time a call
  could take.

Frames are decoded with OpenCV and not timed. CPU time is the process's (every thread's), so a
pool that spins while idle shows up in it. Peak RSS is the process's after the frames, before the
references (which load ``onnx`` to count FLOPs). Long-running: a command (``poselifter benchmark
--cascade``), not a test.
"""
from __future__ import annotations

import os
import resource
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..lifter.weights import INT8_SUFFIX, fp32_path
from .timing import cpu_name, interleaved_median_ms, seconds


def sgemm_gflops(threads: int, size: int = 512, repeats: int = 50) -> float:
    """Best GFLOP/s of ``threads`` independent ``size``-square float32 products run at once (numpy
    releases the GIL in BLAS; with one BLAS thread each, as the project runs, this is one core
    each). The best of many runs: a ceiling, which other jobs on the machine can only lower."""
    rng = np.random.default_rng(0)
    operands = [(rng.standard_normal((size, size), dtype=np.float32), rng.standard_normal((size, size), dtype=np.float32),
                 np.empty((size, size), dtype=np.float32)) for _ in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        def products() -> None:
            list(pool.map(lambda abc: np.matmul(abc[0], abc[1], out=abc[2]), operands))

        return threads * 2 * size**3 / seconds(products, repeats).min() / 1e9


def copy_bandwidth_gbs(threads: int, megabytes: int = 128, repeats: int = 20) -> float:
    """Best GB/s read plus written by ``threads`` threads copying parts of a ``megabytes`` array
    (far larger than the caches)."""
    count = megabytes * 2**20 // 4
    source, target = np.ones(count, dtype=np.float32), np.empty(count, dtype=np.float32)
    bounds = np.linspace(0, count, threads + 1).astype(int)
    parts = [(target[a:b], source[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    with ThreadPoolExecutor(threads) as pool:
        def copy() -> None:
            list(pool.map(lambda ts: np.copyto(ts[0], ts[1]), parts))

        return 2 * source.nbytes / seconds(copy, repeats).min() / 1e9


def conv_gflop(onnx_path: str | Path, input_shape: tuple[int, ...]) -> float | None:
    """FLOPs (2 x multiply-adds, in G) of an ONNX model's Conv and Gemm/MatMul nodes at one input
    shape, by ONNX shape inference; None without the ``onnx`` package (a benchmark may use it,
    the run-time path does not)."""
    try:
        import onnx
        from onnx import shape_inference
    except ImportError:
        return None
    model = onnx.load(str(onnx_path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim, value in zip(dims, input_shape):
        dim.ClearField("dim_param")
        dim.dim_value = value
    inferred = shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)}
    shapes.update({i.name: list(i.dims) for i in model.graph.initializer})
    total = 0
    for node in inferred.graph.node:
        if node.op_type == "Conv" and node.output[0] in shapes and node.input[1] in shapes:
            weight, out = shapes[node.input[1]], shapes[node.output[0]]
            total += 2 * int(np.prod(out)) * int(np.prod(weight[1:]))
        elif node.op_type in ("Gemm", "MatMul") and node.input[1] in shapes and node.output[0] in shapes:
            total += 2 * int(np.prod(shapes[node.output[0]])) * shapes[node.input[1]][0]
    return total / 1e9


def _backend_inputs(backend, batch: int, shape_for_dynamic: dict[int, int] | None = None) -> dict[str, np.ndarray]:
    """Inputs of the backend's signature at ``batch`` (dynamic non-batch axes from ``shape_for_dynamic``)."""
    rng = np.random.default_rng(0)
    inputs = {}
    for name, shape, dtype in zip(backend.input_names, backend.signature.input_shapes or (), backend.signature.dtypes):
        dims = [batch] + [s if s is not None else (shape_for_dynamic or {}).get(k + 1, 1) for k, s in enumerate(shape[1:])]
        inputs[name] = (rng.uniform(0.1, 1.0, dims) * (255 if dtype.kind == "u" else 1)).astype(dtype)
    return inputs


@dataclass
class FrameRecord:
    wall_ms: float
    cpu_ms: float
    pose2d_ms: float
    lift_ms: float
    found: int
    lifted: int


def time_video(cascade, video: str | Path, max_frames: int = 300, warmup: int = 3) -> tuple[list[FrameRecord], tuple[int, int]]:
    """Per-frame records of ``cascade.process`` over the first ``max_frames`` frames (after
    ``warmup`` untimed runs on the first), and the frame size (width, height)."""
    from ..infer import VideoReader

    reader = VideoReader(video, max_frames)
    records, size = [], (0, 0)
    for image, _ in reader:
        if not records:
            size = (image.shape[1], image.shape[0])
            for _ in range(warmup):
                cascade.process(image)
        cpu, wall = time.process_time(), time.perf_counter()
        result = cascade.process(image)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        records.append(FrameRecord(1000 * wall, 1000 * cpu, result.timings_ms.get("pose2d", float("nan")),
                                   result.timings_ms.get("lift", float("nan")),
                                   len(result.people) + sum(result.skipped.values()), len(result.people)))
    reader.close()
    if not records:
        raise ValueError(f"{video} has no frames")
    return records, size


def cascade_video_report(cascade, video: str | Path, max_frames: int = 300) -> str:
    """The Markdown report of ``poselifter benchmark --cascade VIDEO`` (see the module docstring)."""
    import onnxruntime as ort

    from ..runtime.threads import thread_policy

    threads = thread_policy().intra_threads
    records, (width, height) = time_video(cascade, video, max_frames)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    column = lambda name: np.array([getattr(r, name) for r in records])  # noqa: E731
    wall, cpu = column("wall_ms"), column("cpu_ms")
    gflops, bandwidth = sgemm_gflops(threads), copy_bandwidth_gbs(threads)
    lines = [f"Machine: {cpu_name()}, {os.cpu_count()} logical cores, onnxruntime {ort.__version__}, thread policy: "
             f"{thread_policy().describe()}; load average {os.getloadavg()[0]:.1f}.",
             f"References measured in this run: sgemm ceiling {gflops:.1f} GFLOP/s ({threads} thread(s)), copy "
             f"bandwidth {bandwidth:.1f} GB/s (read + write).", "",
             "| video | frames | size | wall median ms | wall p90 ms | CPU ms/frame | 2D stage median ms | "
             "lift stage median ms | people found/frame | people lifted/frame | peak RSS MiB |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
             f"| {Path(video).name} | {len(records)} | {width}x{height} | {np.median(wall):.1f} | "
             f"{np.percentile(wall, 90):.1f} | {cpu.mean():.1f} | {np.median(column('pose2d_ms')):.1f} | "
             f"{np.median(column('lift_ms')):.2f} | {column('found').mean():.2f} | {column('lifted').mean():.2f} | "
             f"{peak_rss:.0f} |", ""]
    lines += network_rows(cascade, (width, height), gflops, bandwidth, np.median(column("lift_ms")))
    return "\n".join(lines) + "\n"


def network_rows(cascade, size: tuple[int, int], gflops: float, bandwidth: float, lift_stage_ms: float) -> list[str]:
    """The two networks alone, each as a multiple of its in-run reference."""
    rows = ["| network | runs as | median ms | reference | reference ms | measured / reference |",
            "|---|---|---:|---|---:|---:|"]
    estimator = getattr(cascade, "estimator", None)
    if estimator is not None and hasattr(estimator, "long_side"):
        from ..pose2d.transforms import CropTransform

        out_w, out_h = CropTransform.letterbox(size, estimator.long_side).output_size
        inputs = {estimator.input_name: np.zeros((1, out_h, out_w, 3), np.uint8)}
        network_ms = 1000 * float(np.median(seconds(lambda: estimator.backend.run(inputs), 30)))
        flop = conv_gflop(estimator.backend.path, (1, out_h, out_w, 3)) if hasattr(estimator.backend, "path") else None
        if flop:
            floor = 1000 * flop / gflops
            rows.append(f"| 2D model, {out_w}x{out_h} input | {estimator.backend.name} | {network_ms:.1f} | "
                        f"{flop:.2f} GFLOP at the sgemm ceiling | {floor:.2f} | {network_ms / floor:.1f} |")
        else:
            rows.append(f"| 2D model, {out_w}x{out_h} input | {estimator.backend.name} | {network_ms:.1f} | - | - | - |")
    backend = getattr(cascade.lifter, "backend", None)
    if backend is None:  # a PyTorch-eager lifter: no backend to time alone
        return rows
    inputs = _backend_inputs(backend, 1)
    timed = {backend.name: backend}
    path = getattr(backend, "path", None)
    if path is not None and Path(path).name.endswith(INT8_SUFFIX):  # the int8 variant: also the fp32 file it stands for
        from ..runtime.onnxruntime_backend import OnnxRuntimeBackend

        timed = {f"{backend.name}, int8 weights": backend, f"{backend.name}, fp32 weights": OnnxRuntimeBackend(fp32_path(path))}
    medians = interleaved_median_ms({name: (lambda b=b: b.run(inputs)) for name, b in timed.items()})
    for name, timed_backend in timed.items():
        file = getattr(timed_backend, "path", None)
        if file is None:
            rows.append(f"| lifter, batch 1 | {name} | {medians[name]:.3f} | - | - | - |")
            continue
        weights = Path(file).stat().st_size
        floor = 1000 * weights / (bandwidth * 1e9)  # each weight read once, at the copy's memory traffic rate
        rows.append(f"| lifter, batch 1 | {name} | {medians[name]:.3f} | {weights / 1e6:.1f} MB of weights read "
                    f"at the copy bandwidth | {floor:.3f} | {medians[name] / floor:.2f} |")
    rows += ["", f"Lift stage beyond the lifter network (checks, layout, decoding): "
                 f"{lift_stage_ms - medians[next(iter(timed))]:.2f} ms per frame (stage median minus network median)."]
    return rows


def cascade_report(cascade, photo: np.ndarray, people_counts: tuple[int, ...] = (1, 3, 6), repeats: int = 30,
                   intrinsics=None) -> str:
    """Per-frame latency of the whole cascade on 640x480 frames holding 1, 3, 6 copies of ``photo``."""
    from .pose2d_latency import tiled_frame

    lines = [f"Machine: {cpu_name()}, {os.cpu_count()} logical cores.", "",
             "| people in frame | people lifted | 2D stage median (ms) | lifting median (ms) | total median (ms) | total p90 (ms) |",
             "|---:|---:|---:|---:|---:|---:|"]
    for count in people_counts:
        frame = tiled_frame(photo, count)
        for _ in range(3):
            cascade.process(frame, intrinsics)
        totals, pose2d, lift, found = [], [], [], 0
        for _ in range(repeats):
            start = time.perf_counter()
            result = cascade.process(frame, intrinsics)
            totals.append(1000 * (time.perf_counter() - start))
            pose2d.append(result.timings_ms["pose2d"])
            lift.append(result.timings_ms["lift"])
            found = len(result.people)
        lines.append(f"| {count} | {found} | {np.median(pose2d):.1f} | {np.median(lift):.2f} | {np.median(totals):.1f} "
                     f"| {np.percentile(totals, 90):.1f} |")
    return "\n".join(lines) + "\n"


def _frames(source, every: int, max_frames: int):
    """(name, image) pairs of a photo, a folder of photos or every ``every``-th frame of a video."""
    from pathlib import Path

    from ..infer import IMAGE_SUFFIXES, VIDEO_SUFFIXES, load_image

    source = Path(source)
    if source.suffix.lower() in VIDEO_SUFFIXES:
        import imageio.v2 as iio

        reader = iio.get_reader(source)
        for index, frame in enumerate(reader):
            if index >= max_frames * every:
                break
            if index % every == 0:
                yield f"{source.name}#{index}", np.ascontiguousarray(np.asarray(frame)[..., :3])
        reader.close()
        return
    paths = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if source.is_dir() else [source]
    for path in paths[:max_frames]:
        yield path.name, load_image(path)


def lifted_share_report(cascades: dict, sources: list, every: int = 10, max_frames: int = 80) -> str:
    """Per source and named cascade (e.g. one per 2D input size): the people the 2D stage found
    (in all and per frame), the share lifted, the skip reasons, how many of the skipped were located
    by their head (``CascadeResult.head_only``), the cascade's median ms per frame and its ratio to
    the first cascade's. The cascades take turns on each frame, so a change of the machine's load
    reaches them alike."""
    lines = [f"Machine: {cpu_name()}, {os.cpu_count()} logical cores; load average at the start "
             f"{os.getloadavg()[0]:.1f}.", "",
             "| source | cascade | frames | people found | found/frame | lifted | share lifted | skipped (reason: count) "
             "| skipped, head located | median ms/frame | ms vs the first |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for source in sources:
        frames = list(_frames(source, every, max_frames))
        if not frames:
            raise ValueError(f"{source} has no images or frames")
        found, lifted, heads = Counter(), Counter(), Counter()
        reasons: dict[str, Counter] = {name: Counter() for name in cascades}
        times: dict[str, list[float]] = {name: [] for name in cascades}
        for _, image in frames:
            for name, cascade in cascades.items():
                start = time.perf_counter()
                result = cascade.process(image)
                times[name].append(1000 * (time.perf_counter() - start))
                lifted[name] += len(result.people)
                found[name] += len(result.people) + len(result.skipped_people)
                heads[name] += len(result.head_only)
                reasons[name].update(result.skipped)
        first = np.median(times[next(iter(cascades))])
        for name in cascades:
            share = f"{100 * lifted[name] / found[name]:.1f}%" if found[name] else "n/a"
            skipped = "; ".join(f"{r}: {c}" for r, c in sorted(reasons[name].items())) or "none"
            lines.append(f"| {source} | {name} | {len(frames)} | {found[name]} | {found[name] / len(frames):.2f} | "
                         f"{lifted[name]} | {share} | {skipped} | {heads[name]} | {np.median(times[name]):.1f} | "
                         f"{np.median(times[name]) / first:.2f} |")
    lines += ["", f"Load average at the end {os.getloadavg()[0]:.1f}."]
    return "\n".join(lines) + "\n"
