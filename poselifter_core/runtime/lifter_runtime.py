"""The lifter on any backend, with the same ``lift`` as :class:`~poselifter_core.lifter.inference.TorchLifter`.

Input checks (:func:`check_keypoints`, intrinsics validation) and output decoding
(:func:`decode_output`) are the lifter's own, so only the network itself runs on the backend and
every backend returns the same :class:`LiftResult` up to the backend's numerical precision.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..camera import validate_intrinsics_array
from ..config import from_dict
from ..lifter.checkpoint import load_lifter, read_checkpoint
from ..lifter.inference import LiftResult
from ..lifter.model import LifterConfig, decode_output
from ..lifter.normalization import check_keypoints
from ..skeleton import get_skeleton
from .backend import BackendError, InferenceBackend, create_backend
from .checkpoint_backend import checkpoint_backend
from .onnx_export import LIFTER_SIGNATURE, export_lifter, read_lifter_config


class LifterRuntime:
    def __init__(self, backend: InferenceBackend, config: LifterConfig, batch_size: int = 4096) -> None:
        missing = set(LIFTER_SIGNATURE.input_names) - set(backend.input_names)
        if missing or "raw" not in backend.output_names:
            raise BackendError(f"backend {backend.name} does not run a lifter: inputs {backend.input_names}, "
                               f"outputs {backend.output_names}")
        self.backend = backend
        self.config = config
        self.skeleton = get_skeleton(config.skeleton)
        self.batch_size = batch_size

    @classmethod
    def from_onnx(cls, onnx_path: str | Path, backend: str = "auto", checkpoint: str | Path | None = None,
                  **backend_options: Any) -> "LifterRuntime":
        """An exported lifter (``poselifter export``); ``checkpoint`` only enables the ``torch``
        backend. ``backend_options`` go to :func:`create_backend` (cache_dir, precision, ...)."""
        config = read_lifter_config(onnx_path)
        factory = (lambda: load_lifter(checkpoint)[0]) if checkpoint is not None else None
        return cls(create_backend(backend, onnx_path, factory, signature=LIFTER_SIGNATURE, model_name="lifter",
                                  **backend_options), config)

    @classmethod
    def from_checkpoint(cls, checkpoint: str | Path, backend: str = "auto", export_dir: str | Path | None = None,
                        **backend_options: Any) -> "LifterRuntime":
        """A checkpoint on any backend; non-torch backends use an ONNX export kept in
        ``export_dir`` (default: next to the checkpoint), made or remade when needed."""
        config = from_dict(LifterConfig, read_checkpoint(checkpoint)["lifter_config"])
        return cls(checkpoint_backend(backend, checkpoint, export_lifter, lambda: load_lifter(checkpoint)[0],
                                      LIFTER_SIGNATURE, "lifter", export_dir, **backend_options), config)

    def lift(self, keypoints: np.ndarray, intrinsics: np.ndarray) -> LiftResult:
        """(N, J, 2) pixel keypoints (undistorted) and (N, 4) or (4,) ``[fx, fy, cx, cy]``."""
        keypoints = check_keypoints(keypoints, self.skeleton.num_joints)
        intrinsics = validate_intrinsics_array(intrinsics)
        intrinsics = np.broadcast_to(intrinsics, (len(keypoints), 4)) if intrinsics.ndim == 1 else intrinsics
        if len(intrinsics) != len(keypoints):
            raise ValueError(f"{len(keypoints)} poses but {len(intrinsics)} intrinsics")
        if len(keypoints) == 0:  # e.g. a frame without people
            joints = self.skeleton.num_joints
            return LiftResult(np.zeros((0, joints, 3), np.float32), np.zeros((0, 3), np.float32),
                              np.zeros((0, joints, 3), np.float32), np.zeros(0, np.float32))
        intrinsics = intrinsics.astype(np.float32)
        raw = np.concatenate([
            self.backend.run({"keypoints": keypoints[s:s + self.batch_size], "intrinsics": intrinsics[s:s + self.batch_size]})["raw"]
            for s in range(0, len(keypoints), self.batch_size)])
        out = decode_output(torch.from_numpy(raw), torch.from_numpy(keypoints), torch.from_numpy(intrinsics),
                            self.config, self.skeleton)
        return LiftResult(out.relative.numpy(), out.root.numpy(), out.absolute.numpy(), out.canonical_depth.numpy())
