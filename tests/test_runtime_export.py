"""ONNX export of the lifter, its parity with PyTorch, and LifterRuntime == TorchLifter."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from poselifter_core.lifter.export import LIFTER_SIGNATURE, export_lifter, random_lifter_inputs, read_lifter_config
from poselifter_core.lifter.inference import TorchLifter
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.runtime import BackendError, Signature, create_backend
from poselifter_core.runtime.checkpoint_backend import ensure_onnx
from poselifter_core.runtime.export import ExportError
from poselifter_core.runtime.fusion import fold_batchnorm
from poselifter_core.runtime.onnx_model import read_signature
from poselifter_core.runtime.onnxruntime_backend import OnnxRuntimeBackend

from runtime_fixtures import tiny_lifter, write_checkpoint


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    directory = tmp_path_factory.mktemp("export")
    checkpoint = write_checkpoint(directory / "lifter.pt")
    report = export_lifter(checkpoint, directory / "lifter.onnx")
    return checkpoint, report


def inputs(batch: int, seed: int = 1, missing: float = 0.0) -> dict[str, np.ndarray]:
    return random_lifter_inputs(batch, 17, np.random.default_rng(seed), missing)


def test_fold_batchnorm_keeps_the_function_and_removes_batchnorm():
    model = tiny_lifter()
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())  # the original is untouched
    x = {k: torch.from_numpy(v) for k, v in inputs(16).items()}
    with torch.no_grad():
        expected, got = model(**x), folded(**x)
    assert torch.allclose(expected, got, atol=1e-5)
    assert (expected - model.output_layer.bias).abs().max() > 0.1  # the BN statistics do change the output


def test_export_has_dynamic_batch_metadata_and_parity(exported):
    checkpoint, report = exported
    assert report.path.is_file() and report.opset == 17
    assert 0 <= report.max_abs_error < 1e-4
    signature = read_signature(report.path)
    assert signature.input_names == ("keypoints", "intrinsics", "visible") and signature.output_names == ("raw",)
    assert signature.input_shapes == ((None, 17, 2), (None, 4), (None, 17))
    config = read_lifter_config(report.path)
    assert config.width == 32 and config.skeleton == "h36m17" and config.input_space == "rays"


def test_a_pixel_space_lifter_exports_without_the_mask_input(tmp_path):
    from poselifter_core.lifter.export import export_lifter_model
    from poselifter_core.lifter.model import LifterConfig, PoseLifter

    report = export_lifter_model(PoseLifter(LifterConfig(width=16, input_space="pixels", depth_output="canonical")),
                                 tmp_path / "pixels.onnx")
    assert read_signature(report.path).input_names == ("keypoints", "intrinsics")
    runtime = LifterRuntime.from_onnx(report.path, backend="onnxruntime-cpu")
    x = inputs(3)
    assert np.isfinite(runtime.lift(x["keypoints"], x["intrinsics"]).absolute).all()
    with pytest.raises(ValueError, match="model takes no missing joints"):
        runtime.lift(x["keypoints"], x["intrinsics"], np.eye(17)[:3] == 0)


def test_export_fails_cleanly_when_parity_is_not_met(tmp_path, exported):
    checkpoint, _ = exported
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export_lifter(checkpoint, tmp_path / "bad.onnx", tolerance=-1.0)
    assert not (tmp_path / "bad.onnx").exists()


@pytest.mark.parametrize("batch", [1, 5, 11])
def test_onnxruntime_lifter_matches_torch_lifter(exported, batch):
    checkpoint, report = exported
    runtime = LifterRuntime.from_onnx(report.path, backend="onnxruntime-cpu")
    runtime.batch_size = 4  # exercise chunking
    x = inputs(batch, seed=batch, missing=0.3)
    x["keypoints"][x["visible"] == 0] = np.nan  # missing joints may hold anything
    expected = TorchLifter.from_checkpoint(checkpoint).lift(x["keypoints"], x["intrinsics"], x["visible"])
    got = runtime.lift(x["keypoints"], x["intrinsics"], x["visible"])
    for name in ("relative", "root", "absolute", "canonical_depth"):
        a, b = getattr(expected, name), getattr(got, name)
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-2, err_msg=name)  # mm


def test_lifter_runtime_shared_intrinsics_empty_input_and_errors(exported):
    _, report = exported
    runtime = LifterRuntime.from_onnx(report.path, backend="onnxruntime-cpu")
    x = inputs(3)
    shared = runtime.lift(x["keypoints"], x["intrinsics"][0])
    single = runtime.lift(x["keypoints"][:1], x["intrinsics"][:1])
    np.testing.assert_allclose(shared.absolute[0], single.absolute[0], rtol=1e-5)
    assert runtime.lift(np.zeros((0, 17, 2)), x["intrinsics"][0]).absolute.shape == (0, 17, 3)
    bad = x["keypoints"].copy()
    bad[1, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        runtime.lift(bad, x["intrinsics"])
    with pytest.raises(ValueError, match="shape"):
        runtime.lift(x["keypoints"][:, :16], x["intrinsics"])
    with pytest.raises(ValueError, match="focal"):
        runtime.lift(x["keypoints"], np.array([0.0, 1000, 640, 360]))


def test_signature_check_messages():
    signature = Signature(("a", "b"), ("y",), ((None, 3), (None,)))
    ok = {"a": np.zeros((2, 3)), "b": np.zeros(2)}
    signature.check(ok)
    with pytest.raises(ValueError, match="missing"):
        signature.check({"a": ok["a"]})
    with pytest.raises(ValueError, match="same leading batch"):
        signature.check({"a": ok["a"], "b": np.zeros(3)})
    with pytest.raises(ValueError, match=r"\('N', 3\)"):
        signature.check({"a": np.zeros((2, 4)), "b": ok["b"]})


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_onnx_gives_clear_error_or_fallback(tmp_path, exported, damage, caplog):
    checkpoint, report = exported
    data = report.path.read_bytes()
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00not onnx" * 100, "empty": b""}[damage])
    with pytest.raises(BackendError, match="not a loadable ONNX model"):
        OnnxRuntimeBackend(corrupt)
    with pytest.raises(BackendError, match="can run"):
        create_backend("onnxruntime", corrupt)
    with pytest.raises(BackendError):
        LifterRuntime.from_onnx(corrupt)
    # auto falls back to PyTorch when it has the model, and says why
    from poselifter_core.lifter.checkpoint import load_lifter
    with caplog.at_level(logging.INFO, logger="poselifter_core.runtime.factory"):
        backend = create_backend("auto", corrupt, lambda: load_lifter(checkpoint)[0], signature=LIFTER_SIGNATURE)
    assert backend.name == "torch-cpu"
    assert "not a loadable ONNX model" in caplog.text


def test_ensure_onnx_reuses_and_repairs_the_export(tmp_path, exported, caplog):
    checkpoint, _ = exported
    path = ensure_onnx(checkpoint, tmp_path, export_lifter)
    stamp = path.stat().st_mtime_ns
    assert ensure_onnx(checkpoint, tmp_path, export_lifter) == path and path.stat().st_mtime_ns == stamp  # no re-export
    path.write_bytes(path.read_bytes()[:1000])  # truncated by a crash or a full disk
    with caplog.at_level(logging.WARNING):
        runtime = LifterRuntime.from_checkpoint(checkpoint, backend="onnxruntime-cpu", export_dir=tmp_path)
    assert "exporting it again" in caplog.text
    x = inputs(2)
    expected = TorchLifter.from_checkpoint(checkpoint).lift(x["keypoints"], x["intrinsics"])
    np.testing.assert_allclose(runtime.lift(x["keypoints"], x["intrinsics"]).absolute, expected.absolute, rtol=1e-4, atol=1e-2)


def test_torch_backend_from_checkpoint_and_backend_outputs_agree(exported):
    checkpoint, report = exported
    torch_runtime = LifterRuntime.from_checkpoint(checkpoint, backend="torch")
    assert torch_runtime.backend.name == "torch-cpu"
    x = inputs(4)
    onnx_raw = OnnxRuntimeBackend(report.path).run(x)["raw"]
    np.testing.assert_allclose(torch_runtime.backend.run(x)["raw"], onnx_raw, atol=1e-4)
