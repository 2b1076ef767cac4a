"""Horizontal mirror augmentation, consistent in 2D and 3D.

Mirroring the image about the vertical line through the principal point maps x -> 2 cx - x; the
matching 3D pose has X -> -X, and left and right joints swap names. Projection stays exact:
2 cx - (fx X / Z + cx) = fx (-X) / Z + cx, so the intrinsics are unchanged.
"""
from __future__ import annotations

import torch


def flip_samples(keypoints: torch.Tensor, joints: torch.Tensor, intrinsics: torch.Tensor, flip_index: torch.Tensor,
                 mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror the samples where ``mask`` is true; (B, J, 2) px and (B, J, 3) camera-frame points."""
    kp_flipped = keypoints[:, flip_index].clone()
    kp_flipped[..., 0] = 2 * intrinsics[:, None, 2] - kp_flipped[..., 0]
    joints_flipped = joints[:, flip_index].clone()
    joints_flipped[..., 0] = -joints_flipped[..., 0]
    m = mask[:, None, None]
    return torch.where(m, kp_flipped, keypoints), torch.where(m, joints_flipped, joints)
