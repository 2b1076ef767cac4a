"""TensorRT backend (TensorRT 10 Python API), with engines cached on disk.

UNVERIFIED: written to the documented TensorRT 10 Python API (``Builder``,
``create_builder_config``, ``set_memory_pool_limit``, ``create_optimization_profile``,
``set_shape``, ``build_serialized_network``, ``Runtime.deserialize_cuda_engine``,
``set_input_shape``, ``set_tensor_address``, ``execute_async_v3``) on a machine without TensorRT
or a GPU, so it has never been executed. The parts that do not need TensorRT (engine key, cache
hit/miss/corruption, backend choice and fallback) are tested.

Device buffers and the CUDA stream come from PyTorch (a dependency already), so the capability
check asks for ``import tensorrt`` *and* a CUDA device visible to PyTorch. Engine inputs keep
the element types the ONNX model declares (checked on load: float32 for the lifter, uint8 for an
image model) and outputs the types the engine reports (``tensorrt.nptype``), whatever the
precision: FP16 only lets TensorRT pick half-precision kernels inside the network. Only the
batch axis of an input may be dynamic (one optimisation profile over the batch), so models with
a dynamic image size, such as MoveNet, are refused and ``auto`` moves on to ONNX Runtime.
"""
from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from .backend import BackendError, InferenceBackend
from .engine_cache import EngineCache, EngineKey, engine_key

if TYPE_CHECKING:
    import torch

LOG = logging.getLogger(__name__)

DEFAULT_WORKSPACE_BYTES = 1 << 30


def _import_tensorrt() -> ModuleType:
    try:
        import tensorrt
    except Exception as error:  # ImportError, or OSError from missing libnvinfer
        raise BackendError(f"tensorrt does not import ({error})") from error
    return tensorrt


def tensorrt_status() -> tuple[bool, str]:
    """(usable, reason): TensorRT imports and a CUDA GPU is present. PyTorch (the device buffers
    and stream) is imported only once TensorRT has: a CPU machine's ``auto`` pays for neither."""
    try:
        trt = _import_tensorrt()
    except BackendError as error:
        return False, str(error)
    import torch

    if not torch.cuda.is_available():
        return False, (f"TensorRT {trt.__version__} imports but PyTorch sees no CUDA GPU "
                       "(the TensorRT backend takes its device buffers and stream from PyTorch)")
    return True, f"TensorRT {trt.__version__} on {torch.cuda.get_device_name()}"


def device_engine_key(onnx_path: str | Path, precision: str, max_batch: int, opt_batch: int | None = None,
                      device: int = 0) -> EngineKey:
    import torch

    trt = _import_tensorrt()
    return engine_key(onnx_path, precision, max_batch, opt_batch, trt.__version__, torch.cuda.get_device_name(device),
                      torch.cuda.get_device_capability(device))


def build_serialized_engine(onnx_path: str | Path, key: EngineKey, workspace_bytes: int = DEFAULT_WORKSPACE_BYTES) -> bytes:
    """Parse the ONNX file and build an engine for ``key``'s precision and profile."""
    trt = _import_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # TensorRT 10: networks are always explicit-batch
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendError(f"TensorRT cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if key.precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for name, smallest, optimum, largest in key.profile:
        profile.set_shape(name, smallest, optimum, largest)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendError(f"TensorRT failed to build an engine from {onnx_path} (see the TensorRT log above)")
    return bytes(memoryview(serialized))


def ensure_engine(onnx_path: str | Path, cache_dir: str | Path, precision: str = "fp16", max_batch: int = 64,
                  opt_batch: int | None = None, workspace_bytes: int = DEFAULT_WORKSPACE_BYTES) -> tuple[Path, bool]:
    """Build the engine into the cache unless a valid one is there: (path, built now).
    Used ahead of time by ``poselifter build-engine``."""
    trt = _import_tensorrt()
    key = device_engine_key(onnx_path, precision, max_batch, opt_batch)
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    cache = EngineCache(cache_dir)
    _, built = cache.get_or_build(key, lambda: build_serialized_engine(onnx_path, key, workspace_bytes),
                                  runtime.deserialize_cuda_engine)
    if not cache.path(key).is_file():
        raise BackendError(f"the engine was built but could not be written to {cache.directory}")
    return cache.path(key), built


class TensorRTBackend(InferenceBackend):
    """Batches larger than ``max_batch`` run in chunks of ``max_batch``."""

    def __init__(self, onnx_path: str | Path, cache_dir: str | Path, precision: str = "fp16", max_batch: int = 64,
                 opt_batch: int | None = None, workspace_bytes: int = DEFAULT_WORKSPACE_BYTES, device: int = 0) -> None:
        trt = _import_tensorrt()
        from .onnx_model import read_signature  # onnx: only once TensorRT is there

        super().__init__(read_signature(onnx_path))
        key = device_engine_key(onnx_path, precision, max_batch, opt_batch, device)
        self._runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine, self.built = EngineCache(cache_dir).get_or_build(
            key, lambda: build_serialized_engine(onnx_path, key, workspace_bytes), self._runtime.deserialize_cuda_engine)
        self._check_io(trt)
        self.context = self.engine.create_execution_context()
        if self.context is None:
            raise BackendError("TensorRT could not create an execution context (out of GPU memory?)")
        import torch

        self.device = torch.device("cuda", device)
        self.stream = torch.cuda.Stream(self.device)
        self.max_batch = max_batch
        self.name = f"tensorrt-{precision}"

    def _check_io(self, trt: ModuleType) -> None:
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if set(inputs) != set(self.input_names) or set(outputs) != set(self.output_names):
            raise BackendError(f"engine I/O {inputs} -> {outputs} does not match the ONNX model "
                               f"{list(self.input_names)} -> {list(self.output_names)}")
        types = {n: np.dtype(trt.nptype(self.engine.get_tensor_dtype(n))) for n in names}
        mismatched = {n: f"{types[n]} (ONNX: {d})" for n, d in zip(self.input_names, self.signature.dtypes) if types[n] != d}
        if mismatched:
            raise BackendError(f"engine input types differ from the ONNX model's: {mismatched}")
        self.output_dtypes = {n: _torch_dtype(types[n]) for n in self.output_names}

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        batch = len(next(iter(inputs.values())))
        parts = [self._run_chunk({n: a[start:start + self.max_batch] for n, a in inputs.items()})
                 for start in range(0, batch, self.max_batch)]
        return {n: np.concatenate([p[n] for p in parts]) for n in self.output_names}

    def _run_chunk(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        with torch.cuda.stream(self.stream):
            device_inputs = {n: torch.from_numpy(a).to(self.device) for n, a in inputs.items()}
            for name, tensor in device_inputs.items():
                if not self.context.set_input_shape(name, tuple(tensor.shape)):
                    raise BackendError(f"TensorRT rejected shape {tuple(tensor.shape)} for input {name!r}")
                self.context.set_tensor_address(name, tensor.data_ptr())
            outputs = {}
            for name in self.output_names:
                outputs[name] = torch.empty(tuple(self.context.get_tensor_shape(name)), dtype=self.output_dtypes[name],
                                            device=self.device)
                self.context.set_tensor_address(name, outputs[name].data_ptr())
            if not self.context.execute_async_v3(self.stream.cuda_stream):
                raise BackendError("TensorRT execution failed (see the TensorRT log)")
            self.stream.synchronize()
        return {n: t.cpu().numpy() for n, t in outputs.items()}


def _torch_dtype(dtype: np.dtype) -> "torch.dtype":
    """The torch dtype of a numpy dtype (the one ``torch.from_numpy`` gives)."""
    import torch

    return torch.from_numpy(np.empty(0, dtype=dtype)).dtype
