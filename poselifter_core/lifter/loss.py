"""Training targets and loss of the paper, eq. 8, for every depth output (see :mod:`.decoding`)."""
from __future__ import annotations

import torch

from ..camera import MM_PER_M, focal_alpha
from .model import LifterConfig
from .normalization import MIN_SCALE_RAY, observed_statistics, rays


def encode_root_depth(root_z_mm: torch.Tensor, keypoints: torch.Tensor, intrinsics: torch.Tensor,
                      visible: torch.Tensor, config: LifterConfig) -> torch.Tensor:
    """Target of the depth output from the root's depth in mm and the network's own input
    (inverse of :func:`.decoding.root_depth_mm`)."""
    if config.depth_output == "log_size":
        points = torch.where(visible[..., None] > 0, rays(keypoints, intrinsics), torch.zeros_like(keypoints))
        sigma = observed_statistics(points, visible)[1].clamp_min(MIN_SCALE_RAY)
        return torch.log(root_z_mm / MM_PER_M * sigma)
    if config.depth_output == "canonical":
        return root_z_mm / focal_alpha(intrinsics) * config.f0 / MM_PER_M
    return root_z_mm / MM_PER_M


def lifter_targets(joints_3d_mm: torch.Tensor, keypoints: torch.Tensor, intrinsics: torch.Tensor,
                   visible: torch.Tensor, config: LifterConfig, root: int) -> torch.Tensor:
    """(B, J, 3) camera-frame mm (+ the 2D input) -> (B, 3J - 2) targets in the network's output layout."""
    depth = encode_root_depth(joints_3d_mm[:, root, 2], keypoints, intrinsics, visible, config)
    relative = (joints_3d_mm - joints_3d_mm[:, root:root + 1]) / MM_PER_M
    relative = torch.cat([relative[:, :root], relative[:, root + 1:]], dim=1)
    return torch.cat([depth[:, None], relative.flatten(1)], dim=1)


def poselifter_loss(raw: torch.Tensor, target: torch.Tensor, pose_weight: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """L = mean_i |d_i - d*_i| + lambda * mean_i ||P_i - P*_i||_1   (eq. 8).

    Units: the depth term is in the depth output's units (log size: a relative depth error;
    canonical: metres at the reference focal length f0; metres), the pose term is the per-sample
    L1 norm, summed over the 3(J-1) coordinates, of the root-relative pose in metres.
    ``pose_weight`` is lambda. Returns the total and the two terms (for logging).
    """
    depth_term = (raw[:, 0] - target[:, 0]).abs().mean()
    pose_term = (raw[:, 1:] - target[:, 1:]).abs().sum(dim=1).mean()
    return depth_term + pose_weight * pose_term, depth_term, pose_term
