"""Speed measurements of the lifter: inference latency per batch size and training throughput.

Numbers are medians over repeated runs after warm-up, on whatever device is given; the report
names the machine. Long-running: a command, not a test.
"""
from __future__ import annotations

import os

import torch

from ..lifter.loss import lifter_targets, poselifter_loss
from ..lifter.model import LifterConfig, PoseLifter
from .timing import cpu_name, median_seconds


def machine_description() -> str:
    return f"{cpu_name()}, {os.cpu_count()} logical cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def _inputs(batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    keypoints = (torch.rand(batch, 17, 2, generator=g) * torch.tensor([400.0, 600.0]) + 200).to(device)
    intrinsics = torch.tensor([[1000.0, 1000.0, 640.0, 360.0]]).repeat(batch, 1).to(device)
    return keypoints, intrinsics


def _synchronizer(device: torch.device):
    return torch.cuda.synchronize if device.type == "cuda" else None


def inference_latency(width: int, batch: int, device: torch.device, repeats: int = 30) -> float:
    """Median seconds of one eager forward pass (eval mode, no grad) at ``batch``."""
    model = PoseLifter(LifterConfig(width=width)).to(device).eval()
    keypoints, intrinsics = _inputs(batch, device)
    with torch.inference_mode():
        return median_seconds(lambda: model(keypoints, intrinsics), repeats, warmup=3, synchronize=_synchronizer(device))


def training_throughput(width: int, batch: int, device: torch.device, steps: int = 30) -> float:
    """Training samples per second (forward, eq. 8 loss, backward, RMSprop step)."""
    config = LifterConfig(width=width)
    model = PoseLifter(config).to(device).train()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    keypoints, intrinsics = _inputs(batch, device)
    joints = torch.rand(batch, 17, 3, device=device) * 1000 + torch.tensor([0.0, 0.0, 3000.0], device=device)
    visible = torch.ones(batch, 17, device=device)
    target = lifter_targets(joints, keypoints, intrinsics, visible, config, 0)

    def step() -> None:
        loss = poselifter_loss(model(keypoints, intrinsics, visible), target, 1.0)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return batch / median_seconds(step, steps, warmup=3, synchronize=_synchronizer(device))


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
