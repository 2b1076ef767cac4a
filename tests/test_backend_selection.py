"""Backend choice: explicit settings, the auto order, logged reasons and fallbacks."""
from __future__ import annotations

import logging
import sys
import types

import onnxruntime as ort
import pytest
import torch

from poselifter_core.lifter.checkpoint import load_lifter
from poselifter_core.lifter.export import LIFTER_SIGNATURE, export_lifter
from poselifter_core.runtime import BACKEND_SETTINGS, BackendError, create_backend, tensorrt_backend
from poselifter_core.runtime.threads import physical_cores

from runtime_fixtures import write_checkpoint

HAS_CUDA_EP = "CUDAExecutionProvider" in ort.get_available_providers()


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("selection")
    checkpoint = write_checkpoint(directory / "lifter.pt", width=16)
    return checkpoint, export_lifter(checkpoint, directory / "lifter.onnx").path


def test_unknown_setting():
    with pytest.raises(BackendError, match="unknown backend 'cuda'"):
        create_backend("cuda", None)
    assert BACKEND_SETTINGS[0] == "auto"


@pytest.mark.skipif(torch.cuda.is_available() or HAS_CUDA_EP, reason="checks the CPU-only fallback")
def test_auto_on_a_cpu_machine_logs_choice_and_reasons_once(model_files, tmp_path, caplog):
    _, onnx_path = model_files
    with caplog.at_level(logging.INFO, logger="poselifter_core.runtime.factory"):
        backend = create_backend("auto", onnx_path, cache_dir=tmp_path, model_name="lifter")
    assert backend.name == "onnxruntime-cpu"
    records = [r.getMessage() for r in caplog.records]
    assert len(records) == 1
    assert "lifter: using backend onnxruntime-cpu" in records[0]
    assert "tensorrt" in records[0] and "CUDAExecutionProvider" in records[0]
    assert backend.input_names == ("keypoints", "intrinsics", "visible") and backend.output_names == ("raw",)


@pytest.mark.skipif(torch.cuda.is_available() or HAS_CUDA_EP, reason="checks the CPU-only fallback")
def test_onnxruntime_setting_uses_cpu_and_explicit_gpu_settings_fail_clearly(model_files, tmp_path):
    _, onnx_path = model_files
    assert create_backend("onnxruntime", onnx_path).name == "onnxruntime-cpu"
    with pytest.raises(BackendError, match="CUDAExecutionProvider"):
        create_backend("onnxruntime-cuda", onnx_path)
    with pytest.raises(BackendError, match="backend 'tensorrt' cannot run"):
        create_backend("tensorrt", onnx_path, cache_dir=tmp_path)


def test_tensorrt_status_needs_the_module_and_a_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # makes "import tensorrt" raise ImportError
    usable, reason = tensorrt_backend.tensorrt_status()
    assert not usable and "does not import" in reason
    fake = types.ModuleType("tensorrt")
    fake.__version__ = "10.3.0"
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    usable, reason = tensorrt_backend.tensorrt_status()
    assert not usable and "10.3.0 imports but PyTorch sees no CUDA GPU" in reason


def test_auto_falls_back_when_tensorrt_fails_to_start(model_files, tmp_path, monkeypatch, caplog):
    """TensorRT 'present' (capability check passes) but broken: auto must still give a backend."""
    _, onnx_path = model_files
    monkeypatch.setitem(sys.modules, "tensorrt", types.ModuleType("tensorrt"))  # imports, has no API
    monkeypatch.setattr(tensorrt_backend, "tensorrt_status", lambda: (True, "pretend"))
    with caplog.at_level(logging.INFO, logger="poselifter_core.runtime.factory"):
        backend = create_backend("auto", onnx_path, cache_dir=tmp_path)
    assert backend.name.startswith("onnxruntime")
    assert "tensorrt: TensorRT backend failed" in caplog.text


def test_torch_backend_needs_a_model_and_takes_names_from_onnx(model_files):
    checkpoint, onnx_path = model_files
    with pytest.raises(BackendError, match="needs the PyTorch model"):
        create_backend("torch", onnx_path)
    backend = create_backend("torch", onnx_path, lambda: load_lifter(checkpoint)[0])
    assert backend.name == "torch-cpu" and backend.signature.input_names == LIFTER_SIGNATURE.input_names


def test_auto_with_nothing_usable_lists_every_reason(tmp_path):
    missing_checkpoint = tmp_path / "missing.pt"
    with pytest.raises(BackendError) as error:
        create_backend("auto", tmp_path / "missing.onnx", lambda: load_lifter(missing_checkpoint)[0],
                       signature=LIFTER_SIGNATURE, cache_dir=tmp_path)
    message = str(error.value)
    assert "no ONNX file" in message and "no checkpoint" in message and "tensorrt" in message


def test_physical_cores_is_sane():
    import os
    assert 1 <= physical_cores() <= (os.cpu_count() or 1)
