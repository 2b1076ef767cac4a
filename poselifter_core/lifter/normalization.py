"""The normalization layer of PoseLifter (paper eqs. 1-4), the first layer of the network.

For each sample, with 2D joints p_i in pixels and principal point (cx, cy):

1. p'_i = p_i - (cx, cy)                           (eq. 1)
2. u = mean_i p'_i                                  (eq. 3)
3. sigma = sqrt(mean_i ||p'_i - u||^2)              (eq. 4, population form as in the paper)
4. p^_i = (p'_i - u) / sigma                        (eq. 2)

The feature vector is [p^_1 .. p^_J, u, sigma] of length 2J + 3. ``u`` and ``sigma`` are in
pixels and are divided by ``location_unit_px`` and ``scale_unit_px`` so they sit near [-1, 1];
those constants are stored in every checkpoint. The ``features`` option selects the ablations of
the paper's Table 2: ``none`` (normalized pose only), ``location`` (+u), ``scale`` (+sigma) and
``both`` (the full PoseLifter).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

FEATURE_MODES = ("none", "location", "scale", "both")

#: Below this 2D scale (pixels) a pose is degenerate: all joints on top of each other.
MIN_SCALE_PX = 1e-3


def person_scale(keypoints: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """sigma of eq. 4 for (..., J, 2) keypoints: RMS distance of the joints to their mean."""
    if isinstance(keypoints, torch.Tensor):
        centred = keypoints - keypoints.mean(dim=-2, keepdim=True)
        return centred.pow(2).sum(dim=-1).mean(dim=-1).sqrt()
    centred = keypoints - keypoints.mean(axis=-2, keepdims=True)
    return np.sqrt((centred**2).sum(axis=-1).mean(axis=-1))


def check_keypoints(keypoints: np.ndarray, num_joints: int) -> np.ndarray:
    """Reject input the lifter cannot use, with a message that says why.

    Raises ``ValueError`` for a wrong joint count, NaN/inf coordinates or a degenerate pose
    (sigma ~ 0). Returns the keypoints as a float32 (N, J, 2) array.
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.ndim == 2:
        keypoints = keypoints[None]
    if keypoints.ndim != 3 or keypoints.shape[1:] != (num_joints, 2):
        raise ValueError(f"keypoints must have shape (N, {num_joints}, 2), got {tuple(keypoints.shape)}")
    bad = ~np.isfinite(keypoints).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"keypoints of sample(s) {np.flatnonzero(bad)[:10].tolist()} contain NaN or inf")
    degenerate = person_scale(keypoints) < MIN_SCALE_PX
    if degenerate.any():
        raise ValueError(
            f"degenerate 2D pose in sample(s) {np.flatnonzero(degenerate)[:10].tolist()}: "
            f"all joints coincide (2D scale below {MIN_SCALE_PX} px)"
        )
    return keypoints


class InputNormalization(nn.Module):
    """(B, J, 2) pixel keypoints + (B, 4) intrinsics -> (B, 2J + extra) features."""

    def __init__(self, num_joints: int, features: str = "both", location_unit_px: float = 1000.0,
                 scale_unit_px: float = 100.0) -> None:
        super().__init__()
        if features not in FEATURE_MODES:
            raise ValueError(f"features must be one of {FEATURE_MODES}, got {features!r}")
        self.num_joints = num_joints
        self.features = features
        self.location_unit_px = float(location_unit_px)
        self.scale_unit_px = float(scale_unit_px)

    @property
    def out_features(self) -> int:
        extra = {"none": 0, "location": 2, "scale": 1, "both": 3}[self.features]
        return 2 * self.num_joints + extra

    def forward(self, keypoints: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
        shifted = keypoints - intrinsics[:, None, 2:4]  # eq. 1
        mean = shifted.mean(dim=1, keepdim=True)  # eq. 3
        # eq. 4; the clamp only keeps exported graphs finite, check_keypoints rejects such input.
        scale = (shifted - mean).pow(2).sum(dim=2).mean(dim=1, keepdim=True).sqrt().clamp_min(MIN_SCALE_PX)
        normalized = ((shifted - mean) / scale[:, :, None]).flatten(1)  # eq. 2
        parts = [normalized]
        if self.features in ("location", "both"):
            parts.append(mean[:, 0, :] / self.location_unit_px)
        if self.features in ("scale", "both"):
            parts.append(scale / self.scale_unit_px)
        return torch.cat(parts, dim=1)
