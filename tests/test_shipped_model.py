"""Regression test of the shipped default lifter against its recorded provenance and accuracy."""
import numpy as np
import pytest

from poselifter_core import shipped
from poselifter_core.digest import file_sha256
from poselifter_core.lifter.export import export_lifter
from poselifter_core.lifter.inference import TorchLifter
from poselifter_core.lifter.runtime import LifterRuntime


@pytest.fixture(scope="module")
def lifter():
    return TorchLifter.from_checkpoint(shipped.CHECKPOINT)


def test_shipped_files_match_their_record():
    record = shipped.read_record()
    assert file_sha256(shipped.CHECKPOINT) == record["checkpoint_sha256"]
    assert file_sha256(shipped.ONNX) == record["onnx_sha256"]
    assert file_sha256(shipped.recorded_data()) == record["data"]["sha256"]
    assert shipped.CHECKPOINT.stat().st_size < 25e6 and shipped.ONNX.stat().st_size < 25e6


def test_shipped_model_matches_its_recorded_accuracy(lifter):
    record = shipped.read_record()["check_set"]
    data = shipped.check_set()
    assert len(data) == record["samples"]
    for noisy, missing, key in ((False, 0, "clean_2d"), (True, 0, "mixture_noised_2d"),
                                (True, 6, "mixture_noised_2d_6_missing")):
        measured = shipped.check_accuracy(lifter, data, noisy=noisy, missing=missing)
        for metric, value in record[key].items():
            assert measured[metric] == pytest.approx(value, rel=0.01), (key, metric)


def test_shipped_model_exports_and_the_shipped_onnx_agrees(lifter, tmp_path):
    export_lifter(shipped.CHECKPOINT, tmp_path / "again.onnx")  # raises if parity fails
    data = shipped.check_set()
    runtime = LifterRuntime.from_onnx(shipped.ONNX, backend="onnxruntime-cpu")
    from poselifter_core.data.missingness import missing_masks

    visible = missing_masks(data, 6, "image border", seed=1)  # the mask reaches the ONNX model too
    a = runtime.lift(data.keypoints_2d, data.intrinsics, visible)
    b = lifter.lift(data.keypoints_2d, data.intrinsics, visible)
    assert np.abs(a.absolute - b.absolute).max() < 1.0  # mm


def test_reproduction_config_matches_the_recorded_training():
    from pathlib import Path

    from poselifter_core.config import load_yaml, to_dict
    from poselifter_core.train import TrainConfig

    config = to_dict(load_yaml(TrainConfig, Path(__file__).parents[1] / "config" / "train_default.yaml"))
    recorded = shipped.read_record()["train_config"]
    assert {k: v for k, v in config.items() if k != "output_dir"} == {k: v for k, v in recorded.items() if k != "output_dir"}


def test_int8_export_keeps_the_shipped_accuracy(lifter, tmp_path):
    from poselifter_core.lifter.export import META_WEIGHTS, quantize_lifter_int8, read_lifter_metadata

    quantized = quantize_lifter_int8(shipped.ONNX, tmp_path / "default.int8.onnx")
    assert read_lifter_metadata(quantized)[META_WEIGHTS].startswith("int8")
    assert quantized.stat().st_size < 0.4 * shipped.ONNX.stat().st_size
    data = shipped.check_set()
    fp32 = shipped.check_accuracy(lifter, data)
    int8 = shipped.check_accuracy(LifterRuntime.from_onnx(quantized, backend="onnxruntime-cpu"), data)
    # the check set spans 0.8-20 m, so the root error is compared relatively (int8: +2.4 % at its making)
    assert abs(int8["MPJPE"] - fp32["MPJPE"]) < 2.0 and abs(int8["MRPE"] - fp32["MRPE"]) < 0.03 * fp32["MRPE"]
