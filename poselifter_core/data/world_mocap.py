"""World-frame motion capture clips (H36M-17 joints, mm, Y up) as converted by ``poselifter data convert``.

File layout: ``<name>.npz`` holds one (F, 17, 3) array per clip id (plus ``joint_names`` and
``parents``); the JSON sidecar ``<name>.json`` holds ``{"clips": {clip_id: {"subject", "fps",
"split", "source", ...}}}``. A clip without a ``split`` field takes its split from the rule
``poselifter_core.mocap.splits.split_for_subject`` (held-out CMU test subjects end in 1). A file in
which one ASF skeleton (one performer) sits under subject labels in different splits is refused
(:func:`poselifter_core.mocap.identity.check_skeleton_splits`), whichever split is asked for.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..mocap.identity import check_skeleton_splits
from ..mocap.splits import split_for_subject
from ..skeleton import H36M17, Skeleton

RESERVED_KEYS = ("joint_names", "parents")


@dataclass
class MocapClip:
    clip_id: str
    subject: str
    split: str
    fps: float
    joints: np.ndarray  # (F, J, 3) world mm, Y up


def load_world_mocap(path: str | Path, subjects: list[str] | None = None, splits: list[str] | None = None,
                     every: int = 1, skeleton: Skeleton = H36M17) -> list[MocapClip]:
    """Clips of the given subjects and/or splits, temporally subsampled by ``every``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no motion capture file at {path}")
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text(encoding="utf-8")).get("clips", {}) if sidecar.is_file() else {}
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    check_skeleton_splits(meta.values(), str(path))
    clips = []
    with np.load(path, allow_pickle=False) as data:
        if "joint_names" in data.files and tuple(str(n) for n in data["joint_names"]) != skeleton.joint_names:
            raise ValueError(f"{path}: joint order {data['joint_names'].tolist()} is not {skeleton.name}'s")
        for clip_id in data.files:
            if clip_id in RESERVED_KEYS:
                continue
            info = meta.get(clip_id, {})
            subject = str(info.get("subject", clip_id.split("_")[0]))
            split = str(info.get("split", split_for_subject(subject)))
            if subjects is not None and subject not in subjects:
                continue
            if splits is not None and split not in splits:
                continue
            joints = np.asarray(data[clip_id], dtype=np.float32)[::every]
            skeleton.check_joint_count(joints, f"{path}:{clip_id}")
            clips.append(MocapClip(clip_id, subject, split, float(info.get("fps", 0.0)) / every, joints))
    if not clips:
        raise ValueError(f"{path}: no clips match subjects={subjects} splits={splits}")
    return clips
