"""The 2D models on the one backend setting: the integral ResNet from a checkpoint (torch, or its
ONNX export) or from an export, the setting threaded through build_cascade and ``infer``, the 2D
export command with its parity check, and clear errors for corrupt ONNX files."""
from __future__ import annotations

import json
import logging
import re
import shutil

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from poselifter_core.cli import main
from poselifter_core.infer import build_cascade, load_pose2d
from poselifter_core.pose2d.export import export_integral_resnet, read_integral_resnet_metadata
from poselifter_core.pose2d.integral_estimator import IntegralPoseEstimator
from poselifter_core.pose2d.integral_resnet import IntegralResNetConfig
from poselifter_core.pose2d.movenet import MoveNet
from poselifter_core.pose2d.onnx_keypoints import OnnxKeypointModel
from poselifter_core.runtime import BackendError
from poselifter_core.runtime.onnx_model import read_signature
from poselifter_core.skeleton import COCO17

from runtime_fixtures import TINY_POSE2D, write_checkpoint, write_pose2d_checkpoint

IMAGE = np.random.default_rng(3).integers(0, 256, (160, 200, 3), dtype=np.uint8)
BOXES = np.array([[30, 20, 110, 140], [100, 40, 190, 150]])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pose2d_backends")
    pose2d = write_pose2d_checkpoint(directory / "pose2d.pt")
    export = export_integral_resnet(pose2d, directory / "exported" / "pose2d.onnx").path
    return pose2d, export, write_checkpoint(directory / "lifter.pt", width=16)


def assert_same_people(expected, got, atol=1e-3):
    assert len(expected) == len(got)
    for a, b in zip(expected, got):
        np.testing.assert_allclose(b.keypoints, a.keypoints, atol=atol)
        np.testing.assert_allclose(b.scores, a.scores, atol=1e-5)


def test_export_command_prints_parity_and_the_export_runs_without_the_checkpoint(files, tmp_path, capsys):
    pose2d, _, _ = files
    out = tmp_path / "out" / "pose2d.onnx"
    assert main(["export", str(pose2d), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    error = float(re.search(r"max abs error ([0-9.e+-]+)", text).group(1))
    assert "2D estimator" in text and "dynamic batch" in text and "batches 1, 3" in text
    assert 0 <= error < 1e-3  # measured ~1e-5
    config, skeleton = read_integral_resnet_metadata(out)
    assert config == IntegralResNetConfig(**TINY_POSE2D) and skeleton == COCO17
    signature = read_signature(out)
    assert signature.input_names == ("images",) and signature.output_names == ("heatmaps", "coords")
    assert signature.input_shapes == ((None, 3, 64, 64),) and signature.input_dtypes == ("float32",)
    reference = IntegralPoseEstimator.from_checkpoint(pose2d, backend="torch").estimate(IMAGE, BOXES)
    assert np.ptp(reference[0].scores) > 0.01  # distinct heatmap peaks, so the score comparison means something
    exported = IntegralPoseEstimator.from_onnx(out, backend="onnxruntime-cpu")
    assert exported.backend.name == "onnxruntime-cpu"
    assert_same_people(reference, exported.estimate(IMAGE, BOXES))


def test_export_command_errors(files, tmp_path, capsys):
    pose2d, _, _ = files
    assert main(["export", str(pose2d), "-o", str(tmp_path / "a.onnx"), "--int8"]) == 2
    assert "--int8 is for lifters" in capsys.readouterr().err
    assert main(["export", str(pose2d), "-o", str(tmp_path / "b.onnx"), "--tolerance", "-1"]) == 2
    assert "exported 2D estimator differs from PyTorch" in capsys.readouterr().err
    assert not (tmp_path / "b.onnx").exists()
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    assert main(["export", str(tmp_path / "other.pt"), "-o", str(tmp_path / "c.onnx")]) == 2
    assert "neither a lifter checkpoint" in capsys.readouterr().err


def test_export_help_explains_both_kinds(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "A lifter ('poselifter train')" in text and "'keypoints'" in text
    assert "2D estimator ('poselifter train-2d'" in text and "'images'" in text and "'heatmaps'" in text


def test_backend_setting_reaches_the_2d_model(files, tmp_path, caplog):
    pose2d, export, lifter = files
    with caplog.at_level(logging.INFO, logger="poselifter_core.runtime.factory"):
        cascade = build_cascade(lifter, pose2d, backend="torch")
    assert cascade.estimator.backend.name == "torch-cpu" and cascade.lifter.backend.name == "torch-cpu"
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("2D integral ResNet: using backend torch-cpu (requested)") for m in messages) == 1
    assert sum(m.startswith("lifter: using backend torch-cpu (requested)") for m in messages) == 1
    # Any other setting exports the checkpoint (next to it) and runs the export.
    shutil.copy(pose2d, tmp_path / "pose2d.pt")
    on_onnxruntime = load_pose2d(tmp_path / "pose2d.pt", "onnxruntime-cpu")
    assert on_onnxruntime.backend.name == "onnxruntime-cpu" and len(list(tmp_path.glob("pose2d-*.onnx"))) == 1
    assert_same_people(cascade.estimator.estimate(IMAGE, BOXES), on_onnxruntime.estimate(IMAGE, BOXES))
    # An export is recognised by its metadata; a YAML file describes any other top-down ONNX model.
    from_export = load_pose2d(export, "onnxruntime-cpu")
    assert isinstance(from_export, IntegralPoseEstimator) and from_export.backend.name == "onnxruntime-cpu"
    spec = {"model": "pose2d.onnx", "input": {"width": 64, "height": 64}, "output": {"index": 1, "kind": "coordinates"}}
    (export.parent / "model.yaml").write_text(yaml.safe_dump(spec))
    described = load_pose2d(export.parent / "model.yaml", "onnxruntime-cpu")
    assert isinstance(described, OnnxKeypointModel) and described.backend.name == "onnxruntime-cpu"
    with pytest.raises(BackendError, match="backend 'torch' cannot run: .*needs the PyTorch model"):
        load_pose2d(export.parent / "model.yaml", "torch")
    assert isinstance(load_pose2d(None, "onnxruntime-cpu"), MoveNet)
    with pytest.raises(FileNotFoundError, match="no 2D model"):
        load_pose2d(tmp_path / "absent.pt")


def test_infer_command_runs_the_2d_model_on_the_chosen_backend(files, tmp_path, capsys):
    pose2d, _, lifter = files
    Image.fromarray(IMAGE).save(tmp_path / "photo.png")
    (tmp_path / "boxes.json").write_text(json.dumps({"photo.png": BOXES.tolist()}))
    args = ["infer", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out"), "--pose2d", str(pose2d),
            "--lifter", str(lifter), "--backend", "torch", "--fov", "60", "--no-progress"]
    assert main(args + ["--boxes", str(tmp_path / "boxes.json")]) == 0
    result = json.loads((tmp_path / "out" / "results.json").read_text())["photo.png"]
    assert len(result["people"]) + sum(result["skipped"].values()) == 2  # random weights: people may be skipped
    assert main(args) == 2
    assert "top-down estimator: it needs person boxes" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_2d_onnx_gives_clear_errors(files, tmp_path, capsys, damage):
    _, export, lifter = files
    data = export.read_bytes()
    corrupt = tmp_path / "pose2d.onnx"
    corrupt.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00not onnx" * 100, "empty": b""}[damage])
    with pytest.raises(BackendError, match="ONNX"):
        IntegralPoseEstimator.from_onnx(corrupt)
    with pytest.raises(BackendError, match="ONNX"):
        load_pose2d(corrupt, "onnxruntime-cpu")
    (tmp_path / "model.yaml").write_text(yaml.safe_dump({"model": "pose2d.onnx", "input": {"width": 64, "height": 64}}))
    with pytest.raises(BackendError, match="not a loadable ONNX model"):
        OnnxKeypointModel.from_yaml(tmp_path / "model.yaml")
    Image.fromarray(IMAGE).save(tmp_path / "photo.png")
    assert main(["infer", str(tmp_path / "photo.png"), "--pose2d", str(corrupt), "--lifter", str(lifter),
                 "-o", str(tmp_path / "out"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "poselifter infer: error:" in error and str(corrupt) in error and "Traceback" not in error
