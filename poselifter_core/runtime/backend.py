"""The backend interface and the factory that picks a backend from a setting.

A backend runs one model: named float32 numpy inputs with a leading batch axis in, named numpy
outputs out. The factory turns a ``backend`` setting into a backend:

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
    """Names of a model's inputs and outputs, in call order; shapes are ``None`` where dynamic."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_shapes: tuple[tuple[int | None, ...], ...] | None = None

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
        """Float32 inputs with a leading batch axis -> float32 outputs, by name."""
        self.signature.check(inputs)
        arrays = {n: np.ascontiguousarray(inputs[n], dtype=np.float32) for n in self.input_names}
        return self._run(arrays)

    def warmup(self, inputs: dict[str, np.ndarray], iterations: int = 3) -> None:
        """Run a few times so lazy initialisation (allocations, kernel selection) is not timed."""
        for _ in range(iterations):
            self.run(inputs)

    @abstractmethod
    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Inputs are checked, contiguous float32 arrays."""


def create_backend(setting: str, onnx_path: str | Path | None, torch_module_factory: Callable[[], "torch.nn.Module"] | None = None,
                   cache_dir: str | Path | None = None, *, signature: Signature | None = None, precision: str = "fp16",
                   max_batch: int = 64, threads: int | None = None, torch_device: str = "cpu",
                   model_name: str = "model") -> InferenceBackend:
    """The backend for ``setting`` (one of :data:`BACKEND_SETTINGS`).

    ``onnx_path`` is the exported model (ONNX Runtime, TensorRT); ``torch_module_factory`` makes
    the PyTorch module (``torch`` backend and last fallback of ``auto``), whose input/output names
    come from ``signature`` or else from the ONNX file. ``cache_dir`` holds TensorRT engines
    (``precision`` ``fp16``/``fp32``, optimisation profile for batch 1..``max_batch``).
    ``threads`` sets ONNX Runtime's intra-op threads (default: physical cores).
    """
    if setting not in BACKEND_SETTINGS:
        raise BackendError(f"unknown backend {setting!r}; choose one of {BACKEND_SETTINGS}")
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
    from .tensorrt_backend import TensorRTBackend, tensorrt_status

    available, reason = tensorrt_status()
    if not available:
        raise BackendError(reason)
    if onnx_path is None or cache_dir is None:
        raise BackendError("TensorRT needs an ONNX file and an engine cache directory")
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
    from .onnx_export import read_signature
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
