"""Export PyTorch models to ONNX with a dynamic batch axis, checked against PyTorch.

:func:`export_onnx` and :func:`export_checked` are generic: any module taking and returning tensors
with a leading batch axis. The lifter's export (:mod:`poselifter_core.lifter.export`) and the 2D
estimator's (:mod:`poselifter_core.pose2d.export`) use them and add their own metadata.

The TorchScript-based exporter (``dynamo=False``) is used: the torch.export-based one needs the
``onnxscript`` package, which is not a dependency.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch

from .onnx_metadata import META_CHECKPOINT_SHA256, META_FORMAT, META_VERSION, META_WEIGHTS_SHA256, graph_digest
from .onnxruntime_backend import OnnxRuntimeBackend
from .torch_backend import TorchBackend

__all__ = ["DEFAULT_OPSET", "META_CHECKPOINT_SHA256", "META_FORMAT", "META_VERSION", "ExportError", "ExportReport",
           "export_checked", "export_onnx", "parity_error"]

DEFAULT_OPSET = 17


class ExportError(ValueError):
    """The export failed or its output does not match PyTorch."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    opset: int
    max_abs_error: float  # over every output element of every parity batch
    parity_batches: tuple[int, ...]


def export_onnx(module: torch.nn.Module, example_inputs: dict[str, torch.Tensor], output_names: tuple[str, ...],
                path: str | Path, opset: int = DEFAULT_OPSET, metadata: dict[str, str] | None = None) -> Path:
    """Write ``module`` (eval mode) as ONNX with axis 0 of every input and output dynamic.

    The file is written to a temporary name, checked with ``onnx.checker`` and renamed, so an
    interrupted export never leaves a truncated model behind. Its metadata records the SHA-256 of
    its graph and weights (:func:`record_weights_digest`), checked whenever it is loaded.
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
        record_weights_digest(tmp)
        tmp.replace(path)
    except Exception as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, ExportError):
            raise
        raise ExportError(f"ONNX export to {path} failed: {error}") from error
    return path


def record_weights_digest(path: Path) -> None:
    """Add the SHA-256 of the saved file's graph field to its metadata
    (:data:`~.onnx_metadata.META_WEIGHTS_SHA256`, what :func:`~.onnx_metadata.check_weights`
    compares on load), and check that saving again left the graph bytes as they were."""
    model = onnx.load(str(path))
    digest = graph_digest(path)
    onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props}, META_WEIGHTS_SHA256: digest})
    onnx.save(model, str(path))
    if graph_digest(path) != digest:
        raise ExportError(f"{path}: the graph changed when its metadata was written; cannot record its checksum")


def parity_error(module: torch.nn.Module, onnx_path: str | Path, batches: list[dict[str, np.ndarray]]) -> float:
    """Largest |ONNX Runtime (CPU) - PyTorch eager| over all outputs of all ``batches``; inf when
    either gives a non-finite output on these valid inputs (damaged weights), which no tolerance
    accepts."""
    candidate = OnnxRuntimeBackend(onnx_path, device="cpu")
    reference = TorchBackend(module, candidate.signature)
    worst = 0.0
    for inputs in batches:
        expected, got = reference.run(inputs), candidate.run(inputs)
        for name in candidate.output_names:
            if not (np.all(np.isfinite(expected[name])) and np.all(np.isfinite(got[name]))):
                return float("inf")
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
