"""Data specs in configs -> PoseSets.

A :class:`DataSpec` names a source ``kind``:

* ``mocap``: world-frame motion capture (``poselifter data convert`` output) seen through the
  virtual camera rig (:mod:`.rig`); ``subjects`` / ``splits`` select clips, ``every`` subsamples
  frames, ``views`` cameras are drawn per pose.
* ``h36m_h5``, ``videopose3d``, ``mpi_inf_3dhp``, ``npz``: files in the standard layouts users
  bring (:mod:`.readers`); ``options`` passes reader-specific settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .pose_set import PoseSet
from .rig import RigConfig, render_views
from .world_mocap import load_world_mocap


@dataclass
class DataSpec:
    kind: str = "mocap"
    path: str = ""
    subjects: list[str] | None = None
    splits: list[str] | None = None
    every: int = 1
    views: int = 4
    seed: int = 0
    rig: RigConfig = field(default_factory=RigConfig)
    options: dict[str, Any] = field(default_factory=dict)


def load_pose_set(spec: DataSpec, seed_offset: int = 0) -> PoseSet:
    """Materialise a spec; ``seed_offset`` draws fresh rig cameras (e.g. one per epoch)."""
    if spec.kind == "mocap":
        if not spec.path:
            raise ValueError("data spec of kind 'mocap' has no path")
        clips = load_world_mocap(spec.path, subjects=spec.subjects, splits=spec.splits, every=spec.every)
        return render_views(clips, spec.rig, spec.views, seed=spec.seed + seed_offset)
    from .readers import READERS, read_dataset  # the file readers are only needed for these kinds

    accepts = READERS[spec.kind].required + READERS[spec.kind].optional if spec.kind in READERS else ()
    options = dict(spec.options)
    if spec.path:
        options["path"] = spec.path
    if spec.subjects is not None and "subjects" in accepts:
        options["subjects"] = spec.subjects
    if spec.every > 1 and "every" in accepts:
        options["every"] = spec.every
    pose_set = read_dataset(spec.kind, **options)
    if spec.subjects is not None and "subjects" not in accepts:
        pose_set = pose_set.where(subject=spec.subjects)
    if spec.every > 1 and "every" not in accepts:
        pose_set = pose_set.subset(slice(None, None, spec.every))
    return pose_set
