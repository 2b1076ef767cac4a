"""ONNX export of the lifter, checked against PyTorch (generic part: :mod:`poselifter_core.runtime.export`).

:func:`export_lifter` exports a lifter checkpoint with its normalization layer inside the graph,
so the ONNX model takes raw pixel keypoints (B, J, 2), intrinsics (B, 4) ``[fx, fy, cx, cy]`` and
(models with the mask, docs/lifter_input.md) the visibility mask ``visible`` (B, J), and returns the
raw (B, 3J - 2) output; the lifter config (skeleton, f0, ...) goes into the
model's ``metadata_props`` so an exported lifter runs without its checkpoint
(:func:`read_lifter_config`).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import onnx
import torch

from .. import __version__
from ..config import to_dict
from ..digest import file_sha256
from ..runtime.export import (
    DEFAULT_OPSET,
    META_CHECKPOINT_SHA256,
    META_FORMAT,
    META_VERSION,
    ExportError,
    ExportReport,
    export_checked,
    record_weights_digest,
)
from ..runtime.fusion import fold_batchnorm
from ..runtime.onnx_metadata import graph_digest
from .checkpoint import load_lifter
from .metadata import (
    LEGACY_LIFTER_SIGNATURE,
    LIFTER_META_FORMAT,
    LIFTER_SIGNATURE,
    META_JOINTS,
    META_LIFTER_CONFIG,
    lifter_signature,
    read_lifter_config,
    read_lifter_metadata,
)
from .model import PoseLifter
from .weights import META_QUANTIZED_FROM

#: The signature and metadata readers live in the torch-free :mod:`.metadata`; exported here too.
__all__ = ["DEFAULT_TOLERANCE", "LEGACY_LIFTER_SIGNATURE", "LIFTER_SIGNATURE", "META_WEIGHTS", "export_lifter",
           "export_lifter_model", "lifter_signature", "quantize_lifter_int8", "random_lifter_inputs",
           "read_lifter_config", "read_lifter_metadata"]

#: Largest accepted |ONNX Runtime - PyTorch| on the raw lifter output (metres / encoded depth).
DEFAULT_TOLERANCE = 1e-4


def random_lifter_inputs(batch: int, num_joints: int, rng: np.random.Generator,
                         missing_fraction: float = 0.0) -> dict[str, np.ndarray]:
    """Random *valid* lifter input: people 20-300 px tall anywhere in a 1280x720-ish image seen
    by cameras with focal lengths of 300-2500 px (the range the lifter is meant for), and a
    ``visible`` mask with about ``missing_fraction`` of the joints missing (at least 5 observed)."""
    centre = rng.uniform([100, 100], [1200, 650], size=(batch, 1, 2))
    scale = rng.uniform(20, 300, size=(batch, 1, 1))
    keypoints = centre + scale * rng.standard_normal((batch, num_joints, 2)) / 3
    fx = rng.uniform(300, 2500, size=batch)
    intrinsics = np.stack([fx, fx * rng.uniform(0.98, 1.02, size=batch), rng.uniform(560, 720, size=batch),
                           rng.uniform(300, 420, size=batch)], axis=1)
    visible = rng.random((batch, num_joints)) >= missing_fraction
    visible[:, :5] = True
    return {"keypoints": keypoints.astype(np.float32), "intrinsics": intrinsics.astype(np.float32),
            "visible": visible.astype(np.float32)}


def export_lifter_model(model: PoseLifter, out: str | Path, opset: int = DEFAULT_OPSET, parity_batches: tuple[int, ...] = (1, 7, 64),
                        tolerance: float = DEFAULT_TOLERANCE, seed: int = 0, extra_metadata: dict[str, str] | None = None) -> ExportReport:
    """Export a lifter network (BatchNorm folded, see :mod:`.fusion`) and check it against the
    unfolded network on random valid inputs at several batch sizes.

    Raises :class:`ExportError` (and removes the file) when the error exceeds ``tolerance``.
    """
    model = model.cpu().eval()
    joints = model.skeleton.num_joints
    rng = np.random.default_rng(seed)
    signature = lifter_signature(model.config)
    missing = 0.3 if model.config.takes_mask else 0.0

    def inputs(batch: int) -> dict[str, np.ndarray]:
        values = random_lifter_inputs(batch, joints, rng, missing)
        return {name: values[name] for name in signature.input_names}

    example = {k: torch.from_numpy(v) for k, v in inputs(2).items()}
    metadata = {META_FORMAT: LIFTER_META_FORMAT, META_VERSION: __version__,
                META_LIFTER_CONFIG: json.dumps(to_dict(model.config), sort_keys=True),
                META_JOINTS: json.dumps(list(model.skeleton.joint_names)), **(extra_metadata or {})}
    return export_checked(fold_batchnorm(model), example, LIFTER_SIGNATURE.output_names, out,
                          [inputs(b) for b in parity_batches], tolerance, opset, metadata,
                          reference=model, what="lifter")


def export_lifter(checkpoint: str | Path, out: str | Path, opset: int = DEFAULT_OPSET, **options) -> ExportReport:
    """Export a lifter checkpoint; the ONNX records the checkpoint's SHA-256 (see :func:`export_lifter_model`)."""
    model, _ = load_lifter(checkpoint)
    return export_lifter_model(model, out, opset, extra_metadata={META_CHECKPOINT_SHA256: file_sha256(checkpoint)}, **options)


#: Metadata key marking an exported lifter whose weights were quantised after export.
META_WEIGHTS = "poselifter.weights"


def quantize_lifter_int8(onnx_path: str | Path, out: str | Path) -> Path:
    """Dynamic int8 weight quantisation (per output channel) of an exported lifter, for the CPU,
    its first and last layers kept fp32.

    Weights are stored as int8 and activations quantised on the fly, which speeds up the
    batch-1 matrix-vector products that dominate the lifter on a CPU. The first layer stays fp32
    because its input, the normalised 2D features with the log scale beside ray coordinates, spans
    ranges that one dynamic uint8 scale per sample cannot hold: quantised, it cost the retrained
    default 4.3 % of root error (MRPE) on clean 2D, fp32 +0.4 % (docs/benchmarks.md, #16); the
    last layer (the outputs, the root depth among them) likewise. Both are small (37 and 49 wide),
    so the speed is the same. The lifter metadata is kept, so :func:`read_lifter_config` and
    ``LifterRuntime.from_onnx`` work on the result, and the source's graph checksum is recorded
    (:data:`~.weights.META_QUANTIZED_FROM`): written to :func:`~.weights.int8_path` of the source,
    it is the variant ONNX Runtime runs on the CPU by default (:mod:`.weights`). Accuracy changes
    slightly: check it (``tests/test_shipped_model.py`` does for the shipped model).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    props = read_lifter_metadata(onnx_path)
    if META_WEIGHTS in props:
        raise ExportError(f"{onnx_path} is already quantised ({props[META_WEIGHTS]})")
    layers = [node.name for node in onnx.load(str(onnx_path)).graph.node if node.op_type in ("Gemm", "MatMul")]
    # the quantiser turns Gemm into MatMul + Add named <name>_MatMul before quantising: exclude both names
    keep_fp32 = [name + suffix for name in (layers[0], layers[-1]) for suffix in ("", "_MatMul")]
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    root_logger = logging.getLogger()
    level = root_logger.level
    try:
        root_logger.setLevel(max(level, logging.WARNING))  # the quantiser logs every tensor at INFO on the root logger
        quantize_dynamic(str(onnx_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=keep_fp32)
        model = onnx.load(str(tmp))
        quantized = sum(node.op_type == "MatMulInteger" for node in model.graph.node)
        if quantized != len(layers) - 2:
            raise ExportError(f"expected {len(layers) - 2} int8 layers (all but the first and last), got {quantized}")
        del model.metadata_props[:]
        for key, value in {**props, META_WEIGHTS: "int8 dynamic, per channel; first and last layers fp32",
                           META_QUANTIZED_FROM: graph_digest(onnx_path)}.items():
            model.metadata_props.add(key=key, value=value)
        onnx.save(model, str(tmp))
        record_weights_digest(tmp)  # new weights, new checksum
        tmp.replace(out)
    finally:
        root_logger.setLevel(level)
        tmp.unlink(missing_ok=True)
    return out
