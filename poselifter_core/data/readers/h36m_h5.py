"""Human3.6M as the PoseLifter authors' annotation file ``annot/h36m/h36m17.h5``.

Layout (one row per frame and camera; read by ``src/datasets_lift/h36m17.py`` of
juyongchang/PoseLifter, built from the dataset's MATLAB release code):

========= ============ =================================================================
dataset   shape        meaning
========= ============ =================================================================
idx       (N,)         1-based frame number within the video
pose2d    (N, 17, 2)   2D joints in image pixels (H36M17 order)
pose3d    (N, 17, 3)   3D joints in the camera frame, millimetres
cam_f     (N, 2)       focal lengths fx, fy in pixels
cam_c     (N, 2)       principal point cx, cy in pixels
subject   (N,)         subject number (1, 5, 6, 7, 8, 9, 11)
action    (N,)         action id 2..16 (see ``h36m_meta.ACTION_NAMES``)
camera    (N,)         camera number 1..4
bbox, subaction        present in the file, not needed here
========= ============ =================================================================

The official code keeps every 50th frame (``idx % 50 == 1``) unless run "dense"; ``every=50``
reproduces that selection. The file carries no distortion coefficients, so the 2D joints are
used as they are (the release code's projections, which include lens distortion), exactly as
the authors did.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from ...skeleton import H36M17
from ..pose_set import PoseSet
from ._checks import check_every, require_file, require_keys, require_millimetres, require_shape, select
from .h36m_meta import IMAGE_SIZES, action_name, camera_serial, subject_name

REQUIRED_KEYS = ("idx", "pose2d", "pose3d", "cam_f", "cam_c", "subject", "action", "camera")

#: Rows read at a time, so a subsampled read never holds the whole file in memory.
_BLOCK_ROWS = 1 << 16


def read_h36m_h5(path: str | Path, subjects: list[str] | str | None = None, every: int = 1) -> PoseSet:
    """Read ``h36m17.h5`` into a :class:`PoseSet` of the H36M17 skeleton.

    ``subjects``: e.g. ``["S9", "S11"]`` (default: all in the file). ``every``: keep frames whose
    1-based number ``idx`` satisfies ``(idx - 1) % every == 0``; 50 matches the official code.
    Labels: subject ``"S9"``, action the scenario name (``"Walking"``), camera the serial.
    """
    path = require_file(path, "Human3.6M annotation h5")
    every = check_every(every)
    with h5py.File(path, "r") as f:
        require_keys(f.keys(), REQUIRED_KEYS, str(path))
        n = f["idx"].shape[0] if f["idx"].ndim else 0
        for key in REQUIRED_KEYS:
            if f[key].ndim == 0 or f[key].shape[0] != n:
                raise ValueError(f"{path}: dataset {key!r} has shape {f[key].shape}, expected {n} rows like 'idx'")
        idx = np.asarray(f["idx"][()]).reshape(n, -1)[:, 0]
        subject = _labels(f["subject"][()], n, path, "subject", subject_name)
        wanted = select(subjects, _unique(subject), "subject", str(path))
        mask = np.isin(subject, wanted) & ((np.rint(idx).astype(np.int64) - 1) % every == 0)
        rows = {key: _read_rows(f[key], mask) for key in ("pose2d", "pose3d", "cam_f", "cam_c", "action", "camera")}
    pose2d = require_shape(rows["pose2d"], (None, 17, 2), f"{path}: pose2d")
    pose3d = require_shape(rows["pose3d"], (None, 17, 3), f"{path}: pose3d")
    cam_f = require_shape(rows["cam_f"].reshape(len(pose2d), -1), (None, 2), f"{path}: cam_f")
    cam_c = require_shape(rows["cam_c"].reshape(len(pose2d), -1), (None, 2), f"{path}: cam_c")
    require_millimetres(pose3d, H36M17.root, f"{path}: pose3d")
    actions = _labels(rows["action"], len(pose2d), path, "action", action_name)
    cameras = _labels(rows["camera"], len(pose2d), path, "camera", camera_serial)
    return PoseSet(
        keypoints_2d=pose2d,
        joints_3d=pose3d,
        intrinsics=np.concatenate([cam_f, cam_c], axis=1),
        skeleton=H36M17,
        image_size=_image_sizes(cameras),
        subject=subject[mask],
        action=actions,
        camera=cameras,
    )


def _read_rows(dataset: h5py.Dataset, mask: np.ndarray) -> np.ndarray:
    parts = [
        np.asarray(dataset[start:start + _BLOCK_ROWS])[mask[start:start + _BLOCK_ROWS]]
        for start in range(0, len(mask), _BLOCK_ROWS)
        if mask[start:start + _BLOCK_ROWS].any()
    ]
    if parts:
        return np.concatenate(parts)
    return np.zeros((0, *dataset.shape[1:]), dtype=dataset.dtype)


def _labels(values: np.ndarray, n: int, path: Path, key: str, convert: Callable[[object], str]) -> np.ndarray:
    """A (N,) or (N, 1) column of numbers or strings -> (N,) label strings, converting each distinct value once."""
    values = np.asarray(values)
    if values.size != n:
        raise ValueError(f"{path}: {key!r} must hold one value per row, got shape {values.shape}")
    distinct, inverse = np.unique(values.reshape(n), return_inverse=True)
    try:
        names = np.array([convert(v) for v in distinct.tolist()], dtype=str)
    except ValueError as error:
        raise ValueError(f"{path}: {key!r}: {error}") from None
    return names[inverse] if n else np.zeros(0, dtype=str)


def _image_sizes(cameras: np.ndarray) -> np.ndarray:
    distinct, inverse = np.unique(cameras, return_inverse=True)
    sizes = np.array([IMAGE_SIZES[c] for c in distinct], dtype=np.int32).reshape(-1, 2)
    return sizes[inverse]


def _unique(values: np.ndarray) -> list[str]:
    """Distinct values in order of first appearance."""
    _, first = np.unique(values, return_index=True)
    return [str(values[i]) for i in sorted(first)]
