"""Tiny checkpoints shared by the runtime tests: a lifter with non-trivial BatchNorm statistics and
an integral-regression ResNet (the 2D estimator)."""
from __future__ import annotations

from pathlib import Path

import torch

from poselifter_core.lifter.checkpoint import save_checkpoint
from poselifter_core.lifter.model import LifterConfig, PoseLifter
from poselifter_core.pose2d import integral_resnet
from poselifter_core.skeleton import COCO17


def tiny_lifter(width: int = 32, seed: int = 0) -> PoseLifter:
    """Random weights and BatchNorm statistics far from (0, 1), so folding them matters."""
    torch.manual_seed(seed)
    model = PoseLifter(LifterConfig(width=width))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_(0, 0.3)
                module.running_var.uniform_(0.3, 3.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.2)
    return model.eval()


def write_checkpoint(path: Path, width: int = 32, seed: int = 0) -> Path:
    save_checkpoint(path, tiny_lifter(width, seed))
    return path


#: A tiny integral-regression ResNet (64 px crops, 16x16 heatmaps): exports and runs in well under a second.
TINY_POSE2D = dict(depth=10, base_width=8, deconv_channels=16, input_size=64)


def write_pose2d_checkpoint(path: Path, seed: int = 0) -> Path:
    """A ``poselifter train-2d`` style checkpoint with random weights; the head is re-initialised
    with larger weights so heatmaps have distinct peaks (scores) rather than the near-flat maps of
    the training initialisation."""
    torch.manual_seed(seed)
    model = integral_resnet.IntegralResNet(integral_resnet.IntegralResNetConfig(**TINY_POSE2D)).eval()
    for module in model.head:
        if isinstance(module, (torch.nn.ConvTranspose2d, torch.nn.Conv2d)):
            torch.nn.init.kaiming_normal_(module.weight)
    integral_resnet.save_checkpoint(path, model, COCO17, {"epoch": 1})
    return path
