"""ONNX Runtime backend (CPU or CUDA execution provider), for every model (lifter and 2D).

:func:`session_options` is the one place where ONNX Runtime threads are set. The options were
chosen for small MLPs at small batch, where per-call overhead matters: all graph
optimisations (Gemm+ReLU fusion among them), sequential execution, one inter-op thread and as
many intra-op threads as physical cores (hyper-threads share the FMA units and only add
synchronisation cost).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from .backend import BackendError, InferenceBackend, Signature
from .onnx_model import numpy_dtype

LOG = logging.getLogger(__name__)

_PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def physical_cores() -> int:
    """Physical cores this process may run on (``/proc/cpuinfo`` core ids), at least 1."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    cores: set[tuple[str, str]] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            processor, package = None, "0"
            for line in stream:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "processor":
                    processor = int(value)
                elif key == "physical id":
                    package = value
                elif key == "core id" and processor in allowed:
                    cores.add((package, value))
    except (OSError, ValueError):
        pass
    return max(1, len(cores) or len(allowed))


def session_options(threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or physical_cores()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only; fallbacks are reported by this package
    return options


class OnnxRuntimeBackend(InferenceBackend):
    def __init__(self, onnx_path: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        if device not in _PROVIDERS:
            raise BackendError(f"ONNX Runtime device must be one of {sorted(_PROVIDERS)}, got {device!r}")
        path = Path(onnx_path)
        if not path.is_file():
            raise BackendError(f"no ONNX file at {path}")
        provider = _PROVIDERS[device]
        if provider not in ort.get_available_providers():
            raise BackendError(f"ONNX Runtime {ort.__version__} has no {provider} (installed providers: "
                               f"{ort.get_available_providers()}; CUDA needs the onnxruntime-gpu package)")
        providers = [provider] if device == "cpu" else [provider, _PROVIDERS["cpu"]]
        try:
            self.session = ort.InferenceSession(str(path), session_options(threads), providers=providers)
        except Exception as error:  # onnxruntime raises its own Exception subclasses (InvalidProtobuf, Fail, ...)
            raise BackendError(f"{path} is not a loadable ONNX model: {error}") from error
        if self.session.get_providers()[0] != provider:
            # ONNX Runtime silently falls back to the CPU when the CUDA provider cannot start (no GPU, no driver).
            raise BackendError(f"{provider} is installed but could not start (no usable GPU or CUDA libraries)")
        inputs = self.session.get_inputs()
        shapes = tuple(tuple(d if isinstance(d, int) else None for d in node.shape) for node in inputs)
        dtypes = tuple(_numpy_dtype(node.type, f"{path}: input {node.name!r}") for node in inputs)
        super().__init__(Signature(tuple(n.name for n in inputs), tuple(o.name for o in self.session.get_outputs()),
                                   shapes, dtypes))
        self.name = f"onnxruntime-{device}"
        self.path = path

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self.session.run(list(self.output_names), inputs)
        return dict(zip(self.output_names, outputs))


def _numpy_dtype(ort_type: str, where: str) -> str:
    """ONNX Runtime's ``tensor(uint8)``-style type string -> numpy dtype name, via ONNX's own table."""
    if not (ort_type.startswith("tensor(") and ort_type.endswith(")")):
        raise BackendError(f"{where} is {ort_type}; backends take tensors")
    try:
        elem_type = onnx.TensorProto.DataType.Value(ort_type[len("tensor("):-1].upper())
    except ValueError as error:
        raise BackendError(f"{where}: unknown element type {ort_type}") from error
    return numpy_dtype(elem_type, where)
