"""The selection policy: the factory that turns a ``backend`` setting into a backend.

* ``tensorrt``: a TensorRT engine built from the ONNX file (cached, see :mod:`.engine_cache`);
* ``onnxruntime``: ONNX Runtime with the CUDA execution provider when it can run, else CPU;
  ``onnxruntime-cuda`` / ``onnxruntime-cpu`` force one provider;
* ``torch``: PyTorch eager on the module made by ``torch_module_factory``;
* ``auto``: TensorRT if it imports and a GPU is present, else ONNX Runtime with CUDA, else ONNX
  Runtime on the CPU, else (no usable ONNX file) PyTorch if a module factory was given.

ONNX Runtime on the CPU may run another file than the GPU backends (``cpu_onnx_path``: the
lifter's int8-weight variant, see :mod:`poselifter_core.lifter.weights`).

Before any backend is made, the ONNX file is checked (:func:`check_model_file`): a shipped file
against its recorded SHA-256, an export against the weights checksum in its metadata. A file that
parses but fails these checks is a :class:`BackendError` whatever the setting, never a fallback
(its numbers would be wrong); one that does not parse at all is each ONNX backend's error.

An explicit setting that cannot run raises :class:`BackendError` with the reason; ``auto`` tries
the candidates in order and only raises when none can run. The choice and the reason are logged
once per backend made, and kept on it as :attr:`~.backend.InferenceBackend.choice` (a run's
record says what ran).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .backend import BackendChoice, BackendError, InferenceBackend, Signature

if TYPE_CHECKING:
    import torch

LOG = logging.getLogger(__name__)

BACKEND_SETTINGS = ("auto", "tensorrt", "onnxruntime", "onnxruntime-cuda", "onnxruntime-cpu", "torch")


def create_backend(setting: str, onnx_path: str | Path | None, torch_module_factory: Callable[[], "torch.nn.Module"] | None = None,
                   cache_dir: str | Path | None = None, *, signature: Signature | None = None, precision: str = "fp16",
                   max_batch: int = 64, threads: int | None = None, torch_device: str = "cpu",
                   model_name: str = "model", cpu_onnx_path: str | Path | None = None) -> InferenceBackend:
    """The backend for ``setting`` (one of :data:`BACKEND_SETTINGS`).

    ``onnx_path`` is the exported model (ONNX Runtime, TensorRT); ``torch_module_factory`` makes
    the PyTorch module (``torch`` backend and last fallback of ``auto``), whose input/output names
    come from ``signature`` or else from the ONNX file. ``cache_dir`` holds TensorRT engines
    (``precision`` ``fp16``/``fp32``, optimisation profile for batch 1..``max_batch``).
    Without ``cache_dir``, :func:`~.engine_cache.default_cache_dir` is used.
    ``threads`` sets ONNX Runtime's intra-op threads (default: physical cores). A model that
    exists only as ONNX (no ``torch_module_factory``) and whose file is missing raises
    ``FileNotFoundError``. ``cpu_onnx_path``, when given, is what ONNX Runtime runs on the CPU
    instead of ``onnx_path`` (same inputs and outputs, e.g. int8 weights).
    """
    if setting not in BACKEND_SETTINGS:
        raise BackendError(f"unknown backend {setting!r}; choose one of {BACKEND_SETTINGS}")
    if torch_module_factory is None and onnx_path is not None and not Path(onnx_path).is_file():
        raise FileNotFoundError(f"{model_name}: no ONNX model file at {onnx_path}")
    for path in (onnx_path, cpu_onnx_path):
        if path is not None and Path(path).is_file():
            check_model_file(path)
    files = {"tensorrt": onnx_path, "onnxruntime-cuda": onnx_path, "onnxruntime-cpu": cpu_onnx_path or onnx_path,
             "torch": None}  # the file each candidate runs (torch: the module from torch_module_factory)
    candidates = {
        "tensorrt": lambda: _tensorrt(files["tensorrt"], cache_dir, precision, max_batch),
        "onnxruntime-cuda": lambda: _onnxruntime(files["onnxruntime-cuda"], "cuda", threads),
        "onnxruntime-cpu": lambda: _onnxruntime(files["onnxruntime-cpu"], "cpu", threads),
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
        runs = f" on {Path(cpu_onnx_path).name}" if cpu_onnx_path is not None and candidate == "onnxruntime-cpu" else ""
        LOG.info("%s: using backend %s%s (%s)", model_name, backend.name, runs, reason)
        file = files[candidate]
        backend.choice = BackendChoice(setting, backend.name, None if file is None else Path(file), tuple(skipped))
        return backend
    raise BackendError(f"{model_name}: no backend for setting {setting!r} can run: " + "; ".join(skipped))


def check_model_file(onnx_path: str | Path) -> None:
    """:class:`BackendError` for a damaged model file (see the module doc)."""
    from ..integrity import ModelIntegrityError, verify_shipped
    from .onnx_metadata import check_weights, read_metadata

    try:
        verify_shipped(onnx_path)
    except ModelIntegrityError as error:
        raise BackendError(str(error)) from error
    try:
        read_metadata(onnx_path)
    except BackendError:
        return  # unreadable: each ONNX backend says so, and auto may still fall back to PyTorch
    check_weights(onnx_path)


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
