"""The PoseLifter network (paper section 3.2).

normalization layer (see :mod:`.normalization`) -> Linear(width) -> 2 residual blocks -> Linear(3J - 2)

Output layout, as in the paper: index 0 is the encoded root depth (``LifterConfig.depth_output``,
decoded by :mod:`.decoding`), indices 1.. are the root-relative joints other than the root, in
metres, joint-major (x, y, z per joint).
"""
from __future__ import annotations

import torch
from torch import nn

from ..skeleton import Skeleton, get_skeleton
from .config import LifterConfig, lifter_config_from_dict
from .normalization import InputNormalization

__all__ = ["LifterConfig", "PoseLifter", "ResidualBlock", "lifter_config_from_dict"]


class ResidualBlock(nn.Module):
    """Twice (Linear, BatchNorm, ReLU, Dropout), added to the input (Martinez et al. 2017)."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(2):
            layers += [nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


class PoseLifter(nn.Module):
    def __init__(self, config: LifterConfig) -> None:
        super().__init__()
        self.config = config
        self.skeleton: Skeleton = get_skeleton(config.skeleton)
        joints = self.skeleton.num_joints
        self.normalization = InputNormalization(joints, config.features, config.input_space,
                                                config.location_unit_px, config.scale_unit_px)
        self.input_layer = nn.Linear(self.normalization.out_features, config.width)
        self.blocks = nn.Sequential(*[ResidualBlock(config.width, config.dropout) for _ in range(config.num_blocks)])
        self.output_layer = nn.Linear(config.width, 3 * joints - 2)

    def forward(self, keypoints: torch.Tensor, intrinsics: torch.Tensor, visible: torch.Tensor | None = None) -> torch.Tensor:
        """(B, J, 2) pixel keypoints, (B, 4) intrinsics, (B, J) mask (rays input only; None = all
        observed) -> (B, 3J - 2) raw output, decoded by :func:`.decoding.decode`."""
        features = self.normalization(keypoints, intrinsics, visible)
        return self.output_layer(self.blocks(self.input_layer(features)))
