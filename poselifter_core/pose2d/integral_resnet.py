"""The paper's 2D pose estimator (section 4.1): ResNet + deconvolution head + integral regression.

The backbone is a ResNet without its pooling and classifier (written here: torchvision cannot be
installed beside this torch), followed by three stride-2 deconvolutions and a 1x1 convolution
giving ``J`` heatmaps at 1/4 of the input size (64x64 for the paper's 256x256 crops). Integral
regression turns each heatmap into sub-pixel coordinates: the ReLU'd heatmap, normalised to sum
to one, is a distribution over its cells, and the coordinates are its expectation. Training
minimises MSE on the heatmaps plus L1 on the coordinates.

Coordinates are in input-crop pixels with pixel centres at integers; heatmap cell ``j`` covers
input pixels ``[s*j, s*j + s)`` (``s`` = the stride, 4), so its centre is ``s*(j + 0.5) - 0.5``.

This module is the network, its loss and its checkpoints; :mod:`.integral_estimator` runs it as a
top-down estimator on any inference backend, :mod:`poselifter_core.pose2d.export` exports it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..config import from_dict, to_dict
from ..skeleton import Skeleton, get_skeleton

#: ImageNet statistics in 0-255 units, the usual input normalisation of ResNets.
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)

#: depth -> (block kind, blocks per stage). 10 is a small basic-block net for quick experiments.
RESNET_LAYOUTS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    10: ("basic", (1, 1, 1, 1)),
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


@dataclass
class IntegralResNetConfig:
    """Shape of the network. The paper uses depth 152, width 64, 256 deconv channels, 256 px input."""

    depth: int = 50
    base_width: int = 64
    deconv_channels: int = 256
    num_joints: int = 17
    input_size: int = 256

    def __post_init__(self) -> None:
        if self.depth not in RESNET_LAYOUTS:
            raise ValueError(f"ResNet depth must be one of {sorted(RESNET_LAYOUTS)}, got {self.depth}")
        if self.input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {self.input_size}")
        if min(self.base_width, self.deconv_channels, self.num_joints) < 1:
            raise ValueError("base_width, deconv_channels and num_joints must be positive")

    @property
    def heatmap_size(self) -> int:
        return self.input_size // 4


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels: int, width: int, stride: int) -> None:
        super().__init__()
        out = width * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, out, 3, 1, 1, bias=False), nn.BatchNorm2d(out),
        )
        self.shortcut = _shortcut(in_channels, out, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int) -> None:
        super().__init__()
        out = width * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out),
        )
        self.shortcut = _shortcut(in_channels, out, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))


def soft_argmax(heatmaps: torch.Tensor) -> torch.Tensor:
    """Integral regression: ``(B, J, H, W)`` heatmaps -> ``(B, J, 2)`` expected (x, y) in cells.

    Negative values are clipped (ReLU) before normalising, so a heatmap trained toward a Gaussian
    target gives that Gaussian's centre; an all-zero heatmap gives the map's centre.
    """
    batch, joints, height, width = heatmaps.shape
    weights = torch.relu(heatmaps).reshape(batch, joints, -1) + 1e-12
    weights = weights / weights.sum(dim=-1, keepdim=True)
    xs = torch.arange(width, dtype=heatmaps.dtype, device=heatmaps.device).repeat(height)
    ys = torch.arange(height, dtype=heatmaps.dtype, device=heatmaps.device).repeat_interleave(width)
    return torch.stack([(weights * xs).sum(-1), (weights * ys).sum(-1)], dim=-1)


def cells_to_pixels(cells: torch.Tensor | np.ndarray, stride: int) -> torch.Tensor | np.ndarray:
    """Heatmap cell coordinates -> input pixel coordinates (inverse of :func:`pixels_to_cells`)."""
    return stride * (cells + 0.5) - 0.5


def pixels_to_cells(pixels: torch.Tensor | np.ndarray, stride: int) -> torch.Tensor | np.ndarray:
    return (pixels + 0.5) / stride - 0.5


def gaussian_heatmaps(keypoints: np.ndarray, size: int, stride: int, sigma: float) -> np.ndarray:
    """Target heatmaps ``(J, size, size)`` with unit-peak Gaussians (``sigma`` in cells) at the
    ``(J, 2)`` input-pixel keypoints; rows of NaN give an all-zero map."""
    centres = pixels_to_cells(np.asarray(keypoints, dtype=np.float64), stride)
    grid = np.arange(size, dtype=np.float64)
    dx = (grid[None, :] - centres[:, 0:1]) ** 2
    dy = (grid[None, :] - centres[:, 1:2]) ** 2
    maps = np.exp(-(dy[:, :, None] + dx[:, None, :]) / (2.0 * sigma**2))
    return np.nan_to_num(maps, nan=0.0).astype(np.float32)


class IntegralResNet(nn.Module):
    """``(B, 3, S, S)`` normalised images -> heatmaps ``(B, J, S/4, S/4)`` and coordinates
    ``(B, J, 2)`` in input pixels."""

    def __init__(self, config: IntegralResNetConfig) -> None:
        super().__init__()
        self.config = config
        kind, blocks = RESNET_LAYOUTS[config.depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        width = config.base_width
        layers: list[nn.Module] = [
            nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        ]
        channels = width
        for stage, count in enumerate(blocks):
            stage_width = width * 2**stage
            for i in range(count):
                layers.append(block(channels, stage_width, 2 if (i == 0 and stage > 0) else 1))
                channels = stage_width * block.expansion
        self.backbone = nn.Sequential(*layers)
        head: list[nn.Module] = []
        for _ in range(3):
            head += [
                nn.ConvTranspose2d(channels, config.deconv_channels, 4, 2, 1, bias=False),
                nn.BatchNorm2d(config.deconv_channels), nn.ReLU(inplace=True),
            ]
            channels = config.deconv_channels
        head.append(nn.Conv2d(channels, config.num_joints, 1))
        self.head = nn.Sequential(*head)
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.ConvTranspose2d):
                nn.init.normal_(module.weight, std=0.001)
        final = self.head[-1]
        nn.init.normal_(final.weight, std=0.001)
        nn.init.zeros_(final.bias)

    @property
    def stride(self) -> int:
        return self.config.input_size // self.config.heatmap_size

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        heatmaps = self.head(self.backbone(images))
        return heatmaps, cells_to_pixels(soft_argmax(heatmaps), self.stride)


def integral_loss(
    heatmaps: torch.Tensor,
    coords: torch.Tensor,
    target_heatmaps: torch.Tensor,
    target_coords: torch.Tensor,
    visible: torch.Tensor,
    heatmap_weight: float = 1.0,
    coord_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Section 4.1's loss: MSE on heatmaps + L1 on coordinates (input pixels), over labelled
    joints only (``visible`` ``(B, J)`` bool). Returns the total and its parts for logging."""
    mask = visible.to(heatmaps.dtype)
    count = mask.sum().clamp(min=1.0)
    per_joint_mse = ((heatmaps - target_heatmaps) ** 2).mean(dim=(-2, -1))
    mse = (per_joint_mse * mask).sum() / count
    l1 = ((coords - torch.nan_to_num(target_coords)).abs().sum(-1) * mask).sum() / count
    total = heatmap_weight * mse + coord_weight * l1
    return total, {"heatmap_mse": float(mse.detach()), "coord_l1": float(l1.detach())}


def normalize_crops(crops: np.ndarray, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """``(N, H, W, 3)`` uint8 RGB -> ``(N, 3, H, W)`` float32 normalised network input."""
    x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float()
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def save_checkpoint(path: str | Path, model: IntegralResNet, skeleton: Skeleton, extra: dict | None = None) -> None:
    torch.save(
        {"config": to_dict(model.config), "skeleton": skeleton.name, "state_dict": model.state_dict(), **(extra or {})},
        path,
    )


def load_checkpoint(path: str | Path) -> tuple[IntegralResNet, Skeleton, dict]:
    """Model (in eval mode), its skeleton and the whole checkpoint dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no 2D pose checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt files
        raise ValueError(f"{path} is not a readable 2D pose checkpoint: {error}") from error
    for key in ("config", "skeleton", "state_dict"):
        if not isinstance(checkpoint, dict) or key not in checkpoint:
            raise ValueError(f"{path} is not an integral-ResNet checkpoint: no {key!r}")
    model = IntegralResNet(from_dict(IntegralResNetConfig, checkpoint["config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), get_skeleton(checkpoint["skeleton"]), checkpoint
