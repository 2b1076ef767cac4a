"""The MPI-INF-3DHP test set: ``TS1`` .. ``TS6`` / ``annot_data.mat``.

Layout of each ``annot_data.mat`` (MATLAB dimension order; the released files are MATLAB v7.3,
i.e. HDF5, where h5py sees the dimensions reversed, e.g. ``univ_annot3`` as (N, 1, 17, 3);
MATLAB v5 files read by scipy keep the MATLAB order, both are accepted):

=================== ============== ===========================================================
variable            MATLAB shape   meaning
=================== ============== ===========================================================
annot2              2 x 17 x 1 x N 2D joints in image pixels
annot3              3 x 17 x 1 x N 3D joints, camera frame, mm
univ_annot3         3 x 17 x 1 x N 3D joints rescaled to the "universal" skeleton, mm
valid_frame         1 x N          1 where the frame's annotation is valid
activity_annotation 1 x N          activity id 1..7 (see :data:`ACTIVITY_NAMES`)
=================== ============== ===========================================================

The PoseLifter authors evaluate against ``univ_annot3`` (their ``mpii_test.m``, following the
dataset's evaluation script), so that is the default; ``universal=False`` reads ``annot3``.
``annot2`` is the projection of ``annot3``; the universal skeleton is the same pose with
standardised bone lengths, so its projection differs slightly from ``annot2``.

Joints: the test set's 17 joints are, in order, head_top, neck, right_shoulder, right_elbow,
right_wrist, left_shoulder, left_elbow, left_wrist, right_hip, right_knee, right_ankle,
left_hip, left_knee, left_ankle, pelvis, spine, head. :data:`MPI_TEST_TO_H36M17` picks them in
H36M17 order (the inverse of the official code's H36M -> MPI table ``[11, 9, 15, 16, 17, 12,
13, 14, 2, 3, 4, 5, 6, 7, 1, 8, 10]``). Three joints are defined differently from Human3.6M:
H36M "Thorax" <- MPI "neck", H36M "Neck/Nose" <- MPI "head" (centre of the head), and H36M
"Head" <- MPI "head_top"; the others correspond directly.

Intrinsics are not in ``annot_data.mat``; they come from the test set's calibration files
``test_util/camera_calibration/ts1-4cameras.calib`` (studio camera, 2048 x 2048) and
``ts5-6cameras.calib`` (outdoor camera, 1920 x 1080). The user writes them, in pixels, into a
small YAML or JSON file (or passes the same mapping directly)::

    studio:  {fx: ..., fy: ..., cx: ..., cy: ..., width: 2048, height: 2048}   # TS1-TS4
    outdoor: {fx: ..., fy: ..., cx: ..., cy: ..., width: 1920, height: 1080}   # TS5, TS6
    TS3: {...}          # optional: a per-sequence entry overrides its group

``docs/datasets.md`` shows how to convert the calibration files' millimetre values to pixels.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.io
import yaml

from ...skeleton import H36M17
from ..pose_set import PoseSet
from ._checks import require_file, require_keys, require_millimetres, select

SEQUENCES: tuple[str, ...] = ("TS1", "TS2", "TS3", "TS4", "TS5", "TS6")

#: Recording setting of each test sequence (the columns of the paper's Table 6).
SCENES: dict[str, str] = {
    "TS1": "StudioGS", "TS2": "StudioGS", "TS3": "StudioNoGS", "TS4": "StudioNoGS",
    "TS5": "Outdoor", "TS6": "Outdoor",
}

#: Which camera group of the intrinsics file each sequence uses.
CAMERA_GROUPS: dict[str, str] = {s: ("outdoor" if SCENES[s] == "Outdoor" else "studio") for s in SEQUENCES}

MPI_TEST_JOINTS: tuple[str, ...] = (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "pelvis", "spine", "head",
)

#: ``mpi_joints[:, MPI_TEST_TO_H36M17]`` is in H36M17 order.
MPI_TEST_TO_H36M17: tuple[int, ...] = (14, 8, 9, 10, 11, 12, 13, 15, 1, 16, 0, 5, 6, 7, 2, 3, 4)

#: Activity ids 1..7 of ``activity_annotation``, as named in the dataset's evaluation tables.
ACTIVITY_NAMES: tuple[str, ...] = (
    "Stand/Walk", "Exercise", "Sit on Chair", "Reach/Crouch", "On Floor", "Sports", "Misc.",
)

_INTRINSIC_KEYS = ("fx", "fy", "cx", "cy")


def read_mpi_inf_3dhp_test(
    root_dir: str | Path,
    intrinsics_file: str | Path | dict[str, Any],
    sequences: list[str] | str | None = None,
    valid_only: bool = True,
    universal: bool = True,
) -> PoseSet:
    """Read ``root_dir/TS<k>/annot_data.mat`` for the chosen sequences (default all six).

    Labels: subject and camera are the sequence name (``"TS1"``), action the activity name.
    ``valid_only`` keeps only frames with ``valid_frame == 1`` (the frames the benchmark scores).
    """
    root = Path(root_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"no MPI-INF-3DHP test-set directory at {root}")
    chosen = select(sequences, SEQUENCES, "sequence", str(root))
    intrinsics = load_sequence_intrinsics(intrinsics_file, chosen)
    key_3d = "univ_annot3" if universal else "annot3"
    sets = []
    for sequence in chosen:
        path = require_file(root / sequence / "annot_data.mat", f"annot_data.mat of sequence {sequence}")
        annot = load_annot_mat(path, ("annot2", key_3d, "valid_frame", "activity_annotation"))
        sets.append(_sequence_set(annot, key_3d, sequence, intrinsics[sequence], valid_only, path))
    return PoseSet.concatenate(sets)


def load_sequence_intrinsics(
    source: str | Path | dict[str, Any], sequences: list[str] | tuple[str, ...] = SEQUENCES
) -> dict[str, tuple[np.ndarray, tuple[int, int] | None]]:
    """Per requested sequence: ``([fx, fy, cx, cy], (width, height) or None)`` from a file or mapping."""
    if isinstance(source, dict):
        where, data = "MPI-INF-3DHP intrinsics", source
    else:
        path = require_file(source, "MPI-INF-3DHP intrinsics file")
        where, data = str(path), yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{where}: must map 'studio', 'outdoor' or sequence names to fx, fy, cx, cy")
    known = set(SEQUENCES) | set(CAMERA_GROUPS.values())
    unknown = set(map(str, data)) - known
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    result = {}
    for sequence in sequences:
        key = sequence if sequence in data else CAMERA_GROUPS[sequence]
        if key not in data:
            raise ValueError(f"{where}: no intrinsics for {sequence}; give {sequence!r} or {key!r}")
        result[sequence] = _camera_entry(data[key], f"{where}: {key}")
    return result


def load_annot_mat(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named variables of a v7.3 (HDF5) or v5 .mat file, all in h5py's reversed dimension order."""
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as f:
            require_keys(f.keys(), keys, str(path))
            return {key: np.asarray(f[key][()]) for key in keys}
    try:
        data = scipy.io.loadmat(path, variable_names=list(keys))
    except (ValueError, TypeError, OSError) as error:
        raise ValueError(f"{path}: cannot read as a MATLAB v5 or v7.3 file: {error}") from None
    require_keys(data, keys, str(path))
    return {key: np.asarray(data[key]).T for key in keys}


def _sequence_set(
    annot: dict[str, np.ndarray],
    key_3d: str,
    sequence: str,
    camera: tuple[np.ndarray, tuple[int, int] | None],
    valid_only: bool,
    path: Path,
) -> PoseSet:
    valid = annot["valid_frame"]
    n = valid.size
    valid = valid.reshape(n) != 0
    keypoints = _joints(annot["annot2"], n, 2, f"{path}: annot2")
    joints = _joints(annot[key_3d], n, 3, f"{path}: {key_3d}")
    activity = annot["activity_annotation"]
    if activity.size != n:
        raise ValueError(f"{path}: activity_annotation has {activity.size} entries for {n} frames")
    keep = valid if valid_only else np.ones(n, dtype=bool)
    ids = np.rint(activity.reshape(n)[keep]).astype(np.int64)
    bad = (ids < 1) | (ids > len(ACTIVITY_NAMES))
    if np.any(bad & valid[keep]):
        raise ValueError(f"{path}: activity ids must be 1..{len(ACTIVITY_NAMES)}, got {sorted(set(ids[bad].tolist()))}")
    names = np.array(("unknown",) + ACTIVITY_NAMES)[np.where(bad, 0, ids)]
    joints = joints[keep][:, list(MPI_TEST_TO_H36M17)]
    require_millimetres(joints[valid[keep]], H36M17.root, f"{path}: {key_3d}")
    intrinsics, size = camera
    count = int(keep.sum())
    return PoseSet(
        keypoints_2d=keypoints[keep][:, list(MPI_TEST_TO_H36M17)],
        joints_3d=joints,
        intrinsics=np.broadcast_to(intrinsics, (count, 4)),
        skeleton=H36M17,
        image_size=None if size is None else np.broadcast_to(size, (count, 2)),
        subject=np.full(count, sequence),
        action=names,
        camera=np.full(count, sequence),
    )


def _joints(array: np.ndarray, n: int, dims: int, what: str) -> np.ndarray:
    """(N, 1, 17, D) or (N, 17, D) -> (N, 17, D) float64."""
    if array.shape[:1] != (n,) or array.shape[-2:] != (17, dims) or array.size != n * 17 * dims:
        raise ValueError(f"{what}: expected (N, 1, 17, {dims}) with N = {n} frames (valid_frame), got {array.shape}")
    return array.reshape(n, 17, dims).astype(np.float64)


def _camera_entry(entry: Any, where: str) -> tuple[np.ndarray, tuple[int, int] | None]:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be a mapping with fx, fy, cx, cy (and optionally width, height)")
    require_keys(entry, _INTRINSIC_KEYS, where)
    unknown = set(entry) - {*_INTRINSIC_KEYS, "width", "height"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: fx, fy, cx, cy, width, height")
    values = np.array([entry[k] for k in _INTRINSIC_KEYS], dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values[:2] <= 0):
        raise ValueError(f"{where}: fx, fy must be positive and all values finite, got {values.tolist()}")
    if ("width" in entry) != ("height" in entry):
        raise ValueError(f"{where}: give both 'width' and 'height' or neither")
    size = (int(entry["width"]), int(entry["height"])) if "width" in entry else None
    return values, size
