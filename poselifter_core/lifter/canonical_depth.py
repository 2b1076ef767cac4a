"""Canonical root depth (paper eqs. 5-7): the network predicts depth / focal length.

With alpha = sqrt(fx * fy), the canonical depth is R~z = Rz / alpha (eq. 7 inverted). Multiplying by
a reference focal length f0 (default 1000 px, as in the official code) and expressing it in metres
gives a target of order 1-10 for people 1-10 m away, whatever the camera: the *encoded* depth is
``Rz[mm] / alpha * f0 / 1000``, i.e. "the depth in metres this person would have seen through an
f0-pixel lens". The "no canonical depth" ablation uses ``Rz[mm] / 1000`` (metres) instead.

Root X and Y come from back-projecting the root's 2D position (eq. 6), so they need no learning.
"""
from __future__ import annotations

import torch

MM_PER_M = 1000.0


def focal_alpha(intrinsics: torch.Tensor) -> torch.Tensor:
    """alpha = sqrt(fx * fy) for (..., 4) intrinsics."""
    return torch.sqrt(intrinsics[..., 0] * intrinsics[..., 1])


def encode_root_depth(root_z_mm: torch.Tensor, intrinsics: torch.Tensor, f0: float, canonical: bool = True) -> torch.Tensor:
    """Training target for the depth output, from the root's camera-frame depth in mm."""
    if canonical:
        return root_z_mm / focal_alpha(intrinsics) * f0 / MM_PER_M
    return root_z_mm / MM_PER_M


def decode_root_depth(encoded: torch.Tensor, intrinsics: torch.Tensor, f0: float, canonical: bool = True) -> torch.Tensor:
    """Absolute root depth in mm from the depth output (inverse of :func:`encode_root_depth`)."""
    if canonical:
        return encoded * MM_PER_M / f0 * focal_alpha(intrinsics)
    return encoded * MM_PER_M


def absolute_root(root_2d: torch.Tensor, root_z_mm: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """Eq. 6 with separate fx, fy: (B, 2) root pixels + (B,) depth -> (B, 3) camera-frame mm."""
    x = (root_2d[:, 0] - intrinsics[:, 2]) * root_z_mm / intrinsics[:, 0]
    y = (root_2d[:, 1] - intrinsics[:, 3]) * root_z_mm / intrinsics[:, 1]
    return torch.stack([x, y, root_z_mm], dim=1)
