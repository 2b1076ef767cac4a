"""A tiny lifter checkpoint with non-trivial BatchNorm statistics, shared by the runtime tests."""
from __future__ import annotations

from pathlib import Path

import torch

from poselifter_core.lifter.checkpoint import save_checkpoint
from poselifter_core.lifter.model import LifterConfig, PoseLifter


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
