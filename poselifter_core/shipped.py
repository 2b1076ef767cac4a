"""The shipped default lifter: where it lives, its recorded provenance and its check set.

``assets/lifter/poselifter_default.json`` records how the model was made (command, config, data
hash, seed, wall time, machine) and its accuracy on :func:`check_set`, a small fixed set rendered
by the virtual camera rig from the held-out test subjects of the shipped open mocap data. The
regression test recomputes that accuracy and compares.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from .config import from_dict
from .data.pose_set import PoseSet
from .data.rig import RigConfig
from .data.sources import DataSpec, load_pose_set
from .evaluate import evaluate_lifters, noisy_keypoints
from .integrity import LIFTER_CHECKPOINT, LIFTER_ONNX, LIFTER_RECORD
from .lifter.inference import Lifter

CHECKPOINT, ONNX, RECORD = LIFTER_CHECKPOINT, LIFTER_ONNX, LIFTER_RECORD
REPO_ROOT = Path(__file__).resolve().parent.parent
REPO_DATA = REPO_ROOT / "data" / "open_mocap" / "open_mocap_h36m17_world_mm.npz"  # the current open set


def recorded_data() -> Path:
    """The data file the shipped model was trained on, as its record names it (the check set is drawn
    from it; it is :data:`REPO_DATA` unless the set was rebuilt after the model was made)."""
    return REPO_ROOT / read_record()["data"]["file"]


def check_set(data_path: str | Path | None = None, focal_px: float | None = None) -> PoseSet:
    """Held-out subjects of ``data_path`` (default: :func:`recorded_data`), every 8th frame, one rig
    camera each (the record's rig settings), fixed seed; optionally one focal length."""
    data_path = recorded_data() if data_path is None else data_path
    return _check_set(data_path, read_record()["check_set"].get("rig", {}), focal_px)


def _check_set(data_path: str | Path, rig_settings: dict, focal_px: float | None = None) -> PoseSet:
    rig = from_dict(RigConfig, rig_settings)
    rig = rig if focal_px is None else replace(rig, focal_px=(focal_px, focal_px))
    return load_pose_set(DataSpec(kind="mocap", path=str(data_path), splits=["test"], every=8, views=1, seed=424242, rig=rig))


def check_accuracy(lifter: Lifter, data: PoseSet, noisy: bool = False, missing: int = 0) -> dict[str, float]:
    """MPJPE, PA-MPJPE, MRPE (mm) on the check set, with clean or mixture-noised 2D (seeded), and
    ``missing`` of the 2D stage's joints missing (forearms and lower legs first, seeded)."""
    from .data.missingness import missing_masks

    keypoints = noisy_keypoints(data, "mixture", None, seed=0) if noisy else None
    visible = missing_masks(data, missing, "limbs", seed=0) if missing else None
    result = evaluate_lifters({"default": lifter}, data, with_analytic_root=False, keypoints=keypoints,
                              visible=visible)
    means = result.methods[0].mean()
    return {k: round(means[k], 3) for k in ("MPJPE", "PA-MPJPE", "MRPE")}


def read_record() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def per_focal_accuracy(lifter: Lifter, focals: tuple[float, ...] = (600.0, 1000.0, 1500.0, 2000.0)) -> dict[str, dict[str, float]]:
    return {f"{f:.0f}": check_accuracy(lifter, check_set(focal_px=f)) for f in focals}


__all__ = ["CHECKPOINT", "ONNX", "RECORD", "REPO_DATA", "check_set", "recorded_data", "check_accuracy", "read_record", "make_record",
           "per_focal_accuracy"]


def make_record(checkpoint: str | Path, onnx: str | Path, data_file: str, command: str, model: str,
                wall_time_s: float, machine: str, check_rig: dict, error_model_sha256: str) -> dict:
    """The provenance record of a newly trained default lifter (write it to :data:`RECORD` next to
    the files). ``data_file`` is repository-relative; the check set is drawn from it with
    ``check_rig`` (rig settings) and the accuracy on it recorded for the regression test."""
    from .digest import file_sha256
    from .lifter.checkpoint import read_checkpoint

    payload = read_checkpoint(checkpoint)
    record = {
        "model": model,
        "command": command,
        "train_config": payload["train_config"],
        "best_epoch": payload["epoch"] + 1,
        "validation_at_best_epoch": payload["metrics"],
        "data": {"file": data_file, "sha256": file_sha256(REPO_ROOT / data_file),
                 "error_model_sha256": error_model_sha256},
        "seed": payload["train_config"]["seed"],
        "wall_time_s": round(wall_time_s),
        "machine": machine,
        "checkpoint_sha256": file_sha256(checkpoint),
        "onnx_sha256": file_sha256(onnx),
    }
    from .lifter.inference import TorchLifter

    lifter = TorchLifter.from_checkpoint(checkpoint)
    data = _check_set(REPO_ROOT / data_file, check_rig)
    focal = {f"{f:.0f}": check_accuracy(lifter, _check_set(REPO_ROOT / data_file, check_rig, f))
             for f in (600.0, 1000.0, 1500.0, 2000.0)}
    record["check_set"] = {
        "what": "shipped.check_set(): test split, every 8th frame, 1 rig camera per pose (rig below), seed 424242",
        "rig": check_rig,
        "samples": len(data),
        "clean_2d": check_accuracy(lifter, data),
        "mixture_noised_2d": check_accuracy(lifter, data, noisy=True),
        "mixture_noised_2d_6_missing": check_accuracy(lifter, data, noisy=True, missing=6),
        "clean_2d_by_focal_px": focal,
    }
    return record
