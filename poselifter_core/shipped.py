"""The shipped default lifter: where it lives, its recorded provenance and its check set.

``assets/lifter/poselifter_default.json`` records how the model was made (command, config, data
hash, seed, wall time, machine) and its accuracy on :func:`check_set`, a small fixed set rendered
by the virtual camera rig from the held-out test subjects of the shipped open mocap data. The
regression test recomputes that accuracy and compares.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


from .data.pose_set import PoseSet
from .data.rig import RigConfig
from .data.sources import DataSpec, load_pose_set
from .evaluate import evaluate_lifters, noisy_keypoints
from .lifter.inference import Lifter

ASSETS = Path(__file__).resolve().parent / "assets" / "lifter"
CHECKPOINT = ASSETS / "poselifter_default.pt"
ONNX = ASSETS / "poselifter_default.onnx"
RECORD = ASSETS / "poselifter_default.json"
REPO_DATA = Path(__file__).resolve().parent.parent / "data" / "open_mocap" / "open_mocap_h36m17_world_mm.npz"


def check_set(data_path: str | Path = REPO_DATA, focal_px: float | None = None) -> PoseSet:
    """Held-out subjects, every 8th frame, one rig camera each, fixed seed; optionally one focal length."""
    rig = RigConfig() if focal_px is None else RigConfig(focal_px=(focal_px, focal_px))
    return load_pose_set(DataSpec(kind="mocap", path=str(data_path), splits=["test"], every=8, views=1, seed=424242, rig=rig))


def check_accuracy(lifter: Lifter, data: PoseSet, noisy: bool = False) -> dict[str, float]:
    """MPJPE, PA-MPJPE, MRPE (mm) on the check set, with clean or mixture-noised 2D (seeded)."""
    keypoints = noisy_keypoints(data, "mixture", None, seed=0) if noisy else None
    result = evaluate_lifters({"default": lifter}, data, with_analytic_root=False, keypoints=keypoints)
    means = result.methods[0].mean()
    return {k: round(means[k], 3) for k in ("MPJPE", "PA-MPJPE", "MRPE")}


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_record() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def per_focal_accuracy(lifter: Lifter, focals: tuple[float, ...] = (600.0, 1000.0, 1500.0, 2000.0)) -> dict[str, dict[str, float]]:
    return {f"{f:.0f}": check_accuracy(lifter, check_set(focal_px=f)) for f in focals}


__all__ = ["CHECKPOINT", "ONNX", "RECORD", "check_set", "check_accuracy", "file_sha256", "read_record",
           "per_focal_accuracy"]
