"""Human3.6M as prepared for VideoPose3D (facebookresearch/VideoPose3D, ``data/``).

* ``data_3d_h36m.npz``: ``positions_3d``, a pickled dict subject -> action -> (F, 32, 3) array
  of world coordinates in metres (the full 32-joint Human3.6M skeleton).
* ``data_2d_h36m_<name>.npz`` (``gt``, ``cpn_ft_h36m_dbb``, ...): ``positions_2d``, a dict
  subject -> action -> list with one (F', 17, 2) pixel array per camera (a third channel, if
  any, is ignored), and ``metadata`` (``num_joints``, ``keypoints_symmetry``, ``layout_name``).
  A 2D sequence may be longer than its mocap; like VideoPose3D, the extra frames are dropped.
* a camera JSON written by the user (see :mod:`.h36m_camera`): VideoPose3D keeps the
  calibration in its source code and this project does not ship Human3.6M's values.

32 -> 17 joints: VideoPose3D removes joints 4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29,
30, 31; the kept joints, in order, are :data:`H36M32_KEPT` and are, name for name, the H36M17
order (Hip, RHip, RKnee, RFoot, LHip, LKnee, LFoot, Spine, Thorax, Neck/Nose, Head, LShoulder,
LElbow, LWrist, RShoulder, RElbow, RWrist); VideoPose3D's 17-joint parents after its shoulder
rewiring equal ``H36M17.parents`` (checked in the tests).

The 2D files hold distorted image coordinates (the ``gt`` file is the distorted projection of
the mocap, detectors see distorted images). With ``undistort=True`` (default) and distortion
coefficients in the camera JSON, keypoints are undistorted so they match the pinhole geometry
the lifter assumes.

The npz files contain pickled Python dicts; they are loaded with ``allow_pickle=True``, so read
only files you trust.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...skeleton import H36M17
from ..pose_set import PoseSet
from ._checks import check_every, require_file, require_keys, require_millimetres, require_shape, select
from .h36m_camera import CameraRig, load_camera_rig, undistort_pixels, world_to_camera
from .h36m_meta import action_name

#: Indices of the 32-joint Human3.6M skeleton kept by VideoPose3D, in H36M17 order.
H36M32_KEPT: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)

#: VideoPose3D's h36m 2D layout: (left joints, right joints), the H36M17 flip pairs.
H36M17_SYMMETRY = ([4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16])


def read_videopose3d(
    positions_3d_path: str | Path,
    positions_2d_path: str | Path,
    cameras_json: str | Path,
    subjects: list[str] | str | None = None,
    every: int = 1,
    undistort: bool = True,
) -> PoseSet:
    """Read VideoPose3D's 3D + 2D npz files and a camera JSON into an H36M17 :class:`PoseSet`.

    One sample per (subject, action, camera, frame), frames ``0, every, 2 * every, ...``.
    Labels: subject as in the files (``"S9"``), action the scenario name without the
    sub-action number (``"Walking 1"`` -> ``"Walking"``), camera the id from the JSON.
    """
    rig = load_camera_rig(cameras_json)
    every = check_every(every)
    positions_3d = _load_dict(positions_3d_path, "positions_3d", "VideoPose3D 3D npz")
    positions_2d = _load_2d(positions_2d_path)
    where_3d, where_2d = str(positions_3d_path), str(positions_2d_path)
    chosen = select(subjects, list(positions_3d), "subject", where_3d)

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("kp", "j3", "intr", "size", "subject", "action", "camera")}
    for subject in chosen:
        if subject not in positions_2d:
            raise ValueError(f"{where_2d}: subject {subject!r} is missing; it has {sorted(positions_2d)}")
        for action, world_m in positions_3d[subject].items():
            where = f"{where_3d}: positions_3d[{subject!r}][{action!r}]"
            world_m = require_shape(np.asarray(world_m, dtype=np.float64), (None, 32, 3), where)
            world_mm = world_m[::every, list(H36M32_KEPT)] * 1000.0
            views = _views(positions_2d[subject], subject, action, len(rig.cameras), where_2d)
            for camera, keypoints in zip(rig.cameras, views):
                where_view = f"{where_2d}: positions_2d[{subject!r}][{action!r}] camera {camera.id!r}"
                if len(keypoints) < len(world_m):
                    raise ValueError(f"{where_view}: {len(keypoints)} frames, fewer than the mocap's {len(world_m)}")
                keypoints = keypoints[: len(world_m)][::every, :, :2].astype(np.float64)
                if undistort and camera.distorted:
                    keypoints = undistort_pixels(keypoints, camera)
                joints = world_to_camera(world_mm, rig.extrinsics_of(subject, camera.id, str(cameras_json)))
                n = len(joints)
                parts["kp"].append(keypoints)
                parts["j3"].append(joints)
                parts["intr"].append(np.broadcast_to(camera.intrinsics, (n, 4)))
                parts["size"].append(np.broadcast_to(camera.image_size or (0, 0), (n, 2)))
                parts["subject"].append(np.full(n, subject))
                parts["action"].append(np.full(n, action_name(action)))
                parts["camera"].append(np.full(n, camera.id))
    if not parts["kp"]:
        raise ValueError(f"{where_3d}: no frames for subjects {chosen}")
    joints_3d = np.concatenate(parts["j3"])
    require_millimetres(joints_3d, H36M17.root, f"{where_3d} with cameras {cameras_json}")
    sizes_known = all(c.image_size is not None for c in rig.cameras)
    return PoseSet(
        keypoints_2d=np.concatenate(parts["kp"]),
        joints_3d=joints_3d,
        intrinsics=np.concatenate(parts["intr"]),
        skeleton=H36M17,
        image_size=np.concatenate(parts["size"]) if sizes_known else None,
        subject=np.concatenate(parts["subject"]),
        action=np.concatenate(parts["action"]),
        camera=np.concatenate(parts["camera"]),
    )


def _load_dict(path: str | Path, key: str, what: str) -> dict:
    path = require_file(path, what)
    with np.load(path, allow_pickle=True) as data:
        require_keys(data.files, (key,), str(path))
        value = data[key]
    value = value.item() if value.dtype == object and value.shape == () else value
    if not isinstance(value, dict):
        raise ValueError(
            f"{path}: {key!r} must be a pickled dict subject -> action -> array, got {type(value).__name__}"
        )
    return value


def _load_2d(path: str | Path) -> dict:
    positions = _load_dict(path, "positions_2d", "VideoPose3D 2D npz")
    with np.load(path, allow_pickle=True) as data:
        metadata = data["metadata"].item() if "metadata" in data.files else {}
    layout = metadata.get("layout_name", "h36m")
    if layout != "h36m":
        raise ValueError(f"{path}: keypoint layout {layout!r} is not Human3.6M's 17-joint 'h36m' layout")
    if metadata.get("num_joints", 17) != 17:
        raise ValueError(f"{path}: metadata says {metadata['num_joints']} joints, expected 17")
    symmetry = metadata.get("keypoints_symmetry")
    if symmetry is not None and [list(map(int, s)) for s in symmetry] != [list(s) for s in H36M17_SYMMETRY]:
        raise ValueError(
            f"{path}: keypoints_symmetry {symmetry} differs from the H36M17 layout {list(H36M17_SYMMETRY)}; "
            "the 2D joints are in another order"
        )
    return positions


def _views(per_action: dict, subject: str, action: str, num_cameras: int, where: str) -> list[np.ndarray]:
    if action not in per_action:
        raise ValueError(f"{where}: action {action!r} of subject {subject!r} is missing; it has {sorted(per_action)}")
    views = per_action[action]
    if len(views) != num_cameras:
        raise ValueError(
            f"{where}: positions_2d[{subject!r}][{action!r}] has {len(views)} camera views, "
            f"the camera JSON lists {num_cameras}"
        )
    checked = []
    for i, view in enumerate(views):
        view = np.asarray(view)
        if view.ndim != 3 or view.shape[1] != 17 or view.shape[2] < 2:
            raise ValueError(
                f"{where}: positions_2d[{subject!r}][{action!r}][{i}] must be (F, 17, 2), got {view.shape}"
            )
        checked.append(view)
    return checked
