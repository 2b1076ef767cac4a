"""Model integrity (issue #13 rows 4 and 12): a damaged model file is refused with a clear error
wherever it is loaded, an export that disagrees with its checkpoint is an error, and a bad file
beside a good checkpoint does not block it."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from poselifter_core import integrity
from poselifter_core.infer import load_lifter_runtime
from poselifter_core.integrity import LIFTER_CHECKPOINT
from poselifter_core.lifter.checkpoint import save_checkpoint
from poselifter_core.lifter.export import export_lifter, quantize_lifter_int8
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.pose2d.movenet import DEFAULT_MODEL_PATH, MoveNet
from poselifter_core.runtime.backend import BackendError
from poselifter_core.runtime.factory import create_backend
from poselifter_core.runtime.onnx_metadata import META_WEIGHTS_SHA256, graph_digest, read_metadata

from runtime_fixtures import tiny_lifter, write_checkpoint


def corrupt(path: Path) -> Path:
    """4 KiB of the file's middle overwritten, as a bad copy would."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = bytes(4096)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch) -> Path:
    """The shipped lifter (.pt, .onnx, .int8.onnx) copied and registered as shipped, so a test can damage it."""
    folder = tmp_path / "assets"
    folder.mkdir()
    digests = dict(integrity.shipped_digests())
    for suffix in (".pt", ".onnx", ".int8.onnx"):
        copy = folder / LIFTER_CHECKPOINT.with_suffix(suffix).name
        shutil.copy(LIFTER_CHECKPOINT.with_suffix(suffix), copy)
        digests[copy.resolve()] = digests[LIFTER_CHECKPOINT.with_suffix(suffix)]
    monkeypatch.setattr(integrity, "shipped_digests", lambda: digests)
    return folder / LIFTER_CHECKPOINT.name


@pytest.mark.parametrize("damaged", [".pt", ".onnx"])
def test_a_corrupted_shipped_model_is_refused(shipped_copy, damaged):
    """Row 4: a shipped file with 4 KiB corrupted ran and gave z = 110 m (ONNX) or 116 m (.pt)."""
    corrupt(shipped_copy.with_suffix(damaged))
    with pytest.raises(integrity.ModelIntegrityError, match="is corrupt: SHA-256"):
        if damaged == ".onnx":  # asked for by name; beside the checkpoint it would only be skipped
            load_lifter_runtime(shipped_copy.with_suffix(".onnx"), "onnxruntime-cpu")
        else:
            load_lifter_runtime(shipped_copy, "onnxruntime-cpu")


def test_a_corrupted_shipped_int8_variant_is_refused_not_replaced_by_fp32(shipped_copy):
    """The CPU's default file is checked like the others: damaged, it is an error, never run."""
    load_lifter_runtime(shipped_copy, "onnxruntime-cpu")  # intact: loads
    corrupt(shipped_copy.with_suffix(".int8.onnx"))
    with pytest.raises(BackendError, match="is corrupt: SHA-256"):
        load_lifter_runtime(shipped_copy, "onnxruntime-cpu")
    assert load_lifter_runtime(shipped_copy, "onnxruntime-cpu", "fp32").backend.path.name.endswith("default.onnx")


def test_a_corrupt_onnx_beside_a_valid_checkpoint_does_not_block_it(tmp_path, caplog):
    """Row 12: a valid .pt with a corrupt .onnx beside it was refused over the .onnx."""
    checkpoint = tmp_path / "mine.pt"
    shutil.copy(LIFTER_CHECKPOINT, checkpoint)
    (tmp_path / "mine.onnx").write_bytes(b"\x00garbage" * 100)
    with caplog.at_level(logging.WARNING):
        runtime = load_lifter_runtime(checkpoint, "onnxruntime-cpu")
    assert f"not using {tmp_path / 'mine.onnx'} beside the checkpoint" in caplog.text
    keypoints = np.random.default_rng(0).normal(320, 40, (1, 17, 2))
    assert np.isfinite(runtime.lift(keypoints, np.array([500.0, 500.0, 320.0, 240.0])).root).all()


def test_a_corrupted_shipped_movenet_is_refused(tmp_path, monkeypatch):
    """Row 4: a corrupted MoveNet found 0 people with rc 0."""
    copy = tmp_path / DEFAULT_MODEL_PATH.name
    shutil.copy(DEFAULT_MODEL_PATH, copy)
    digests = {**integrity.shipped_digests(), copy.resolve(): integrity.shipped_digests()[DEFAULT_MODEL_PATH]}
    monkeypatch.setattr(integrity, "shipped_digests", lambda: digests)
    MoveNet(copy, backend="onnxruntime-cpu")  # intact: loads
    corrupt(copy)
    with pytest.raises(BackendError, match="is corrupt: SHA-256"):
        MoveNet(copy, backend="onnxruntime-cpu")


def test_the_shipped_files_pass_their_check():
    for path in integrity.shipped_digests():
        integrity.verify_shipped(path)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    # width 256: most of the file is weights, so damage in its middle hits them, as in the issue
    return export_lifter(write_checkpoint(folder / "tiny.pt", width=256), folder / "tiny.onnx").path


def test_exports_carry_a_weights_checksum_that_is_verified_on_load(exported, tmp_path):
    """Row 4: a lifter ONNX with 4 KiB corrupted ran with rc 0 and gave z = 110 m."""
    assert read_metadata(exported)[META_WEIGHTS_SHA256] == graph_digest(exported)
    damaged = corrupt(shutil.copy(exported, tmp_path / "damaged.onnx"))
    for setting in ("onnxruntime-cpu", "auto"):  # never a fallback: the numbers would be wrong
        with pytest.raises(BackendError, match="is corrupt: its weights do not match"):
            LifterRuntime.from_onnx(damaged, setting, checkpoint=exported.with_suffix(".pt"))
    int8 = quantize_lifter_int8(exported, tmp_path / "tiny.int8.onnx")  # new weights, new checksum
    create_backend("onnxruntime-cpu", int8)


def test_a_checkpoint_whose_export_disagrees_is_an_error_not_a_fallback(tmp_path):
    """Row 4: a corrupted .pt failed the ONNX parity check, 'only the torch backend remains', then
    the torch backend gave z = 116 m."""
    model = tiny_lifter()
    with torch.no_grad():
        next(model.parameters()).view(-1)[:64] = float("nan")  # what a damaged checkpoint can hold
    save_checkpoint(tmp_path / "bad.pt", model)
    with pytest.raises(BackendError, match="cannot export .* differs from PyTorch"):
        LifterRuntime.from_checkpoint(tmp_path / "bad.pt", "auto")
