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
    if not spec.path:
        raise ValueError(f"data spec of kind {spec.kind!r} has no path")
    if spec.kind == "mocap":
        clips = load_world_mocap(spec.path, subjects=spec.subjects, splits=spec.splits, every=spec.every)
        return render_views(clips, spec.rig, spec.views, seed=spec.seed + seed_offset)
    from .readers import read_dataset  # the file readers are only needed for these kinds

    options = dict(spec.options)
    if spec.subjects is not None:
        options["subjects"] = spec.subjects
    pose_set = read_dataset(spec.kind, path=spec.path, **options)
    return pose_set if spec.every == 1 else pose_set.subset(slice(None, None, spec.every))
