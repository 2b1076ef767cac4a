"""Which weights of an exported lifter run on the CPU: fp32, or its int8-weight variant beside it.

``poselifter export --int8`` writes ``<name>.int8.onnx`` beside ``<name>.onnx``: the same network
with int8 weights (dynamic quantisation, per output channel), about 4x smaller, several times
faster at batch 1 on a CPU, and within 1 mm MPJPE of fp32 for the shipped lifter (its record and
``tests/test_shipped_model.py``). The int8 file records the SHA-256 of the graph (network and
weights) of the fp32 file it was quantised from (:data:`META_QUANTIZED_FROM`), so a variant left
over from another model is never used for this one.

The setting (``cascade.lifter_weights``, ``--lifter-weights``):

* ``auto`` (default): ONNX Runtime on the CPU runs the int8 variant when one derived from this
  very fp32 file is beside it, else fp32;
* ``fp32``: always the fp32 file;
* ``int8``: as ``auto``, but a missing or foreign variant is an error.

GPU backends (TensorRT, ONNX Runtime CUDA) always run the fp32 file: dynamic int8 quantisation is
a CPU kernel. Reading the choice needs neither torch nor ``onnx`` (the run-time path, #16); the
variant is made at export time only, never while running.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..integrity import INT8_SUFFIX, int8_path
from ..runtime.backend import BackendError
from ..runtime.onnx_metadata import META_WEIGHTS_SHA256, graph_digest, read_metadata

LOG = logging.getLogger(__name__)

LIFTER_WEIGHTS = ("auto", "fp32", "int8")
#: Metadata key of an int8 variant: the :func:`~..runtime.onnx_metadata.graph_digest` of its fp32 source.
META_QUANTIZED_FROM = "poselifter.quantized_from_graph_sha256"


def fp32_path(variant: str | Path) -> Path:
    """The fp32 file an int8 variant stands for (``a.int8.onnx`` -> ``a.onnx``; inverse of :func:`int8_path`)."""
    variant = Path(variant)
    if not variant.name.endswith(INT8_SUFFIX):
        raise ValueError(f"{variant} is not named like an int8 variant (*{INT8_SUFFIX})")
    return variant.with_name(variant.name[:-len(INT8_SUFFIX)] + ".onnx")


def variant_problem(variant: Path, onnx_path: str | Path) -> str:
    """Why ``variant`` is not the int8 variant of ``onnx_path`` ("" when it is).

    The source's graph digest is the one its export recorded (``META_WEIGHTS_SHA256``) when there
    is one: loading the source checks that record against its graph anyway
    (:func:`~..runtime.factory.check_model_file`), so the 17 MB graph is not hashed twice per start."""
    if not variant.is_file():
        return f"no int8 variant at {variant} (make it with 'poselifter export --int8 {onnx_path}')"
    try:
        recorded = read_metadata(variant).get(META_QUANTIZED_FROM)
        source = read_metadata(onnx_path).get(META_WEIGHTS_SHA256) or graph_digest(onnx_path)
    except BackendError as error:
        return str(error)
    if recorded is None or recorded != source:
        return f"{variant} was not quantised from {onnx_path} (its recorded source weights differ)"
    return ""


def cpu_weights_path(onnx_path: str | Path, weights: str = "auto") -> Path | None:
    """The file ONNX Runtime on the CPU should run for the fp32 lifter ``onnx_path`` under the
    ``weights`` setting: its int8 variant, or ``None`` for the fp32 file itself."""
    if weights not in LIFTER_WEIGHTS:
        raise ValueError(f"lifter weights must be one of {LIFTER_WEIGHTS}, got {weights!r}")
    if weights == "fp32" or Path(onnx_path).name.endswith(INT8_SUFFIX):
        return None
    variant = int8_path(onnx_path)
    problem = variant_problem(variant, onnx_path)
    if not problem:
        return variant
    if weights == "int8":
        raise BackendError(f"lifter weights 'int8': {problem}")
    if variant.is_file():
        LOG.warning("lifter: not using %s on the CPU (%s); running the fp32 weights", variant, problem)
    return None
