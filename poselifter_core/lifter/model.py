"""The PoseLifter network (paper section 3.2) and the decoding of its output.

normalization layer (2J -> 2J+3) -> Linear(width) -> 2 residual blocks -> Linear(3J - 2)

Output layout, as in the paper: index 0 is the encoded root depth (see
:mod:`.canonical_depth`), indices 1.. are the root-relative joints other than the root, in metres,
joint-major (x, y, z per joint).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..skeleton import Skeleton, get_skeleton
from .canonical_depth import MM_PER_M, absolute_root, decode_root_depth
from .normalization import InputNormalization


@dataclass
class LifterConfig:
    """Architecture and output-encoding settings; stored in every checkpoint."""

    skeleton: str = "h36m17"
    width: int = 1024  # 4096 in the paper; 1024 runs in real time on a CPU
    num_blocks: int = 2
    dropout: float = 0.5
    features: str = "both"  # none | location | scale | both (Table 2 ablations)
    canonical_depth: bool = True  # False trains the raw-depth ablation of Table 6
    f0: float = 1000.0  # reference focal length (px) of the encoded canonical depth
    location_unit_px: float = 1000.0
    scale_unit_px: float = 100.0


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


@dataclass
class LiftOutput:
    """Decoded lifter output for a batch; all 3D values in camera-frame millimetres."""

    encoded_depth: torch.Tensor  # (B,) network output 0
    canonical_depth: torch.Tensor  # (B,) Rz / alpha (mm per pixel of focal length), eq. 7
    relative: torch.Tensor  # (B, J, 3) root-relative joints, root row zero
    root: torch.Tensor  # (B, 3) absolute root, eqs. 6-7
    absolute: torch.Tensor  # (B, J, 3) root + relative


class PoseLifter(nn.Module):
    def __init__(self, config: LifterConfig) -> None:
        super().__init__()
        self.config = config
        self.skeleton: Skeleton = get_skeleton(config.skeleton)
        joints = self.skeleton.num_joints
        self.normalization = InputNormalization(joints, config.features, config.location_unit_px, config.scale_unit_px)
        self.input_layer = nn.Linear(self.normalization.out_features, config.width)
        self.blocks = nn.Sequential(*[ResidualBlock(config.width, config.dropout) for _ in range(config.num_blocks)])
        self.output_layer = nn.Linear(config.width, 3 * joints - 2)

    def forward(self, keypoints: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
        """(B, J, 2) pixel keypoints, (B, 4) intrinsics -> (B, 3J - 2) raw output."""
        features = self.normalization(keypoints, intrinsics)
        return self.output_layer(self.blocks(self.input_layer(features)))

    def decode(self, raw: torch.Tensor, keypoints: torch.Tensor, intrinsics: torch.Tensor) -> LiftOutput:
        """Turn raw outputs into absolute poses (mm) using the root's 2D position and the focal length."""
        return decode_output(raw, keypoints, intrinsics, self.config, self.skeleton)


def decode_output(raw: torch.Tensor, keypoints: torch.Tensor, intrinsics: torch.Tensor, config: LifterConfig,
                  skeleton: Skeleton) -> LiftOutput:
    """Decoding shared by every backend (PyTorch, ONNX Runtime, TensorRT) so they agree exactly."""
    encoded = raw[:, 0]
    relative = insert_root(raw[:, 1:].reshape(len(raw), -1, 3) * MM_PER_M, skeleton.root)
    root_z = decode_root_depth(encoded, intrinsics, config.f0, config.canonical_depth)
    root = absolute_root(keypoints[:, skeleton.root], root_z, intrinsics)
    alpha = torch.sqrt(intrinsics[:, 0] * intrinsics[:, 1])
    return LiftOutput(encoded, root_z / alpha, relative, root, root[:, None, :] + relative)


def insert_root(non_root: torch.Tensor, root: int) -> torch.Tensor:
    """(B, J-1, 3) -> (B, J, 3) with a zero row at the root index."""
    zeros = torch.zeros_like(non_root[:, :1])
    return torch.cat([non_root[:, :root], zeros, non_root[:, root:]], dim=1)


def remove_root(joints: torch.Tensor, root: int) -> torch.Tensor:
    """(B, J, 3) -> (B, J-1, 3) without the root row."""
    return torch.cat([joints[:, :root], joints[:, root + 1:]], dim=1)
