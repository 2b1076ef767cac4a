"""The paper's 2D network (:class:`~.integral_resnet.IntegralResNet`) as a top-down estimator on any backend.

It runs from a ``poselifter train-2d`` checkpoint (the ``torch`` backend runs the checkpoint, the
others its ONNX export, made next to the checkpoint when needed) or from an export written by
``poselifter export`` (config and skeleton are in its metadata). Keypoint scores are the heatmap
peaks, clipped to [0, 1] (targets peak at 1 where a joint is, so a flat map means "not found").
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..runtime.backend import BackendError, InferenceBackend
from ..runtime.checkpoint_backend import checkpoint_backend
from ..runtime.factory import create_backend
from ..runtime.torch_backend import TorchBackend
from ..skeleton import Skeleton
from .export import INTEGRAL_SIGNATURE, export_integral_resnet, read_integral_resnet_metadata
from .integral_resnet import IntegralResNet, IntegralResNetConfig, load_checkpoint, normalize_crops
from .topdown import TopDownEstimator

MODEL_NAME = "2D integral ResNet"


class IntegralPoseEstimator(TopDownEstimator):
    """Runs an integral-regression ResNet on ``config.input_size`` square crops through ``backend``."""

    def __init__(self, backend: InferenceBackend, config: IntegralResNetConfig, skeleton: Skeleton,
                 padding: float = 1.25) -> None:
        if config.num_joints != skeleton.num_joints:
            raise ValueError(f"model has {config.num_joints} joints, skeleton {skeleton.name} {skeleton.num_joints}")
        if backend.input_names != INTEGRAL_SIGNATURE.input_names or not set(INTEGRAL_SIGNATURE.output_names) <= set(backend.output_names):
            raise BackendError(f"backend {backend.name} does not run an integral ResNet: inputs {backend.input_names}, "
                               f"outputs {backend.output_names}")
        super().__init__(skeleton, (config.input_size, config.input_size), padding)
        self.backend = backend
        self.config = config

    @classmethod
    def from_model(cls, model: IntegralResNet, skeleton: Skeleton, padding: float = 1.25,
                   device: str = "cpu") -> "IntegralPoseEstimator":
        """A network in memory (e.g. just trained), run by PyTorch."""
        return cls(TorchBackend(model, INTEGRAL_SIGNATURE, device), model.config, skeleton, padding)

    @classmethod
    def from_checkpoint(cls, path: str | Path, padding: float = 1.25, backend: str = "auto",
                        export_dir: str | Path | None = None, **backend_options: Any) -> "IntegralPoseEstimator":
        """A ``poselifter train-2d`` checkpoint on ``backend``; non-torch backends use an ONNX
        export kept in ``export_dir`` (default: next to the checkpoint). ``backend_options`` go
        to :func:`~poselifter_core.runtime.factory.create_backend` (threads, cache_dir, ...)."""
        model, skeleton, _ = load_checkpoint(path)
        runner = checkpoint_backend(backend, path, export_integral_resnet, lambda: model, INTEGRAL_SIGNATURE,
                                    MODEL_NAME, export_dir, **backend_options)
        return cls(runner, model.config, skeleton, padding)

    @classmethod
    def from_onnx(cls, path: str | Path, padding: float = 1.25, backend: str = "auto",
                  checkpoint: str | Path | None = None, **backend_options: Any) -> "IntegralPoseEstimator":
        """An export written by ``poselifter export``; ``checkpoint`` only enables the ``torch`` backend."""
        config, skeleton = read_integral_resnet_metadata(path)
        factory = (lambda: load_checkpoint(checkpoint)[0]) if checkpoint is not None else None
        runner = create_backend(backend, path, factory, signature=INTEGRAL_SIGNATURE, model_name=MODEL_NAME,
                                **backend_options)
        return cls(runner, config, skeleton, padding)

    def predict_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        outputs = self.backend.run({"images": normalize_crops(crops).numpy()})
        heatmaps, coords = outputs["heatmaps"], outputs["coords"]
        scores = np.clip(heatmaps.reshape(*heatmaps.shape[:2], -1).max(-1), 0.0, 1.0).astype(np.float64)
        return coords.astype(np.float64), scores, scores.mean(axis=1)
