"""Training loss of the paper, eq. 8."""
from __future__ import annotations

import torch

from .canonical_depth import MM_PER_M, encode_root_depth
from .model import LifterConfig, remove_root


def lifter_targets(joints_3d_mm: torch.Tensor, intrinsics: torch.Tensor, config: LifterConfig, root: int) -> torch.Tensor:
    """(B, J, 3) camera-frame mm -> (B, 3J - 2) targets in the network's output layout."""
    depth = encode_root_depth(joints_3d_mm[:, root, 2], intrinsics, config.f0, config.canonical_depth)
    relative = remove_root(joints_3d_mm - joints_3d_mm[:, root:root + 1], root) / MM_PER_M
    return torch.cat([depth[:, None], relative.flatten(1)], dim=1)


def poselifter_loss(raw: torch.Tensor, target: torch.Tensor, pose_weight: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """L = mean_i |d_i - d*_i| + lambda * mean_i ||P_i - P*_i||_1   (eq. 8).

    Units: the depth term is in "metres at the reference focal length f0" (or metres for the
    raw-depth ablation), the pose term is the per-sample L1 norm, summed over the 3(J-1)
    coordinates, of the root-relative pose in metres. ``pose_weight`` is lambda. Returns the total
    and the two terms (for logging).
    """
    depth_term = (raw[:, 0] - target[:, 0]).abs().mean()
    pose_term = (raw[:, 1:] - target[:, 1:]).abs().sum(dim=1).mean()
    return depth_term + pose_weight * pose_term, depth_term, pose_term
