"""Speed measurements of the lifter: inference latency per batch size and training throughput.

Numbers are medians over repeated runs after warm-up, on whatever device is given; the report
names the machine. Long-running: a command, not a test.
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np
import torch

from .lifter.loss import lifter_targets, poselifter_loss
from .lifter.model import LifterConfig, PoseLifter


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            names = [line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def _inputs(batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    keypoints = (torch.rand(batch, 17, 2, generator=g) * torch.tensor([400.0, 600.0]) + 200).to(device)
    intrinsics = torch.tensor([[1000.0, 1000.0, 640.0, 360.0]]).repeat(batch, 1).to(device)
    return keypoints, intrinsics


def _median_seconds(fn, repeats: int, device: torch.device) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def inference_latency(width: int, batch: int, device: torch.device, repeats: int = 30) -> float:
    """Median seconds of one eager forward pass (eval mode, no grad) at ``batch``."""
    model = PoseLifter(LifterConfig(width=width)).to(device).eval()
    keypoints, intrinsics = _inputs(batch, device)
    with torch.inference_mode():
        return _median_seconds(lambda: model(keypoints, intrinsics), repeats, device)


def training_throughput(width: int, batch: int, device: torch.device, steps: int = 30) -> float:
    """Training samples per second (forward, eq. 8 loss, backward, RMSprop step)."""
    config = LifterConfig(width=width)
    model = PoseLifter(config).to(device).train()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    keypoints, intrinsics = _inputs(batch, device)
    joints = torch.rand(batch, 17, 3, device=device) * 1000 + torch.tensor([0.0, 0.0, 3000.0], device=device)
    target = lifter_targets(joints, intrinsics, config, 0)

    def step() -> None:
        loss = poselifter_loss(model(keypoints, intrinsics), target, 1.0)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return batch / _median_seconds(step, steps, device)


def lifter_report(widths: list[int], batches: list[int], train_batch: int, device: torch.device) -> str:
    lines = [f"Machine: {machine_description()}, device {device}.", "",
             "| width | parameters | " + " | ".join(f"batch {b} (ms)" for b in batches) + " | poses/s at batch "
             f"{batches[-1]} | training samples/s (batch {train_batch}) |",
             "|---:|---:|" + "---:|" * (len(batches) + 2)]
    for width in widths:
        params = sum(p.numel() for p in PoseLifter(LifterConfig(width=width)).parameters())
        latency = [inference_latency(width, b, device) for b in batches]
        lines.append(f"| {width} | {params / 1e6:.2f} M | " + " | ".join(f"{1000 * t:.3f}" for t in latency)
                     + f" | {batches[-1] / latency[-1]:,.0f} | {training_throughput(width, train_batch, device):,.0f} |")
    return "\n".join(lines) + "\n"


def cascade_report(cascade, photo: np.ndarray, people_counts: tuple[int, ...] = (1, 3, 6), repeats: int = 30,
                   intrinsics=None) -> str:
    """Per-frame latency of the whole cascade on 640x480 frames holding 1, 3, 6 copies of ``photo``."""
    from .pose2d.latency import tiled_frame

    lines = [f"Machine: {machine_description()}.", "",
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


def cascade_video_report(cascade, video_path, max_frames: int = 300) -> str:
    """Frames per second of the whole cascade over the frames of a video (decoding not timed)."""
    import imageio.v2 as iio

    reader = iio.get_reader(video_path)
    frames = [np.ascontiguousarray(np.asarray(f)[..., :3]) for _, f in zip(range(max_frames), reader)]
    reader.close()
    if not frames:
        raise ValueError(f"{video_path} has no frames")
    for frame in frames[:3]:
        cascade.process(frame)
    totals, people = [], []
    for frame in frames:
        start = time.perf_counter()
        result = cascade.process(frame)
        totals.append(1000 * (time.perf_counter() - start))
        people.append(len(result.people))
    height, width = frames[0].shape[:2]
    return (f"Machine: {machine_description()}.\n\n"
            "| video | frames | size | people lifted per frame (mean) | median ms | p90 ms | frames per second |\n"
            "|---|---:|---|---:|---:|---:|---:|\n"
            f"| {video_path} | {len(frames)} | {width}x{height} | {np.mean(people):.2f} | {np.median(totals):.1f} | "
            f"{np.percentile(totals, 90):.1f} | {1000 * len(totals) / np.sum(totals):.1f} |\n")
