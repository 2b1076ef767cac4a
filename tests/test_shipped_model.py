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
    assert file_sha256(shipped.ONNX_INT8) == record["onnx_int8_sha256"]
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
    runtime = LifterRuntime.from_onnx(shipped.ONNX, backend="onnxruntime-cpu", weights="fp32")  # not the int8 beside it
    from poselifter_core.data.missingness import missing_masks

    visible = missing_masks(data, 6, "image border", seed=1)  # the mask reaches the ONNX model too
    a = runtime.lift(data.keypoints_2d, data.intrinsics, visible)
    b = lifter.lift(data.keypoints_2d, data.intrinsics, visible)
    assert np.abs(a.absolute - b.absolute).max() < 1.0  # mm


def test_reproduction_config_matches_the_recorded_training():
    from pathlib import Path

    from poselifter_core.config import from_dict, load_yaml, to_dict
    from poselifter_core.train import TrainConfig

    config = to_dict(load_yaml(TrainConfig, Path(__file__).parents[1] / "config" / "train_default.yaml"))
    # read with today's settings: one added since keeps the default that trains as before
    recorded = to_dict(from_dict(TrainConfig, shipped.read_record()["train_config"]))
    assert {k: v for k, v in config.items() if k != "output_dir"} == {k: v for k, v in recorded.items() if k != "output_dir"}


def test_int8_export_keeps_the_shipped_accuracy(lifter, tmp_path):
    """The quantisation itself, on the shipped fp32 model (independent of the shipped int8 file)."""
    from poselifter_core.lifter.export import META_WEIGHTS, quantize_lifter_int8, read_lifter_metadata

    quantized = quantize_lifter_int8(shipped.ONNX, tmp_path / "default.int8.onnx")
    assert read_lifter_metadata(quantized)[META_WEIGHTS].startswith("int8")
    assert quantized.stat().st_size < 0.4 * shipped.ONNX.stat().st_size
    data = shipped.check_set()
    fp32 = shipped.check_accuracy(lifter, data)
    int8 = shipped.check_accuracy(LifterRuntime.from_onnx(quantized, backend="onnxruntime-cpu"), data)
    # the check set spans 0.8-20 m, so the root error is compared relatively. With every layer int8 it cost
    # +2.4 % (first #18 model) and +4.3 % (the retrained default) on clean 2D; with the first and last
    # layers kept fp32 (quantize_lifter_int8) +0.4 %, MPJPE +0.1 mm (docs/benchmarks.md, #16)
    assert int8["MPJPE"] - fp32["MPJPE"] < shipped.INT8_MAX_MPJPE_COST_MM
    assert abs(int8["MRPE"] - fp32["MRPE"]) < 0.02 * fp32["MRPE"]


def test_the_shipped_int8_variant_is_derived_from_the_shipped_fp32_and_recorded():
    from poselifter_core.lifter.weights import META_QUANTIZED_FROM, cpu_weights_path
    from poselifter_core.runtime.onnx_metadata import graph_digest, read_metadata

    record = shipped.read_record()
    assert record["int8"]["quantized_from_onnx_sha256"] == record["onnx_sha256"]
    assert read_metadata(shipped.ONNX_INT8)[META_QUANTIZED_FROM] == graph_digest(shipped.ONNX)
    assert cpu_weights_path(shipped.ONNX) == shipped.ONNX_INT8
    assert shipped.ONNX_INT8.stat().st_size < 0.4 * shipped.ONNX.stat().st_size


def test_the_shipped_int8_variant_keeps_its_recorded_accuracy_within_the_rule():
    record = shipped.read_record()["int8"]["check_set_onnxruntime_cpu"]
    measured = shipped.int8_accuracy()
    for condition, by_weights in measured.items():
        assert by_weights["int8"]["MPJPE"] - by_weights["fp32"]["MPJPE"] < shipped.INT8_MAX_MPJPE_COST_MM, condition
        for weights, metrics in by_weights.items():
            for metric, value in metrics.items():
                assert value == pytest.approx(record[condition][weights][metric], rel=0.01), (condition, weights, metric)


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """The shipped fp32 ONNX and its record copied to ``tmp_path`` and standing in for the shipped ones."""
    import shutil

    for name, source in (("ONNX", shipped.ONNX), ("RECORD", shipped.RECORD)):
        monkeypatch.setattr(shipped, name, shutil.copy(source, tmp_path / source.name))
    monkeypatch.setattr(shipped, "ONNX_INT8", tmp_path / shipped.ONNX_INT8.name)
    record = shipped.read_record()
    record.pop("int8", None)
    shipped.RECORD.write_text(__import__("json").dumps(record))
    return tmp_path


def test_make_lifter_int8_quantises_checks_and_records_the_shipped_variant(shipped_copy, capsys):
    from poselifter_core.cli import main

    assert main(["export", "--int8", str(shipped.ONNX)]) == 0
    assert "MPJPE cost on the check set" in capsys.readouterr().out
    record = shipped.read_record()
    assert record["onnx_int8_sha256"] == file_sha256(shipped.ONNX_INT8)
    assert record["int8"]["quantized_from_onnx_sha256"] == record["onnx_sha256"]
    assert record["int8"]["command"] == f"poselifter export --int8 {shipped.LIFTER_ONNX.relative_to(shipped.REPO_ROOT)}"
    assert all(cost < shipped.INT8_MAX_MPJPE_COST_MM for cost in record["int8"]["mpjpe_cost_mm"].values())
    assert set(record["int8"]["check_set_onnxruntime_cpu"]) == {key for key, _, _ in shipped.CHECK_CONDITIONS}


def test_an_int8_variant_over_the_accuracy_rule_is_not_shipped(shipped_copy, monkeypatch, capsys):
    from poselifter_core.cli import main

    monkeypatch.setattr(shipped, "INT8_MAX_MPJPE_COST_MM", -50.0)  # no variant can pass
    assert main(["export", "--int8", str(shipped.ONNX)]) == 2
    assert "the CPU keeps fp32" in capsys.readouterr().err
    assert not shipped.ONNX_INT8.exists() and "onnx_int8_sha256" not in shipped.read_record()


def test_the_shipped_open_mocap_holds_each_recording_once_and_no_performer_in_two_splits():
    """The set the check set is drawn from: no source file twice (cmu_91's six clips, copies of cmu_105's
    validation clips, were dropped and recorded), no ASF skeleton under labels in different splits."""
    import json

    from poselifter_core.mocap.identity import MOTION_DIGEST, check_skeleton_splits

    sidecar = json.loads(shipped.recorded_data().with_suffix(".json").read_text(encoding="utf-8"))
    clips = sidecar["clips"]
    digests = [info[MOTION_DIGEST] for info in clips.values()]
    assert len(digests) == len(clips) and len(set(digests)) == len(digests)
    check_skeleton_splits(clips.values(), "shipped open mocap")
    relabelled = {d["clip"]: d["kept"] for d in sidecar["dropped_duplicates"] if d["clip"] != d["kept"]}
    assert relabelled == {f"cmu_91_{t}": f"cmu_105_{t}" for t in ("01", "02", "04", "13", "17", "47")}
    assert all(clips[kept]["split"] == "val" for kept in relabelled.values())
    assert "cmu_91" not in {info["subject"] for info in clips.values()}


@pytest.mark.slow
def test_record_check_set_reproduces_the_recorded_check_set(tmp_path, monkeypatch):
    """``make lifter-check-set`` on the committed data rewrites the same numbers and keeps the SHA-256
    the model was trained on."""
    import shutil

    monkeypatch.setattr(shipped, "RECORD", shutil.copy(shipped.RECORD, tmp_path / shipped.RECORD.name))
    before = shipped.read_record()
    section = shipped.record_check_set("test")
    after = shipped.read_record()
    assert after["data"] == before["data"] and section["command"] == "test"
    assert {k: v for k, v in section.items() if k != "command"} == {k: v for k, v in before["check_set"].items()
                                                                     if k != "command"}
