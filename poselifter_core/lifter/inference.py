"""Run a trained lifter on numpy arrays: validation of the input, batching, decoding."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ..camera import validate_intrinsics_array
from .checkpoint import load_lifter
from .model import PoseLifter
from .normalization import check_keypoints


@dataclass
class LiftResult:
    """Per-sample results in camera-frame millimetres (x right, y down, z forward)."""

    relative: np.ndarray  # (N, J, 3) root-relative joints
    root: np.ndarray  # (N, 3) absolute root
    absolute: np.ndarray  # (N, J, 3)
    canonical_depth: np.ndarray  # (N,) root depth / sqrt(fx fy), mm per pixel of focal length


class Lifter(Protocol):
    """Anything that lifts like :class:`TorchLifter` (e.g. ``runtime.LifterRuntime`` on any backend)."""

    def lift(self, keypoints: np.ndarray, intrinsics: np.ndarray) -> LiftResult: ...


class TorchLifter:
    """PyTorch-eager inference over a :class:`PoseLifter`."""

    def __init__(self, model: PoseLifter, device: str | torch.device = "cpu", batch_size: int = 4096) -> None:
        self.model = model.to(device).eval()
        self.device = torch.device(device)
        self.batch_size = batch_size

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> "TorchLifter":
        model, _ = load_lifter(path, device)
        return cls(model, device)

    @torch.inference_mode()
    def lift(self, keypoints: np.ndarray, intrinsics: np.ndarray) -> LiftResult:
        """(N, J, 2) pixel keypoints (undistorted) and (N, 4) or (4,) ``[fx, fy, cx, cy]``."""
        keypoints = check_keypoints(keypoints, self.model.skeleton.num_joints)
        intrinsics = validate_intrinsics_array(intrinsics)
        intrinsics = np.tile(intrinsics, (len(keypoints), 1)) if intrinsics.ndim == 1 else intrinsics
        if len(intrinsics) != len(keypoints):
            raise ValueError(f"{len(keypoints)} poses but {len(intrinsics)} intrinsics")
        parts = []
        for start in range(0, len(keypoints), self.batch_size):
            kp = torch.as_tensor(keypoints[start:start + self.batch_size], device=self.device)
            k = torch.as_tensor(intrinsics[start:start + self.batch_size], dtype=torch.float32, device=self.device)
            parts.append(self.model.decode(self.model(kp, k), kp, k))
        cat = lambda name: torch.cat([getattr(p, name) for p in parts]).cpu().numpy()  # noqa: E731
        return LiftResult(cat("relative"), cat("root"), cat("absolute"), cat("canonical_depth"))
