"""Non-learned baselines used beside PoseLifter in the evaluation tables.

``analytic_root``: the root localisation of Mehta et al. (VNect / "Monocular 3D human pose
estimation in the wild using improved CNN supervision", 3DV 2017, supplementary): assume weak
perspective, i.e. every joint at the root's depth, and find the depth that best explains the 2D
pose's extent from the relative 3D pose by linear least squares:

    minimise_s  sum_i || (p_i - mean p) - s (P_i,xy - mean P_xy) ||^2,   s = alpha / Rz

so Rz = alpha / s with s = <p~, P~> / <P~, P~>; X and Y then come from back-projecting the root's 2D
position (paper eq. 6). Inputs are pixels, mm and ``[fx, fy, cx, cy]``; the x and y image axes
are rescaled to a common focal length first so non-square pixels are handled.
"""
from __future__ import annotations

import numpy as np

from .camera import back_project, focal_alpha


def analytic_root(keypoints: np.ndarray, relative_mm: np.ndarray, intrinsics: np.ndarray, root: int = 0) -> np.ndarray:
    """(N, J, 2) px, (N, J, 3) root-relative mm, (N, 4) -> (N, 3) absolute root in mm."""
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    alpha = focal_alpha(intrinsics)
    # pixel offsets expressed as if the focal length were alpha on both axes
    p = (keypoints - intrinsics[:, None, 2:4]) * (alpha[:, None] / intrinsics[:, :2])[:, None, :]
    p = p - p.mean(axis=1, keepdims=True)
    q = relative_mm[..., :2] - relative_mm[..., :2].mean(axis=1, keepdims=True)
    s = (p * q).sum(axis=(1, 2)) / np.maximum((q * q).sum(axis=(1, 2)), 1e-9)
    depth = alpha / np.maximum(s, 1e-9)
    return back_project(keypoints[:, root], depth, intrinsics)
