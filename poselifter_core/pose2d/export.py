"""ONNX export of the paper's 2D estimator (:class:`~poselifter_core.pose2d.integral_resnet.IntegralResNet`).

The exported model takes ``images`` (N, 3, S, S) float32 crops normalised as
:func:`~poselifter_core.pose2d.integral_resnet.normalize_crops` does and returns ``heatmaps``
(N, J, S/4, S/4) and ``coords`` (N, J, 2) in crop pixels; N is dynamic. The exporter folds
eval-mode BatchNorm into the convolutions (the three after the transposed convolutions stay).
The network config and the skeleton go into the
model's ``metadata_props``, so an export runs without its checkpoint
(:func:`read_integral_resnet_metadata`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..config import from_dict, to_dict
from ..digest import file_sha256
from ..runtime.backend import BackendError, Signature
from ..runtime.export import (
    DEFAULT_OPSET,
    META_CHECKPOINT_SHA256,
    META_FORMAT,
    META_VERSION,
    ExportReport,
    export_checked,
)
from ..runtime.onnx_metadata import read_metadata
from ..skeleton import Skeleton, get_skeleton
from .integral_resnet import IntegralResNet, IntegralResNetConfig, load_checkpoint, normalize_crops

INTEGRAL_SIGNATURE = Signature(("images",), ("heatmaps", "coords"))
META_INTEGRAL_CONFIG = "poselifter.integral_resnet_config"
META_SKELETON = "poselifter.skeleton"
INTEGRAL_META_FORMAT = "1"
#: Largest accepted |ONNX Runtime - PyTorch| over heatmaps and coordinates (crop pixels). The
#: soft-argmax sums thousands of cells, so coordinates carry more rounding than the lifter's
#: output: measured 8e-6 (depth 10, 64 px) to 6e-5 (depth 50, 256 px); 0.01 px is still negligible.
DEFAULT_POSE2D_TOLERANCE = 1e-2


def random_crop_inputs(batch: int, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random *valid* network input: uniformly random RGB crops, normalised as at inference."""
    crops = rng.integers(0, 256, size=(batch, size, size, 3), dtype=np.uint8)
    return {"images": normalize_crops(crops).numpy()}


def export_integral_resnet_model(model: IntegralResNet, skeleton: Skeleton, out: str | Path, opset: int = DEFAULT_OPSET,
                                 parity_batches: tuple[int, ...] = (1, 3), tolerance: float = DEFAULT_POSE2D_TOLERANCE,
                                 seed: int = 0, extra_metadata: dict[str, str] | None = None) -> ExportReport:
    """Export the network and check it against PyTorch on random crops at several batch sizes.

    Raises :class:`~poselifter_core.runtime.export.ExportError` (and removes the file) above ``tolerance``.
    """
    if model.config.num_joints != skeleton.num_joints:
        raise ValueError(f"model has {model.config.num_joints} joints, skeleton {skeleton.name} {skeleton.num_joints}")
    model = model.cpu().eval()
    size = model.config.input_size
    rng = np.random.default_rng(seed)
    example = {name: torch.from_numpy(value) for name, value in random_crop_inputs(1, size, rng).items()}
    metadata = {META_FORMAT: INTEGRAL_META_FORMAT, META_VERSION: __version__, META_SKELETON: skeleton.name,
                META_INTEGRAL_CONFIG: json.dumps(to_dict(model.config), sort_keys=True), **(extra_metadata or {})}
    return export_checked(model, example, INTEGRAL_SIGNATURE.output_names, out,
                          [random_crop_inputs(b, size, rng) for b in parity_batches], tolerance, opset, metadata,
                          what="2D estimator")


def export_integral_resnet(checkpoint: str | Path, out: str | Path, opset: int = DEFAULT_OPSET, **options) -> ExportReport:
    """Export a ``poselifter train-2d`` checkpoint; the ONNX records the checkpoint's SHA-256."""
    model, skeleton, _ = load_checkpoint(checkpoint)
    return export_integral_resnet_model(model, skeleton, out, opset,
                                        extra_metadata={META_CHECKPOINT_SHA256: file_sha256(checkpoint)}, **options)


def is_integral_resnet_export(onnx_path: str | Path) -> bool:
    """Whether the file carries the metadata written by :func:`export_integral_resnet_model`."""
    return META_INTEGRAL_CONFIG in read_metadata(onnx_path)


def read_integral_resnet_metadata(onnx_path: str | Path) -> tuple[IntegralResNetConfig, Skeleton]:
    """The network config and skeleton stored in an export; :class:`BackendError` if it is not one."""
    props = read_metadata(onnx_path)
    if props.get(META_FORMAT) != INTEGRAL_META_FORMAT or META_INTEGRAL_CONFIG not in props:
        raise BackendError(f"{onnx_path} is not a 2D estimator exported by 'poselifter export' "
                           f"(no {META_INTEGRAL_CONFIG} metadata)")
    try:
        return from_dict(IntegralResNetConfig, json.loads(props[META_INTEGRAL_CONFIG])), get_skeleton(props[META_SKELETON])
    except (KeyError, ValueError, TypeError) as error:
        raise BackendError(f"{onnx_path}: unreadable 2D estimator metadata: {error}") from error
