"""The shipped default lifter: where it lives, its recorded provenance and its check set.

``assets/lifter/poselifter_default.json`` records how the model was made (command, config, data
hash, seed, wall time, machine) and its accuracy on :func:`check_set`, a small fixed set rendered
by the virtual camera rig from the held-out test subjects of the shipped open mocap data. The
regression test recomputes that accuracy and compares. When the data file is rebuilt under the model
(a fixed converter, the model files unchanged), ``make lifter-check-set`` (:func:`record_check_set`)
re-measures the check set and records the rebuilt file's SHA-256 beside the one the model was
trained on.

The int8-weight variant (:data:`ONNX_INT8`, what ONNX Runtime runs on the CPU by default) is
quantised from the shipped fp32 ONNX by ``make lifter-int8`` (``poselifter export --int8`` on the
shipped ONNX), which calls :func:`record_int8`: the variant is kept only if its MPJPE on the check
set is within :data:`INT8_MAX_MPJPE_COST_MM` of the fp32 file's, and its SHA-256, source and
accuracy go into the record.
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
from .integrity import LIFTER_CHECKPOINT, LIFTER_ONNX, LIFTER_ONNX_INT8, LIFTER_RECORD
from .lifter.inference import Lifter

CHECKPOINT, ONNX, ONNX_INT8, RECORD = LIFTER_CHECKPOINT, LIFTER_ONNX, LIFTER_ONNX_INT8, LIFTER_RECORD
#: The int8-weight variant is the CPU default only if its check-set MPJPE is within this of fp32's (#16).
INT8_MAX_MPJPE_COST_MM = 1.0
#: The check-set conditions of the record: (key, mixture-noised 2D, joints missing).
CHECK_CONDITIONS = (("clean_2d", False, 0), ("mixture_noised_2d", True, 0), ("mixture_noised_2d_6_missing", True, 6))
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


__all__ = ["CHECKPOINT", "CHECK_CONDITIONS", "INT8_MAX_MPJPE_COST_MM", "ONNX", "ONNX_INT8", "RECORD", "REPO_DATA",
           "check_set", "recorded_data", "check_accuracy", "read_record", "make_record", "per_focal_accuracy",
           "record_check_set", "record_int8"]


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
    record["check_set"] = _check_set_section(checkpoint, REPO_ROOT / data_file, check_rig)
    return record


def _check_set_section(checkpoint: str | Path, data_path: Path, check_rig: dict) -> dict:
    """The record's ``check_set`` section: the checkpoint's accuracy on the check set of ``data_path``."""
    from .lifter.inference import TorchLifter

    lifter = TorchLifter.from_checkpoint(checkpoint)
    data = _check_set(data_path, check_rig)
    section = {
        "what": "shipped.check_set(): test split, every 8th frame, 1 rig camera per pose (rig below), seed 424242",
        "rig": check_rig,
        "samples": len(data),
    }
    section.update({key: check_accuracy(lifter, data, noisy=noisy, missing=missing)
                    for key, noisy, missing in CHECK_CONDITIONS})
    section["clean_2d_by_focal_px"] = {f"{f:.0f}": check_accuracy(lifter, _check_set(data_path, check_rig, f))
                                       for f in (600.0, 1000.0, 1500.0, 2000.0)}
    return section


def record_check_set(command: str) -> dict:
    """Re-measure the shipped checkpoint on :func:`check_set` after its data file was rebuilt with the
    model files unchanged, and rewrite the record's ``check_set`` section. The data file's SHA-256
    becomes the rebuilt file's; the one the model was trained on is kept as ``data.trained_on_sha256``
    (whoever rebuilds states in ``data.rebuilt`` what changed, e.g. that train and val are bit-identical).
    Returns the new section."""
    from .digest import file_sha256

    record = read_record()
    data_path = REPO_ROOT / record["data"]["file"]
    digest = file_sha256(data_path)
    if digest != record["data"]["sha256"]:
        record["data"].setdefault("trained_on_sha256", record["data"]["sha256"])
        record["data"]["sha256"] = digest
    record["check_set"] = {**_check_set_section(CHECKPOINT, data_path, record["check_set"].get("rig", {})),
                           "command": command}
    _write_record(record)
    return record["check_set"]


def int8_accuracy() -> dict[str, dict[str, dict[str, float]]]:
    """The check-set accuracy of the shipped fp32 ONNX and of its int8 variant, both on ONNX
    Runtime's CPU, for each of :data:`CHECK_CONDITIONS`: ``{condition: {"fp32": ..., "int8": ...}}``."""
    from .lifter.runtime import LifterRuntime

    data = check_set()
    runtimes = {"fp32": LifterRuntime.from_onnx(ONNX, "onnxruntime-cpu", weights="fp32"),
                "int8": LifterRuntime.from_onnx(ONNX_INT8, "onnxruntime-cpu")}
    return {key: {name: check_accuracy(runtime, data, noisy=noisy, missing=missing) for name, runtime in runtimes.items()}
            for key, noisy, missing in CHECK_CONDITIONS}


def record_int8(command: str) -> dict:
    """Accept :data:`ONNX_INT8` (just quantised from :data:`ONNX` by ``command``) as the shipped
    variant: its MPJPE cost on the check set must stay under :data:`INT8_MAX_MPJPE_COST_MM` in every
    condition, else it is deleted and ``ValueError`` raised; then its SHA-256, source and accuracy
    are written to the record. Returns the record's ``int8`` section."""
    from .digest import file_sha256

    record = read_record()
    for key in ("onnx_int8_sha256", "int8"):  # an earlier variant's: the new file is checked, not refused
        record.pop(key, None)
    _write_record(record)
    accuracy = int8_accuracy()
    cost = {key: round(value["int8"]["MPJPE"] - value["fp32"]["MPJPE"], 3) for key, value in accuracy.items()}
    root_cost = {key: {"mm": round(value["int8"]["MRPE"] - value["fp32"]["MRPE"], 3),
                       "percent": round(100 * (value["int8"]["MRPE"] / value["fp32"]["MRPE"] - 1), 2)}
                 for key, value in accuracy.items()}
    if not all(c < INT8_MAX_MPJPE_COST_MM for c in cost.values()):
        ONNX_INT8.unlink(missing_ok=True)
        raise ValueError(f"int8 weights cost {cost} mm MPJPE on the check set (limit {INT8_MAX_MPJPE_COST_MM} mm); "
                         f"{ONNX_INT8.name} removed, the CPU keeps fp32")
    record["onnx_int8_sha256"] = file_sha256(ONNX_INT8)
    record["int8"] = {
        "what": "int8-weight variant of the ONNX (dynamic quantisation, per output channel): ONNX Runtime's CPU "
                "default (cascade.lifter_weights auto); GPU backends run the fp32 ONNX",
        "command": command,
        "quantized_from_onnx_sha256": record["onnx_sha256"],
        "check_set_onnxruntime_cpu": accuracy,
        "mpjpe_cost_mm": cost,
        "mrpe_cost": root_cost,
    }
    _write_record(record)
    return record["int8"]


def _write_record(record: dict) -> None:
    from .integrity import shipped_digests

    RECORD.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    shipped_digests.cache_clear()
