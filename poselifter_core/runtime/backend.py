"""The backend interface and the factory that picks a backend from a setting.

A backend runs one model: named numpy inputs with a leading batch axis in, named numpy outputs
out. Each input is cast to the element type the model declares (:attr:`Signature.input_dtypes`:
read from the ONNX file for ONNX Runtime and TensorRT, given by the caller for PyTorch; float32
when not declared), e.g. uint8 images for MoveNet and float32 for the lifter; outputs keep the
type the model produces. The factory turns a ``backend`` setting into a backend:

* ``tensorrt``: a TensorRT engine built from the ONNX file (cached, see :mod:`.engine_cache`);
* ``onnxruntime``: ONNX Runtime with the CUDA execution provider when it can run, else CPU;
  ``onnxruntime-cuda`` / ``onnxruntime-cpu`` force one provider;
* ``torch``: PyTorch eager on the module made by ``torch_module_factory``;
* ``auto``: TensorRT if it imports and a GPU is present, else ONNX Runtime with CUDA, else ONNX
  Runtime on the CPU, else (no usable ONNX file) PyTorch if a module factory was given.

An explicit setting that cannot run raises :class:`BackendError` with the reason; ``auto`` tries
the candidates in order and only raises when none can run. The choice and the reason are logged
once per backend made.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    import torch

LOG = logging.getLogger(__name__)

BACKEND_SETTINGS = ("auto", "tensorrt", "onnxruntime", "onnxruntime-cuda", "onnxruntime-cpu", "torch")


class BackendError(RuntimeError):
    """A backend cannot be made or cannot run; the message says why."""


@dataclass(frozen=True)
class Signature:
    """Names of a model's inputs and outputs, in call order; input shapes (``None`` where dynamic)
    and input element types (numpy dtype names, e.g. ``"uint8"``; all float32 when ``None``)."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_shapes: tuple[tuple[int | None, ...], ...] | None = None
    input_dtypes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for field_name in ("input_shapes", "input_dtypes"):
            values = getattr(self, field_name)
            if values is not None and len(values) != len(self.input_names):
                raise ValueError(f"{field_name} has {len(values)} entries for {len(self.input_names)} inputs")

    @property
    def dtypes(self) -> tuple[np.dtype, ...]:
        """Element type of each input, float32 where none is declared."""
        if self.input_dtypes is None:
            return (np.dtype(np.float32),) * len(self.input_names)
        return tuple(np.dtype(d) for d in self.input_dtypes)

    def check(self, inputs: dict[str, np.ndarray]) -> None:
        """Raise ``ValueError`` naming the problem when ``inputs`` do not fit this signature."""
        missing = [n for n in self.input_names if n not in inputs]
        unexpected = [n for n in inputs if n not in self.input_names]
        if missing or unexpected:
            raise ValueError(f"model inputs are {list(self.input_names)}; missing {missing}, unexpected {unexpected}")
        batch = {np.shape(inputs[n])[0] if np.ndim(inputs[n]) else None for n in self.input_names}
        if len(batch) != 1 or None in batch:
            raise ValueError(f"all inputs need the same leading batch size, got "
                             f"{ {n: np.shape(inputs[n]) for n in self.input_names} }")
        for name, shape in zip(self.input_names, self.input_shapes or ()):
            got = np.shape(inputs[name])
            if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
                expected = tuple("N" if s is None else s for s in shape)
                raise ValueError(f"input {name!r} must have shape {expected}, got {got}")

    def cast(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each input as a contiguous array of its declared type (see :func:`cast_input`)."""
        return {name: cast_input(name, inputs[name], dtype) for name, dtype in zip(self.input_names, self.dtypes)}


def cast_input(name: str, value: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``value`` as a contiguous ``dtype`` array when that loses nothing a model could need.

    Allowed: integer -> integer when every value fits (a list of pixel values gives int64; a
    uint8 image fits an int32 input), and numpy's ``same_kind`` casts otherwise (float64 ->
    float32, integers -> floats). Anything else (floats -> integers, out-of-range integers,
    strings, objects) raises ``ValueError`` naming the input.
    """
    array = np.asarray(value)
    if array.dtype == dtype:
        return np.ascontiguousarray(array)
    if array.dtype.kind in "biu" and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if array.size and not np.can_cast(array.dtype, dtype) and not info.min <= array.min() <= array.max() <= info.max:
            raise ValueError(f"input {name!r} is {dtype} (values in [{info.min}, {info.max}]), got {array.dtype} "
                             f"values in [{array.min()}, {array.max()}]")
    elif not np.can_cast(array.dtype, dtype, casting="same_kind"):
        raise ValueError(f"input {name!r} must be {dtype} (or cast to it without loss), got {array.dtype}")
    return np.ascontiguousarray(array, dtype=dtype)


class InferenceBackend(ABC):
    """Runs one model. Subclasses implement :meth:`_run`; :meth:`run` checks the inputs first."""

    #: Short description of what runs, e.g. ``onnxruntime-cpu`` or ``tensorrt-fp16``.
    name: str = "backend"

    def __init__(self, signature: Signature) -> None:
        self.signature = signature

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.signature.input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.signature.output_names

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Inputs with a leading batch axis, cast to their declared types -> outputs, by name, as
        the model produces them."""
        self.signature.check(inputs)
        return self._run(self.signature.cast(inputs))

    def warmup(self, inputs: dict[str, np.ndarray], iterations: int = 3) -> None:
        """Run a few times so lazy initialisation (allocations, kernel selection) is not timed."""
        for _ in range(iterations):
            self.run(inputs)

    @abstractmethod
    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Inputs are checked, contiguous arrays of the declared types."""


def create_backend(setting: str, onnx_path: str | Path | None, torch_module_factory: Callable[[], "torch.nn.Module"] | None = None,
                   cache_dir: str | Path | None = None, *, signature: Signature | None = None, precision: str = "fp16",
                   max_batch: int = 64, threads: int | None = None, torch_device: str = "cpu",
                   model_name: str = "model") -> InferenceBackend:
    """The backend for ``setting`` (one of :data:`BACKEND_SETTINGS`).

    ``onnx_path`` is the exported model (ONNX Runtime, TensorRT); ``torch_module_factory`` makes
    the PyTorch module (``torch`` backend and last fallback of ``auto``), whose input/output names
    come from ``signature`` or else from the ONNX file. ``cache_dir`` holds TensorRT engines
    (``precision`` ``fp16``/``fp32``, optimisation profile for batch 1..``max_batch``).
    Without ``cache_dir``, :func:`~.engine_cache.default_cache_dir` is used.
    ``threads`` sets ONNX Runtime's intra-op threads (default: physical cores). A model that
    exists only as ONNX (no ``torch_module_factory``) and whose file is missing raises
    ``FileNotFoundError``.
    """
    if setting not in BACKEND_SETTINGS:
        raise BackendError(f"unknown backend {setting!r}; choose one of {BACKEND_SETTINGS}")
    if torch_module_factory is None and onnx_path is not None and not Path(onnx_path).is_file():
        raise FileNotFoundError(f"{model_name}: no ONNX model file at {onnx_path}")
    candidates = {
        "tensorrt": lambda: _tensorrt(onnx_path, cache_dir, precision, max_batch),
        "onnxruntime-cuda": lambda: _onnxruntime(onnx_path, "cuda", threads),
        "onnxruntime-cpu": lambda: _onnxruntime(onnx_path, "cpu", threads),
        "torch": lambda: _torch(torch_module_factory, signature, onnx_path, torch_device),
    }
    if setting == "onnxruntime":
        order, strict = ["onnxruntime-cuda", "onnxruntime-cpu"], False
    elif setting == "auto":
        order, strict = ["tensorrt", "onnxruntime-cuda", "onnxruntime-cpu", "torch"], False
    else:
        order, strict = [setting], True
    skipped: list[str] = []
    for candidate in order:
        try:
            backend = candidates[candidate]()
        except BackendError as error:
            if strict:
                raise BackendError(f"{model_name}: backend {setting!r} cannot run: {error}") from error
            skipped.append(f"{candidate}: {error}")
            continue
        reason = "requested" if strict else f"{setting}; " + ("first choice" if not skipped else "skipped " + "; ".join(skipped))
        LOG.info("%s: using backend %s (%s)", model_name, backend.name, reason)
        return backend
    raise BackendError(f"{model_name}: no backend for setting {setting!r} can run: " + "; ".join(skipped))


def _tensorrt(onnx_path: str | Path | None, cache_dir: str | Path | None, precision: str, max_batch: int) -> InferenceBackend:
    from .engine_cache import default_cache_dir
    from .tensorrt_backend import TensorRTBackend, tensorrt_status

    available, reason = tensorrt_status()
    if not available:
        raise BackendError(reason)
    if onnx_path is None:
        raise BackendError("TensorRT needs an ONNX file")
    cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
    try:
        return TensorRTBackend(onnx_path, cache_dir, precision=precision, max_batch=max_batch)
    except BackendError:
        raise
    except Exception as error:  # TensorRT and CUDA raise RuntimeError, MemoryError, ...: report, let auto fall back
        raise BackendError(f"TensorRT backend failed: {type(error).__name__}: {error}") from error


def _onnxruntime(onnx_path: str | Path | None, device: str, threads: int | None) -> InferenceBackend:
    from .onnxruntime_backend import OnnxRuntimeBackend

    if onnx_path is None:
        raise BackendError("ONNX Runtime needs an ONNX file")
    return OnnxRuntimeBackend(onnx_path, device=device, threads=threads)


def _torch(factory: Callable[[], "torch.nn.Module"] | None, signature: Signature | None, onnx_path: str | Path | None,
           device: str) -> InferenceBackend:
    from .onnx_model import read_signature
    from .torch_backend import TorchBackend

    if factory is None:
        raise BackendError("the torch backend needs the PyTorch model (a checkpoint), not only an ONNX file")
    if signature is None:
        if onnx_path is None:
            raise BackendError("the torch backend needs the model's input/output names (signature or ONNX file)")
        signature = read_signature(onnx_path)
    try:
        module = factory()
    except (ValueError, OSError) as error:  # e.g. a missing or corrupt checkpoint
        raise BackendError(f"cannot make the PyTorch model: {error}") from error
    return TorchBackend(module, signature, device=device)
