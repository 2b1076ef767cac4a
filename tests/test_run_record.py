"""``run.json`` says what ran: for the lifter and the 2D model, the backend the setting chose, the
file that backend runs when it is not the one named (the shipped lifter checkpoint runs as its
int8 ONNX variant on ONNX Runtime's CPU) and why the backends before it were skipped."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from PIL import Image
from skimage.data import astronaut  # NASA portrait of Eileen Collins, public domain

from poselifter_core.cli import main
from poselifter_core.digest import file_sha256
from poselifter_core.integrity import LIFTER_CHECKPOINT
from poselifter_core.pose2d.movenet import DEFAULT_MODEL_PATH

INT8_LIFTER = LIFTER_CHECKPOINT.with_name("poselifter_default.int8.onnx")  # what ONNX Runtime's CPU runs


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "astronaut.jpg"
    Image.fromarray(astronaut()).resize((256, 256)).save(path)
    return path


def record_of(photo: Path, out: Path, backend: str) -> dict:
    assert main(["infer", str(photo), "-o", str(out), "--backend", backend, "--no-progress"]) == 0
    return json.loads((out / "run.json").read_text())


def test_run_json_names_the_backend_and_the_int8_file_the_default_lifter_runs_on_the_cpu(photo, tmp_path):
    models = record_of(photo, tmp_path / "out", "onnxruntime-cpu")["models"]
    assert INT8_LIFTER.is_file()
    assert models["lifter"] == {"path": str(LIFTER_CHECKPOINT.resolve()), "sha256": file_sha256(LIFTER_CHECKPOINT),
                                "backend": "onnxruntime-cpu",
                                "runs": {"path": str(INT8_LIFTER.resolve()), "sha256": file_sha256(INT8_LIFTER)},
                                "skipped": []}  # requested: nothing tried before it
    # MoveNet runs the file named itself: no other file to name
    assert models["pose2d"] == {"path": str(DEFAULT_MODEL_PATH.resolve()), "sha256": file_sha256(DEFAULT_MODEL_PATH),
                                "backend": "onnxruntime-cpu", "runs": None, "skipped": []}


def test_run_json_under_auto_says_what_was_picked_and_why_the_others_were_skipped(photo, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="poselifter_core.runtime.factory"):
        models = record_of(photo, tmp_path / "out", "auto")["models"]
    for name, model in (("lifter", models["lifter"]), ("MoveNet", models["pose2d"])):
        chosen = [m for m in (re.match(rf"{name}\S*: using backend (\S+)", r.getMessage()) for r in caplog.records) if m]
        assert [m.group(1) for m in chosen] == [model["backend"]]  # the record says what the log says
        assert model["backend"] != "auto" and all(reason in caplog.text for reason in model["skipped"])
        if model["backend"] == "onnxruntime-cpu":  # this CPU machine: TensorRT and ONNX Runtime CUDA cannot run
            assert [reason.split(":")[0] for reason in model["skipped"]] == ["tensorrt", "onnxruntime-cuda"]
    if models["lifter"]["backend"] == "onnxruntime-cpu":
        assert models["lifter"]["runs"]["path"] == str(INT8_LIFTER.resolve())
    else:  # a GPU backend runs the fp32 export beside the checkpoint
        assert models["lifter"]["runs"]["path"] == str(LIFTER_CHECKPOINT.with_suffix(".onnx").resolve())
