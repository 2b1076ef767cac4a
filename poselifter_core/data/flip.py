"""Horizontal mirror augmentation, consistent in 2D and 3D.

Mirroring the image about the vertical line through the principal point maps x -> 2 cx - x; the
matching 3D pose has X -> -X, and left and right joints swap names. Projection stays exact:
2 cx - (fx X / Z + cx) = fx (-X) / Z + cx, so the intrinsics are unchanged.
"""
from __future__ import annotations

import torch


def flip_samples(keypoints: torch.Tensor, joints: torch.Tensor, intrinsics: torch.Tensor, flip_index: torch.Tensor,
                 mask: torch.Tensor, visible: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Mirror the samples where ``mask`` is true; (B, J, 2) px, (B, J, 3) camera-frame points and
    the optional (B, J) visibility mask (its left and right joints swap too)."""
    kp_flipped = keypoints[:, flip_index].clone()
    kp_flipped[..., 0] = 2 * intrinsics[:, None, 2] - kp_flipped[..., 0]
    joints_flipped = joints[:, flip_index].clone()
    joints_flipped[..., 0] = -joints_flipped[..., 0]
    m = mask[:, None, None]
    flipped_visible = None if visible is None else torch.where(mask[:, None], visible[:, flip_index], visible)
    return torch.where(m, kp_flipped, keypoints), torch.where(m, joints_flipped, joints), flipped_visible
