"""ONNX Runtime backend (CPU or CUDA execution provider), for every model (lifter and 2D).

Sessions are made under the process's one thread policy (:mod:`.threads`): all graph
optimisations (Gemm+ReLU fusion among them), sequential execution, intra-op threads from the
physical cores, spinning off. Needs neither ``onnx`` nor torch: the run-time path imports only
ONNX Runtime (#16).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import EPFail, Fail, InvalidArgument, RuntimeException

from .backend import BackendError, InferenceBackend, Signature
from .threads import session_options

_PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
#: What ``InferenceSession.run`` raises when the model cannot run on the inputs (a kernel's failure,
#: an allocation, the execution provider): ONNX Runtime's own classes, subclasses of Exception only.
_RUN_ERRORS = (Fail, InvalidArgument, RuntimeException, EPFail)

#: ONNX Runtime's tensor element type names -> numpy dtypes (the numeric ones a backend takes).
_NUMPY_TYPES = {"float": "float32", "double": "float64", "float16": "float16", "int8": "int8", "uint8": "uint8",
                "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32", "int64": "int64",
                "uint64": "uint64", "bool": "bool"}


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
        """The outputs; a run ONNX Runtime fails on is a BackendError, as TensorRT's."""
        try:
            outputs = self.session.run(list(self.output_names), inputs)
        except _RUN_ERRORS as error:
            raise BackendError(f"{self.name} failed to run {self.path}: {error}") from error
        return dict(zip(self.output_names, outputs))


def _numpy_dtype(ort_type: str, where: str) -> str:
    """ONNX Runtime's ``tensor(uint8)``-style type string -> numpy dtype name."""
    if not (ort_type.startswith("tensor(") and ort_type.endswith(")")):
        raise BackendError(f"{where} is {ort_type}; backends take tensors")
    element = ort_type[len("tensor("):-1]
    if element not in _NUMPY_TYPES:
        raise BackendError(f"{where}: element type {element} is not numeric or not supported; backends take "
                           f"numeric tensors ({', '.join(_NUMPY_TYPES)})")
    return _NUMPY_TYPES[element]
