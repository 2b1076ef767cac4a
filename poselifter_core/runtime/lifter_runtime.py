"""The lifter on any backend, with the same ``lift`` as :class:`~poselifter_core.lifter.inference.TorchLifter`.

Input checks (:func:`check_keypoints`, intrinsics validation) and output decoding
(:func:`decode_output`) are the lifter's own, so only the network itself runs on the backend and
every backend returns the same :class:`LiftResult` up to the backend's numerical precision.
"""
from __future__ import annotations

import logging
import os
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
from .onnx_export import LIFTER_SIGNATURE, ExportError, export_lifter, file_sha256, read_lifter_config

LOG = logging.getLogger(__name__)


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
        onnx_path = None
        if backend != "torch":
            try:
                onnx_path = ensure_lifter_onnx(checkpoint, export_dir or Path(checkpoint).parent)
            except (ExportError, OSError) as error:
                if backend != "auto":
                    raise BackendError(f"cannot export {checkpoint} to ONNX: {error}") from error
                LOG.warning("cannot export %s to ONNX (%s); only the torch backend remains", checkpoint, error)
        return cls(create_backend(backend, onnx_path, lambda: load_lifter(checkpoint)[0], signature=LIFTER_SIGNATURE,
                                  model_name="lifter", **backend_options), config)

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


def ensure_lifter_onnx(checkpoint: str | Path, export_dir: str | Path) -> Path:
    """The ONNX export of ``checkpoint`` in ``export_dir``, named after the checkpoint's hash.

    A ``.sha256`` file next to it records the export's own hash; a missing, truncated or altered
    export (hash mismatch) is exported again, so a damaged file is replaced, not used.
    """
    checkpoint_sha = file_sha256(checkpoint)
    path = Path(export_dir) / f"{Path(checkpoint).stem}-{checkpoint_sha[:12]}.onnx"
    digest_file = path.with_name(path.name + ".sha256")
    if path.is_file() and digest_file.is_file() and digest_file.read_text().strip() == file_sha256(path):
        return path
    if path.exists():
        LOG.warning("exported lifter %s does not match its recorded hash; exporting it again", path)
    report = export_lifter(checkpoint, path)
    LOG.info("exported %s to %s (max abs error vs PyTorch %.2e)", checkpoint, path, report.max_abs_error)
    tmp = digest_file.with_name(f".{digest_file.name}.{os.getpid()}.tmp")
    tmp.write_text(file_sha256(path) + "\n")
    tmp.replace(digest_file)
    return path
