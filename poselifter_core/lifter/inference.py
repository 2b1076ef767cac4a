"""Run a trained lifter on numpy arrays: validation of the input, batching, decoding."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_lifter
from .decoding import Lifter, LiftResult, decode
from .flip import lifter_raw
from .inputs import LifterInput, prepare_input
from .model import PoseLifter

__all__ = ["Lifter", "LiftResult", "TorchLifter", "prepare_input"]


class TorchLifter:
    """PyTorch-eager inference over a :class:`PoseLifter`."""

    def __init__(self, model: PoseLifter, device: str | torch.device = "cpu", batch_size: int = 4096,
                 flip_average: bool = False) -> None:
        self.model = model.to(device).eval()
        self.config = model.config
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.flip_average = flip_average  # lift each pose and its mirror, average (.flip)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu",
                        flip_average: bool = False) -> "TorchLifter":
        model, _ = load_lifter(path, device)
        return cls(model, device, flip_average=flip_average)

    @torch.inference_mode()
    def raw(self, keypoints: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """The network's raw output for checked input (:func:`prepare_input`)."""
        parts = []
        for s in range(0, len(keypoints), self.batch_size):
            args = [torch.as_tensor(a[s:s + self.batch_size], device=self.device) for a in (keypoints, intrinsics, visible)]
            parts.append(self.model(*args).cpu().numpy())
        return np.concatenate(parts) if parts else np.zeros((0, 3 * self.model.skeleton.num_joints - 2), np.float32)

    def lift(self, keypoints: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray | None = None) -> LiftResult:
        """(N, J, 2) pixel keypoints (undistorted), (N, 4) or (4,) ``[fx, fy, cx, cy]`` and an
        optional (N, J) mask (1 observed, 0 missing; None: all observed)."""
        return self.lift_input(prepare_input(keypoints, intrinsics, visible, self.model.config, self.model.skeleton))

    def lift_input(self, batch: LifterInput) -> LiftResult:
        """Lift a batch that already meets the lifter's input contract (:class:`LifterInput`)."""
        raw = lifter_raw(lambda b: self.raw(b.keypoints, b.intrinsics, b.visible), batch, self.model.skeleton,
                         self.flip_average)
        return decode(raw, batch.keypoints, batch.intrinsics, batch.visible, self.model.config, self.model.skeleton)
