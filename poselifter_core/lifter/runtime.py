"""The lifter on any backend, with the same ``lift`` as :class:`~poselifter_core.lifter.inference.TorchLifter`.

An ONNX export on ONNX Runtime needs neither torch nor ``onnx`` (#16): the config comes from the
file's metadata (:mod:`.metadata`), checks and decoding are numpy; torch is imported only for a
checkpoint or the ``torch`` backend.

Input checks (:func:`prepare_input`) and output decoding (:func:`decode`, numpy) are the lifter's
own, so only the network itself runs on the backend and every backend returns the same
:class:`LiftResult` up to the backend's numerical precision.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..runtime.backend import BackendError, InferenceBackend
from ..runtime.factory import create_backend
from ..skeleton import get_skeleton
from .config import LifterConfig
from .decoding import LiftResult, decode
from .flip import lifter_raw
from .inputs import LifterInput, prepare_input
from .metadata import lifter_signature, read_lifter_config
from .weights import cpu_weights_path


class LifterRuntime:
    def __init__(self, backend: InferenceBackend, config: LifterConfig, batch_size: int = 4096,
                 flip_average: bool = False) -> None:
        self.signature = lifter_signature(config)
        missing = set(self.signature.input_names) - set(backend.input_names)
        if missing or "raw" not in backend.output_names:
            raise BackendError(f"backend {backend.name} does not run a lifter: inputs {backend.input_names}, "
                               f"outputs {backend.output_names}")
        self.backend = backend
        self.config = config
        self.skeleton = get_skeleton(config.skeleton)
        self.batch_size = batch_size
        self.flip_average = flip_average  # lift each pose and its mirror, average (.flip)

    @classmethod
    def from_onnx(cls, onnx_path: str | Path, backend: str = "auto", checkpoint: str | Path | None = None,
                  weights: str = "auto", flip_average: bool = False, **backend_options: Any) -> "LifterRuntime":
        """An exported lifter (``poselifter export``); ``checkpoint`` only enables the ``torch``
        backend. ``weights`` picks what ONNX Runtime runs on the CPU (:mod:`.weights`: by default
        the int8 variant beside the file, when there is one); ``flip_average``: :mod:`.flip`.
        ``backend_options`` go to :func:`create_backend` (cache_dir, precision, ...)."""
        config = read_lifter_config(onnx_path)
        factory = (lambda: _torch_lifter(checkpoint)) if checkpoint is not None else None
        cpu_path = cpu_weights_path(onnx_path, weights) if backend != "torch" else None
        return cls(create_backend(backend, onnx_path, factory, signature=lifter_signature(config), model_name="lifter",
                                  cpu_onnx_path=cpu_path, **backend_options), config, flip_average=flip_average)

    @classmethod
    def from_checkpoint(cls, checkpoint: str | Path, backend: str = "auto", export_dir: str | Path | None = None,
                        flip_average: bool = False, **backend_options: Any) -> "LifterRuntime":
        """A checkpoint on any backend; non-torch backends use an ONNX export kept in
        ``export_dir`` (default: next to the checkpoint), made or remade when needed."""
        from ..runtime.checkpoint_backend import checkpoint_backend  # torch: checkpoints only
        from .checkpoint import checkpoint_config, read_checkpoint
        from .export import export_lifter

        config = checkpoint_config(read_checkpoint(checkpoint))
        return cls(checkpoint_backend(backend, checkpoint, export_lifter, lambda: _torch_lifter(checkpoint),
                                      lifter_signature(config), "lifter", export_dir, **backend_options), config,
                   flip_average=flip_average)

    def lift(self, keypoints: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray | None = None) -> LiftResult:
        """(N, J, 2) pixel keypoints (undistorted), (N, 4) or (4,) ``[fx, fy, cx, cy]`` and an
        optional (N, J) mask (1 observed, 0 missing; None: all observed)."""
        return self.lift_input(prepare_input(keypoints, intrinsics, visible, self.config, self.skeleton))

    def lift_input(self, batch: LifterInput) -> LiftResult:
        """Lift a batch that already meets the lifter's input contract (:class:`LifterInput`)."""
        if len(batch) == 0:  # e.g. a frame without people
            return LiftResult.empty(self.skeleton.num_joints)
        raw = lifter_raw(self._raw, batch, self.skeleton, self.flip_average)
        return decode(raw, batch.keypoints, batch.intrinsics, batch.visible, self.config, self.skeleton)

    def _raw(self, batch: LifterInput) -> np.ndarray:
        """The network's raw output for a checked batch, in chunks of ``batch_size``."""
        inputs = {"keypoints": batch.keypoints, "intrinsics": batch.intrinsics, "visible": batch.visible}
        names = self.signature.input_names
        parts = [self.backend.run({name: inputs[name][s:s + self.batch_size] for name in names})["raw"]
                 for s in range(0, len(batch), self.batch_size)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _torch_lifter(checkpoint: str | Path):
    """The checkpoint's PyTorch module (imports torch: only for the ``torch`` backend)."""
    from .checkpoint import load_lifter

    return load_lifter(checkpoint)[0]
