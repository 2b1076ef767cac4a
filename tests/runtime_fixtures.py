"""Tiny checkpoints shared by the runtime tests: a lifter with non-trivial BatchNorm statistics and
an integral-regression ResNet (the 2D estimator)."""
from __future__ import annotations

from pathlib import Path

import torch

from poselifter_core.config import to_dict
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


def legacy_checkpoint(path: Path) -> Path:
    """A checkpoint as written before #18: pixel input, canonical depth, no input_space key."""
    model = tiny_lifter()
    pixels = PoseLifter(LifterConfig(width=32, input_space="pixels", depth_output="canonical"))
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("input_layer.")}
    pixels.load_state_dict({**pixels.state_dict(), **state})
    with torch.no_grad():  # a plausible depth (3 m at f = 1000 px) and a body within 0.5 m: what the cascade's gates pass
        pixels.output_layer.weight.mul_(0.3)
        pixels.output_layer.bias.mul_(0.3)
        pixels.output_layer.weight[0] = 0.0
        pixels.output_layer.bias[0] = 3.0
    config = to_dict(pixels.config)
    del config["input_space"], config["depth_output"]
    config["canonical_depth"] = True
    torch.save({"format": 1, "package_version": "0.1.0", "lifter_config": config,
                "state_dict": pixels.state_dict()}, path)
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
