"""The normalization layer of PoseLifter, the first layer of the network (docs/lifter_input.md).

Two input spaces (``LifterConfig.input_space``):

``rays`` (the default since #18): focal-normalized rays ``r_i = ((u_i - cx) / fx, (v_i - cy) / fy)``
(eq. 1 divided by the focal length, so image size and focal length cancel) and a per-joint
visibility mask ``w_i`` (1 observed, 0 missing). Location and scale come from the observed joints
only: ``mu = sum w_i r_i / n`` (eq. 3), ``sigma = sqrt(sum w_i ||r_i - mu||^2 / n)`` (eq. 4). The
features are ``w_i (r_i - mu) / sigma`` (2J), ``w`` (J), ``mu`` (2) and ``ln sigma`` (1); a missing
joint's coordinates never reach the network.

``pixels`` (checkpoints written before #18): the paper's eqs. 1-4 in pixels, every joint observed;
``mu`` and ``sigma`` are divided by ``location_unit_px`` and ``scale_unit_px``.

The ``features`` option selects the ablations of the paper's Table 2: ``none`` (normalized pose
only), ``location`` (+mu), ``scale`` (+sigma) and ``both`` (the full PoseLifter).

:func:`rays`, :func:`observed_statistics` and the input checks live in the torch-free
:mod:`.inputs` (written once for numpy arrays and torch tensors); this module is the torch layer.
"""
from __future__ import annotations

import torch
from torch import nn

from .inputs import (
    FEATURE_MODES,
    INPUT_SPACES,
    MIN_OBSERVED_JOINTS,
    MIN_SCALE_PX,
    MIN_SCALE_RAY,
    check_keypoints,
    check_visible,
    observed_statistics,
    person_scale,
    rays,
)

__all__ = ["FEATURE_MODES", "INPUT_SPACES", "MIN_OBSERVED_JOINTS", "MIN_SCALE_PX", "MIN_SCALE_RAY", "InputNormalization",
           "check_keypoints", "check_visible", "observed_statistics", "person_scale", "rays"]

class InputNormalization(nn.Module):
    """(B, J, 2) pixel keypoints + (B, 4) intrinsics (+ (B, J) mask) -> (B, features) network input."""

    def __init__(self, num_joints: int, features: str = "both", input_space: str = "rays",
                 location_unit_px: float = 1000.0, scale_unit_px: float = 100.0) -> None:
        super().__init__()
        if features not in FEATURE_MODES:
            raise ValueError(f"features must be one of {FEATURE_MODES}, got {features!r}")
        if input_space not in INPUT_SPACES:
            raise ValueError(f"input_space must be one of {INPUT_SPACES}, got {input_space!r}")
        self.num_joints = num_joints
        self.features = features
        self.input_space = input_space
        self.location_unit_px = float(location_unit_px)
        self.scale_unit_px = float(scale_unit_px)

    @property
    def out_features(self) -> int:
        extra = {"none": 0, "location": 2, "scale": 1, "both": 3}[self.features]
        mask = self.num_joints if self.input_space == "rays" else 0
        return 2 * self.num_joints + mask + extra

    def forward(self, keypoints: torch.Tensor, intrinsics: torch.Tensor, visible: torch.Tensor | None = None) -> torch.Tensor:
        if self.input_space == "pixels":
            return self._pixels(keypoints, intrinsics)
        if visible is None:
            visible = torch.ones_like(keypoints[..., 0])
        observed = visible[..., None] > 0
        points = torch.where(observed, rays(keypoints, intrinsics), torch.zeros_like(keypoints))
        mu, sigma = observed_statistics(points, visible)
        sigma = sigma.clamp_min(MIN_SCALE_RAY)
        normalized = (points - mu[:, None, :]) / sigma[:, None, None] * visible[..., None]
        parts = [normalized.flatten(1), visible]
        if self.features in ("location", "both"):
            parts.append(mu)
        if self.features in ("scale", "both"):
            parts.append(torch.log(sigma)[:, None])
        return torch.cat(parts, dim=1)

    def _pixels(self, keypoints: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
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
