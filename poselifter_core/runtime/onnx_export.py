"""Export PyTorch models to ONNX with a dynamic batch axis, checked against PyTorch.

:func:`export_onnx` and :func:`export_checked` are generic (any module taking and returning
tensors with a leading batch axis; the 2D estimator's export in :mod:`.pose2d_export` uses them).
:func:`export_lifter` exports a lifter checkpoint with its normalization layer inside the graph,
so the ONNX model takes raw pixel keypoints (B, J, 2) and intrinsics (B, 4) ``[fx, fy, cx, cy]``
and returns the raw (B, 3J - 2) output; the lifter config (skeleton, f0, ...) goes into the
model's ``metadata_props`` so an exported lifter runs without its checkpoint
(:func:`read_lifter_config`).

The TorchScript-based exporter (``dynamo=False``) is used: the torch.export-based one needs the
``onnxscript`` package, which is not a dependency.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch

from .. import __version__
from ..config import from_dict, to_dict
from ..lifter.checkpoint import load_lifter
from ..lifter.model import LifterConfig, PoseLifter
from .backend import BackendError, Signature
from .fusion import fold_batchnorm
from .onnx_model import read_metadata
from .onnxruntime_backend import OnnxRuntimeBackend
from .torch_backend import TorchBackend

DEFAULT_OPSET = 17
LIFTER_SIGNATURE = Signature(("keypoints", "intrinsics"), ("raw",))
META_FORMAT = "poselifter.format"
META_LIFTER_CONFIG = "poselifter.lifter_config"
META_JOINTS = "poselifter.joint_names"
META_CHECKPOINT_SHA256 = "poselifter.checkpoint_sha256"
META_VERSION = "poselifter.package_version"
LIFTER_META_FORMAT = "1"
#: Largest accepted |ONNX Runtime - PyTorch| on the raw lifter output (metres / encoded depth).
DEFAULT_TOLERANCE = 1e-4


class ExportError(ValueError):
    """The export failed or its output does not match PyTorch."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    opset: int
    max_abs_error: float  # over every output element of every parity batch
    parity_batches: tuple[int, ...]


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_onnx(module: torch.nn.Module, example_inputs: dict[str, torch.Tensor], output_names: tuple[str, ...],
                path: str | Path, opset: int = DEFAULT_OPSET, metadata: dict[str, str] | None = None) -> Path:
    """Write ``module`` (eval mode) as ONNX with axis 0 of every input and output dynamic.

    The file is written to a temporary name, checked with ``onnx.checker`` and renamed, so an
    interrupted export never leaves a truncated model behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    names = tuple(example_inputs)
    dynamic_axes = {name: {0: "batch"} for name in names + tuple(output_names)}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter's notice
            torch.onnx.export(module.eval(), tuple(example_inputs.values()), str(tmp), dynamo=False,
                              input_names=list(names), output_names=list(output_names), dynamic_axes=dynamic_axes,
                              opset_version=opset, do_constant_folding=True)
        model = onnx.load(str(tmp))
        if metadata:
            onnx.helper.set_model_props(model, metadata)
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))
        tmp.replace(path)
    except Exception as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, ExportError):
            raise
        raise ExportError(f"ONNX export to {path} failed: {error}") from error
    return path


def parity_error(module: torch.nn.Module, onnx_path: str | Path, batches: list[dict[str, np.ndarray]]) -> float:
    """Largest |ONNX Runtime (CPU) - PyTorch eager| over all outputs of all ``batches``."""
    candidate = OnnxRuntimeBackend(onnx_path, device="cpu")
    reference = TorchBackend(module, candidate.signature)
    worst = 0.0
    for inputs in batches:
        expected, got = reference.run(inputs), candidate.run(inputs)
        for name in candidate.output_names:
            worst = max(worst, float(np.max(np.abs(expected[name] - got[name]))))
    return worst


def export_checked(module: torch.nn.Module, example_inputs: dict[str, torch.Tensor], output_names: tuple[str, ...],
                   out: str | Path, parity_inputs: list[dict[str, np.ndarray]], tolerance: float,
                   opset: int = DEFAULT_OPSET, metadata: dict[str, str] | None = None,
                   reference: torch.nn.Module | None = None, what: str = "model") -> ExportReport:
    """:func:`export_onnx`, then :func:`parity_error` against ``reference`` (default: ``module``
    itself) on ``parity_inputs``. Above ``tolerance`` (or NaN) the file is removed and
    :class:`ExportError` raised."""
    path = export_onnx(module, example_inputs, output_names, out, opset, metadata)
    error = parity_error(module if reference is None else reference, path, parity_inputs)
    if not error <= tolerance:  # also catches NaN
        path.unlink(missing_ok=True)
        raise ExportError(f"exported {what} differs from PyTorch by {error:.3g} (tolerance {tolerance:g}); file removed")
    return ExportReport(path, opset, error, tuple(len(next(iter(b.values()))) for b in parity_inputs))


def random_lifter_inputs(batch: int, num_joints: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random *valid* lifter input: people 20-300 px tall anywhere in a 1280x720-ish image seen
    by cameras with focal lengths of 300-2500 px (the range the lifter is meant for)."""
    centre = rng.uniform([100, 100], [1200, 650], size=(batch, 1, 2))
    scale = rng.uniform(20, 300, size=(batch, 1, 1))
    keypoints = centre + scale * rng.standard_normal((batch, num_joints, 2)) / 3
    fx = rng.uniform(300, 2500, size=batch)
    intrinsics = np.stack([fx, fx * rng.uniform(0.98, 1.02, size=batch), rng.uniform(560, 720, size=batch),
                           rng.uniform(300, 420, size=batch)], axis=1)
    return {"keypoints": keypoints.astype(np.float32), "intrinsics": intrinsics.astype(np.float32)}


def export_lifter_model(model: PoseLifter, out: str | Path, opset: int = DEFAULT_OPSET, parity_batches: tuple[int, ...] = (1, 7, 64),
                        tolerance: float = DEFAULT_TOLERANCE, seed: int = 0, extra_metadata: dict[str, str] | None = None) -> ExportReport:
    """Export a lifter network (BatchNorm folded, see :mod:`.fusion`) and check it against the
    unfolded network on random valid inputs at several batch sizes.

    Raises :class:`ExportError` (and removes the file) when the error exceeds ``tolerance``.
    """
    model = model.cpu().eval()
    joints = model.skeleton.num_joints
    rng = np.random.default_rng(seed)
    example = {k: torch.from_numpy(v) for k, v in random_lifter_inputs(2, joints, rng).items()}
    metadata = {META_FORMAT: LIFTER_META_FORMAT, META_VERSION: __version__,
                META_LIFTER_CONFIG: json.dumps(to_dict(model.config), sort_keys=True),
                META_JOINTS: json.dumps(list(model.skeleton.joint_names)), **(extra_metadata or {})}
    return export_checked(fold_batchnorm(model), example, LIFTER_SIGNATURE.output_names, out,
                          [random_lifter_inputs(b, joints, rng) for b in parity_batches], tolerance, opset, metadata,
                          reference=model, what="lifter")


def export_lifter(checkpoint: str | Path, out: str | Path, opset: int = DEFAULT_OPSET, **options) -> ExportReport:
    """Export a lifter checkpoint; the ONNX records the checkpoint's SHA-256 (see :func:`export_lifter_model`)."""
    model, _ = load_lifter(checkpoint)
    return export_lifter_model(model, out, opset, extra_metadata={META_CHECKPOINT_SHA256: file_sha256(checkpoint)}, **options)


def read_lifter_metadata(onnx_path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an exported lifter; :class:`BackendError` if unreadable or not a lifter."""
    props = read_metadata(onnx_path)
    if props.get(META_FORMAT) != LIFTER_META_FORMAT or META_LIFTER_CONFIG not in props:
        raise BackendError(f"{onnx_path} is not a lifter exported by 'poselifter export' (no {META_LIFTER_CONFIG} metadata)")
    return props


def read_lifter_config(onnx_path: str | Path) -> LifterConfig:
    """The lifter configuration stored in an exported lifter."""
    props = read_lifter_metadata(onnx_path)
    try:
        return from_dict(LifterConfig, json.loads(props[META_LIFTER_CONFIG]))
    except (ValueError, TypeError) as error:
        raise BackendError(f"{onnx_path}: unreadable lifter config metadata: {error}") from error


#: Metadata key marking an exported lifter whose weights were quantised after export.
META_WEIGHTS = "poselifter.weights"


def quantize_lifter_int8(onnx_path: str | Path, out: str | Path) -> Path:
    """Dynamic int8 weight quantisation (per output channel) of an exported lifter, for the CPU.

    Weights are stored as int8 and activations quantised on the fly, which speeds up the
    batch-1 matrix-vector products that dominate the lifter on a CPU. The lifter metadata is kept,
    so :func:`read_lifter_config` and ``LifterRuntime.from_onnx`` work on the result. Accuracy
    changes slightly: check it (``tests/test_shipped_model.py`` does for the shipped model).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    props = read_lifter_metadata(onnx_path)
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    root_logger = logging.getLogger()
    level = root_logger.level
    try:
        root_logger.setLevel(max(level, logging.WARNING))  # the quantiser logs every tensor at INFO on the root logger
        quantize_dynamic(str(onnx_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        model = onnx.load(str(tmp))
        del model.metadata_props[:]
        for key, value in {**props, META_WEIGHTS: "int8 dynamic, per channel"}.items():
            model.metadata_props.add(key=key, value=value)
        onnx.save(model, str(tmp))
        tmp.replace(out)
    finally:
        root_logger.setLevel(level)
        tmp.unlink(missing_ok=True)
    return out
