"""Readers for the standard dataset layouts, checked on small synthetic files of each layout."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import scipy.io
from scipy.spatial.transform import Rotation

from poselifter_core.camera import project
from poselifter_core.data.pose_set import PoseSet
from poselifter_core.data.readers import (
    protocol_subjects,
    read_dataset,
    read_h36m_h5,
    read_mpi_inf_3dhp_test,
    read_videopose3d,
)
from poselifter_core.data.readers.h36m_camera import Extrinsics, load_camera_rig, quaternion_to_matrix, world_to_camera
from poselifter_core.data.readers.videopose3d import H36M32_KEPT
from poselifter_core.skeleton import H36M17

# A standing person in a body frame (x right, y down, z forward), mm, H36M17 order.
TEMPLATE_MM = np.array([
    [0, 0, 0], [-130, 0, 0], [-130, 450, 0], [-130, 880, 0], [130, 0, 0], [130, 450, 0], [130, 880, 0],
    [0, -230, 0], [0, -480, 0], [0, -560, -50], [0, -680, 0], [170, -450, 0], [170, -170, 0], [170, 80, 0],
    [-170, -450, 0], [-170, -170, 0], [-170, 80, 0],
], dtype=np.float64)

INTRINSICS = np.array([1150.0, 1140.0, 510.0, 505.0])


def camera_frame_poses(n: int, seed: int = 0) -> np.ndarray:
    """(n, 17, 3) poses in front of a camera, 3-6 m away, mm."""
    rng = np.random.default_rng(seed)
    poses = TEMPLATE_MM + rng.normal(0.0, 20.0, (n, 17, 3))
    offset = np.stack([rng.uniform(-500, 500, n), rng.uniform(-200, 200, n), rng.uniform(3000, 6000, n)], axis=1)
    return poses + offset[:, None, :]


# --------------------------------------------------------------------------- Human3.6M h5


def write_h36m_h5(path, subjects, n_per_subject=120, subject_as_text=False, **override):
    rows = len(subjects) * n_per_subject
    pose3d = camera_frame_poses(rows)
    data = {
        "idx": np.tile(np.arange(1, n_per_subject + 1), len(subjects)).astype(np.int64),
        "pose3d": pose3d,
        "pose2d": project(pose3d, INTRINSICS),
        "bbox": np.zeros((rows, 4)),
        "cam_f": np.tile(INTRINSICS[:2], (rows, 1)),
        "cam_c": np.tile(INTRINSICS[2:], (rows, 1)),
        "subject": np.repeat(np.asarray(subjects), n_per_subject),
        "action": np.tile(np.arange(rows) % 15 + 2, 1)[:rows],
        "subaction": np.ones(rows, dtype=np.int64),
        "camera": np.arange(rows) % 4 + 1,
    }
    if subject_as_text:
        data["subject"] = np.array([f"S{s}".encode() for s in data["subject"]])
    data.update(override)
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            if value is not None:
                f[key] = value
    return data


def test_h36m_h5_recovers_poses_labels_and_cameras(tmp_path):
    path = tmp_path / "h36m17.h5"
    data = write_h36m_h5(path, [1, 9])
    poses = read_h36m_h5(path)
    assert len(poses) == 240 and poses.skeleton is H36M17
    np.testing.assert_allclose(poses.joints_3d, data["pose3d"], atol=1e-3)
    np.testing.assert_allclose(poses.keypoints_2d, data["pose2d"], atol=1e-3)
    np.testing.assert_allclose(poses.intrinsics, np.tile(INTRINSICS, (240, 1)))
    reprojected = project(poses.joints_3d.astype(np.float64), poses.intrinsics)
    np.testing.assert_allclose(reprojected, poses.keypoints_2d, atol=1e-2)
    assert poses.subject[0] == "S1" and poses.subject[-1] == "S9"
    # action ids 2, 3, 12, 16 are Directions, Discussion, Photo, WalkTogether
    assert list(poses.action[[0, 1, 10, 14]]) == ["Directions", "Discussion", "Photo", "WalkTogether"]
    assert list(poses.camera[:4]) == ["54138969", "55011271", "58860488", "60457274"]
    assert poses.image_size[:4].tolist() == [[1000, 1002], [1000, 1000], [1000, 1000], [1000, 1002]]


def test_h36m_h5_subject_filter_and_official_subsampling(tmp_path):
    path = tmp_path / "h36m17.h5"
    write_h36m_h5(path, [1, 5, 9, 11], subject_as_text=True)
    test = read_h36m_h5(path, subjects=protocol_subjects(1, "test"), every=50)
    # idx 1..120 with idx % 50 == 1: frames 1, 51, 101 for each of S9 and S11
    assert len(test) == 6
    assert sorted(set(test.subject)) == ["S11", "S9"]
    assert len(read_h36m_h5(path, subjects="S5")) == 120
    with pytest.raises(ValueError, match=r"unknown subject.*S7"):
        read_h36m_h5(path, subjects=["S7"])
    with pytest.raises(ValueError, match="every"):
        read_h36m_h5(path, every=0)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"cam_c": None}, r"missing key\(s\) \['cam_c'\]"),
        ({"pose2d": np.zeros((120, 2, 17))}, r"pose2d: expected shape \(N, 17, 2\)"),
        ({"camera": np.full(120, 7)}, "unknown Human3.6M camera 7"),
        ({"action": np.full(120, 1)}, "unknown Human3.6M action id 1"),
        ({"subject": np.ones(119, dtype=np.int64)}, "'subject' has shape"),
    ],
)
def test_h36m_h5_rejects_malformed_files(tmp_path, override, message):
    path = tmp_path / "bad.h5"
    write_h36m_h5(path, [1], **override)
    with pytest.raises(ValueError, match=message):
        read_h36m_h5(path)


def test_h36m_h5_rejects_metres_and_missing_files(tmp_path):
    path = tmp_path / "metres.h5"
    pose3d = camera_frame_poses(120) / 1000.0
    write_h36m_h5(path, [1], pose3d=pose3d)
    with pytest.raises(ValueError, match="metres"):
        read_h36m_h5(path)
    with pytest.raises(FileNotFoundError, match="nowhere.h5"):
        read_h36m_h5(tmp_path / "nowhere.h5")


# --------------------------------------------------------------------------- VideoPose3D

# Human3.6M's 32-joint parents (VideoPose3D's h36m_skeleton).
H36M32_PARENTS = [-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12, 16, 17, 18, 19, 20, 19, 22, 12, 24,
                  25, 26, 27, 28, 27, 30]


# Joints VideoPose3D removes (Human36mDataset.remove_joints) and the names of the kept ones
# (3d-pose-baseline's H36M_NAMES), both literal so the reader's constant is checked against them.
VP3D_REMOVED = [4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31]
VP3D_KEPT = [j for j in range(32) if j not in VP3D_REMOVED]
H36M32_NAMES = {0: "Hip", 1: "RHip", 2: "RKnee", 3: "RFoot", 6: "LHip", 7: "LKnee", 8: "LFoot", 12: "Spine",
                13: "Thorax", 14: "Neck/Nose", 15: "Head", 17: "LShoulder", 18: "LElbow", 19: "LWrist",
                25: "RShoulder", 26: "RElbow", 27: "RWrist"}


def test_kept_joints_are_videopose3d_s_and_named_in_h36m17_order():
    assert list(H36M32_KEPT) == VP3D_KEPT
    assert tuple(H36M32_NAMES[j] for j in VP3D_KEPT) == H36M17.joint_names


def test_kept_joints_give_the_h36m17_tree():
    """VideoPose3D's joint removal + shoulder rewiring yields exactly our H36M17 parents."""
    kept = VP3D_KEPT
    parents = []
    for joint in kept:
        parent = H36M32_PARENTS[joint]
        while parent != -1 and parent not in kept:
            parent = H36M32_PARENTS[parent]
        parents.append(-1 if parent == -1 else kept.index(parent))
    parents[11] = parents[14] = 8  # VideoPose3D: "Rewire shoulders to the correct parents"
    assert tuple(parents) == H36M17.parents


def vp3d_qrot(q, v):
    """VideoPose3D's quaternion rotation (common/quaternion.py), as an independent reference."""
    u = q[..., 1:]
    uv = np.cross(u, v)
    return v + 2 * (q[..., :1] * uv + np.cross(u, uv))


def vp3d_world_to_camera(x, q, t):
    q_inv = np.concatenate([q[:1], -q[1:]])
    return vp3d_qrot(np.broadcast_to(q_inv, x.shape[:-1] + (4,)), x - t)


def vp3d_project(x, f, c, k, p):
    """VideoPose3D's project_to_2d (Human3.6M distortion model), in pixels."""
    xx = np.clip(x[..., :2] / x[..., 2:], -1, 1)
    r2 = np.sum(xx**2, axis=-1, keepdims=True)
    radial = 1 + np.sum(k * np.concatenate([r2, r2**2, r2**3], axis=-1), axis=-1, keepdims=True)
    tan = np.sum(p * xx, axis=-1, keepdims=True)
    return f * (xx * (radial + tan) + p * r2) + c


def look_at_quaternion(centre_mm):
    """(w, x, y, z) orientation of a camera at centre_mm looking at the world origin, y down = world -z."""
    forward = -centre_mm / np.linalg.norm(centre_mm)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward], axis=1)  # columns: camera axes in world coordinates
    x, y, z, w = Rotation.from_matrix(rotation).as_quat()
    return np.array([w, x, y, z])


CAMERAS = [
    {"id": "cam_a", "fx": 1100.0, "fy": 1105.0, "cx": 500.0, "cy": 495.0, "width": 1000, "height": 1002,
     "radial_distortion": [-0.2, 0.24, -0.003], "tangential_distortion": [-0.001, -0.0014]},
    {"id": "cam_b", "fx": 1200.0, "fy": 1190.0, "cx": 515.0, "cy": 508.0, "width": 1000, "height": 1000},
]
CENTRES_MM = {"cam_a": np.array([4200.0, 1500.0, 1600.0]), "cam_b": np.array([-3900.0, -2200.0, 1400.0])}


def world_poses_m(frames: int, seed: int) -> np.ndarray:
    """(frames, 32, 3) world-frame poses in metres around the origin; dropped joints are noise."""
    rng = np.random.default_rng(seed)
    body = TEMPLATE_MM[:, [0, 2, 1]] * [1, 1, -1] + [0, 0, 900]  # z up, feet near the floor
    out = rng.normal(0.0, 5.0, (frames, 32, 3))
    out[:, VP3D_KEPT] = body + rng.normal(0.0, 20.0, (frames, 17, 3)) + rng.uniform(-300, 300, (frames, 1, 3))
    return out / 1000.0


def write_videopose3d(tmp_path, extra_2d_frames=2, metadata=None, camera_override=None):
    actions = {"S1": {"TakingPhoto": 7, "Walking 1": 5}, "S9": {"Directions": 6}}
    cameras = camera_override or CAMERAS
    extrinsics = {s: {c["id"]: {"orientation": look_at_quaternion(CENTRES_MM[c["id"]]).tolist(),
                                "translation_mm": CENTRES_MM[c["id"]].tolist()} for c in CAMERAS} for s in actions}
    positions_3d, positions_2d, expected = {}, {}, {}
    for s_index, (subject, per_action) in enumerate(actions.items()):
        positions_3d[subject], positions_2d[subject] = {}, {}
        for a_index, (action, frames) in enumerate(per_action.items()):
            world = world_poses_m(frames, seed=10 * s_index + a_index).astype(np.float32)
            positions_3d[subject][action] = world
            views = []
            for cam in CAMERAS:
                ext = extrinsics[subject][cam["id"]]
                cam_m = vp3d_world_to_camera(world.astype(np.float64), np.array(ext["orientation"]),
                                             np.array(ext["translation_mm"]) / 1000.0)
                expected[(subject, action, cam["id"])] = cam_m[:, VP3D_KEPT] * 1000.0
                uv = vp3d_project(cam_m[:, VP3D_KEPT], np.array([cam["fx"], cam["fy"]]),
                                  np.array([cam["cx"], cam["cy"]]), np.array(cam.get("radial_distortion", [0.0] * 3)),
                                  np.array(cam.get("tangential_distortion", [0.0] * 2)))
                extra = np.repeat(uv[-1:], extra_2d_frames, axis=0)  # videos may run longer than mocap
                views.append(np.concatenate([uv, extra]).astype(np.float32))
            positions_2d[subject][action] = views
    paths = {"positions_3d": tmp_path / "data_3d_h36m.npz", "positions_2d": tmp_path / "data_2d_h36m_gt.npz",
             "cameras": tmp_path / "cameras.json"}
    np.savez_compressed(paths["positions_3d"], positions_3d=positions_3d)
    symmetry = [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]
    meta = metadata if metadata is not None else {"num_joints": 17, "keypoints_symmetry": symmetry}
    np.savez_compressed(paths["positions_2d"], positions_2d=positions_2d, metadata=meta)
    listed = {s: {c["id"]: per_camera[c["id"]] for c in cameras} for s, per_camera in extrinsics.items()}
    paths["cameras"].write_text(json.dumps({"cameras": cameras, "extrinsics": listed}))
    return paths, positions_2d, expected


def test_quaternion_convention_matches_videopose3d():
    rng = np.random.default_rng(3)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    v = rng.normal(size=(5, 3))
    np.testing.assert_allclose(v @ quaternion_to_matrix(q).T, vp3d_qrot(np.tile(q, (5, 1)), v), atol=1e-12)
    t = rng.normal(size=3) * 1000
    mine = world_to_camera(v * 1000, Extrinsics(orientation=q, translation_mm=t))
    np.testing.assert_allclose(mine, vp3d_world_to_camera(v, q, t / 1000) * 1000, atol=1e-9)


def test_videopose3d_world_to_camera_units_and_undistortion(tmp_path):
    paths, _, expected = write_videopose3d(tmp_path)
    poses = read_videopose3d(paths["positions_3d"], paths["positions_2d"], paths["cameras"])
    assert len(poses) == (7 + 5 + 6) * 2
    first = poses.where(subject="S1", action="Photo", camera="cam_a")
    np.testing.assert_allclose(first.joints_3d, expected[("S1", "TakingPhoto", "cam_a")], atol=0.05)
    assert 3000 < np.median(poses.joints_3d[:, 0, 2]) < 6000  # metres became millimetres
    # Undistorted keypoints are the pinhole projection of the 3D joints with the read intrinsics.
    reprojected = project(poses.joints_3d.astype(np.float64), poses.intrinsics)
    np.testing.assert_allclose(reprojected, poses.keypoints_2d, atol=0.01)
    assert sorted(set(poses.action)) == ["Directions", "Photo", "Walking"]
    assert poses.where(camera="cam_a").image_size[0].tolist() == [1000, 1002]


def test_videopose3d_without_undistortion_keeps_file_keypoints(tmp_path):
    paths, positions_2d, _ = write_videopose3d(tmp_path)
    poses = read_videopose3d(paths["positions_3d"], paths["positions_2d"], paths["cameras"], subjects=["S9"],
                             undistort=False, every=2)
    file_2d = positions_2d["S9"]["Directions"]
    np.testing.assert_allclose(poses.where(camera="cam_a").keypoints_2d, file_2d[0][:6:2], atol=1e-4)
    distorted_error = np.abs(project(poses.joints_3d.astype(np.float64), poses.intrinsics) - poses.keypoints_2d)
    assert distorted_error[poses.camera == "cam_a"].max() > 1.0  # cam_a's distortion is visible
    np.testing.assert_allclose(distorted_error[poses.camera == "cam_b"], 0.0, atol=0.01)
    assert set(poses.subject) == {"S9"} and len(poses) == 3 * 2


def test_videopose3d_through_read_dataset(tmp_path):
    paths, _, _ = write_videopose3d(tmp_path)
    poses = read_dataset("videopose3d", **{k: str(v) for k, v in paths.items()}, subjects=["S1"])
    assert set(poses.subject) == {"S1"} and len(poses) == 24


def test_videopose3d_errors(tmp_path):
    paths, positions_2d, _ = write_videopose3d(tmp_path, extra_2d_frames=0)
    args = (paths["positions_3d"], paths["positions_2d"], paths["cameras"])
    with pytest.raises(ValueError, match=r"unknown subject.*S11"):
        read_videopose3d(*args, subjects=["S11"])
    with pytest.raises(FileNotFoundError, match="VideoPose3D 3D npz"):
        read_videopose3d(tmp_path / "missing.npz", *args[1:])

    positions_2d["S9"]["Directions"] = [view[:3] for view in positions_2d["S9"]["Directions"]]
    np.savez(tmp_path / "short_2d.npz", positions_2d=positions_2d)
    with pytest.raises(ValueError, match="3 frames, fewer than the mocap's 6"):
        read_videopose3d(args[0], tmp_path / "short_2d.npz", args[2], subjects="S9")

    del positions_2d["S9"]
    np.savez(tmp_path / "no_s9_2d.npz", positions_2d=positions_2d)
    with pytest.raises(ValueError, match="subject 'S9' is missing"):
        read_videopose3d(args[0], tmp_path / "no_s9_2d.npz", args[2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metadata": {"layout_name": "coco", "num_joints": 17}}, "layout 'coco'"),
        ({"metadata": {"keypoints_symmetry": [[1, 2, 3], [4, 5, 6]]}}, "keypoints_symmetry"),
        ({"camera_override": CAMERAS[:1]}, "2 camera views, the camera JSON lists 1"),
    ],
)
def test_videopose3d_rejects_mismatched_2d_files(tmp_path, kwargs, message):
    paths, _, _ = write_videopose3d(tmp_path, **kwargs)
    with pytest.raises(ValueError, match=message):
        read_videopose3d(paths["positions_3d"], paths["positions_2d"], paths["cameras"])


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["extrinsics"]["S1"]["cam_a"].update(translation=[1, 2, 3]), "'translation_mm'"),
        (lambda d: d["extrinsics"]["S1"]["cam_a"].update(orientation=[2, 0, 0, 0]), "unit quaternion"),
        (lambda d: d["extrinsics"].pop("S9"), "no extrinsics for subject 'S9'"),
        (lambda d: d["cameras"][0].pop("fy"), r"missing key\(s\) \['fy'\]"),
        (lambda d: d["cameras"][1].update(radial_distortion=[0.1]), "'radial_distortion' must be a list of 3"),
        (lambda d: d["extrinsics"]["S1"].update(cam_z={}), "unknown camera id"),
    ],
)
def test_camera_json_errors(tmp_path, edit, message):
    paths, _, _ = write_videopose3d(tmp_path)
    data = json.loads(paths["cameras"].read_text())
    edit(data)
    paths["cameras"].write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message):
        read_videopose3d(paths["positions_3d"], paths["positions_2d"], paths["cameras"])


def test_camera_json_example_is_documented_format(tmp_path):
    """A hand-written file with made-up values, in the documented form, loads as written."""
    path = tmp_path / "cameras.json"
    path.write_text(json.dumps({
        "cameras": [{"id": "front", "fx": 1000, "fy": 1000, "cx": 640, "cy": 360, "width": 1280, "height": 720}],
        "extrinsics": {"S1": {"front": {"orientation": [1, 0, 0, 0], "translation_mm": [0, 0, -3000]}}},
    }))
    rig = load_camera_rig(path)
    assert rig.cameras[0].image_size == (1280, 720) and not rig.cameras[0].distorted
    # identity orientation: camera frame = world frame shifted by the camera centre
    point = world_to_camera(np.array([100.0, 200.0, 0.0]), rig.extrinsics["S1"]["front"])
    np.testing.assert_allclose(point, [100.0, 200.0, 3000.0])


# --------------------------------------------------------------------------- MPI-INF-3DHP

# The official H36M -> MPI table of PoseLifter's mpii_test.m (1-based): MPI joint k is H36M joint MAP[k].
OFFICIAL_H36M_TO_MPI = np.array([11, 9, 15, 16, 17, 12, 13, 14, 2, 3, 4, 5, 6, 7, 1, 8, 10]) - 1
STUDIO = {"fx": 1500.0, "fy": 1500.5, "cx": 1017.0, "cy": 1043.0, "width": 2048, "height": 2048}
OUTDOOR = {"fx": 1680.0, "fy": 1669.0, "cx": 939.0, "cy": 560.0, "width": 1920, "height": 1080}


def mpi_sequence(n: int, intrinsics: dict, seed: int) -> dict[str, np.ndarray]:
    """Arrays in h5py order: annot2 (N,1,17,2), annot3 / univ_annot3 (N,1,17,3), valid_frame, activity (N,1)."""
    h36m = camera_frame_poses(n, seed)
    mpi = h36m[:, OFFICIAL_H36M_TO_MPI]
    intr = np.array([intrinsics[k] for k in ("fx", "fy", "cx", "cy")])
    root = mpi[:, 14:15]
    return {
        "annot3": mpi[:, None],
        "univ_annot3": (root + 0.9 * (mpi - root))[:, None],
        "annot2": project(mpi, intr)[:, None],
        "valid_frame": (np.arange(n) % 3 != 0).astype(np.float64)[:, None],
        "activity_annotation": (np.arange(n) % 7 + 1).astype(np.float64)[:, None],
        "bb_crop": np.zeros((n, 34)),
    }


def write_mpi(root, sequences: dict[str, str], n: int = 9, drop=None, override=None):
    """sequences: name -> 'v73' (h5py) or 'v5' (scipy.io.savemat, MATLAB dimension order)."""
    written = {}
    for i, (name, version) in enumerate(sequences.items()):
        data = mpi_sequence(n, OUTDOOR if name in ("TS5", "TS6") else STUDIO, seed=i)
        data.update(override or {})
        if drop:
            data.pop(drop)
        (root / name).mkdir(parents=True)
        if version == "v73":
            with h5py.File(root / name / "annot_data.mat", "w") as f:
                for key, value in data.items():
                    f[key] = value
        else:
            scipy.io.savemat(root / name / "annot_data.mat", {k: v.T for k, v in data.items()})
        written[name] = data
    return written


def intrinsics_yaml(path, **extra):
    import yaml
    path.write_text(yaml.safe_dump({"studio": STUDIO, "outdoor": OUTDOOR, **extra}))
    return path


def test_mpi_inf_3dhp_v73_and_v5_joint_mapping_and_labels(tmp_path):
    written = write_mpi(tmp_path / "test", {"TS1": "v73", "TS5": "v5"})
    poses = read_mpi_inf_3dhp_test(tmp_path / "test", intrinsics_yaml(tmp_path / "intr.yaml"), ["TS1", "TS5"],
                                   universal=False)
    assert len(poses) == 12  # 6 valid frames of 9 in each sequence
    ts1, ts5 = poses.where(camera="TS1"), poses.where(camera="TS5")
    valid = np.arange(9) % 3 != 0
    expected = camera_frame_poses(9, seed=0)[valid]
    np.testing.assert_allclose(ts1.joints_3d, expected, atol=1e-3)  # back in H36M17 order
    np.testing.assert_allclose(ts5.joints_3d, camera_frame_poses(9, seed=1)[valid], atol=1e-3)
    reprojected = project(poses.joints_3d.astype(np.float64), poses.intrinsics)
    np.testing.assert_allclose(reprojected, poses.keypoints_2d, atol=0.01)
    assert ts1.image_size[0].tolist() == [2048, 2048] and ts5.image_size[0].tolist() == [1920, 1080]
    np.testing.assert_allclose(ts5.intrinsics[0], [1680.0, 1669.0, 939.0, 560.0])
    assert list(ts1.action[:3]) == ["Exercise", "Sit on Chair", "On Floor"]  # ids 2, 3, 5 of frames 1, 2, 4
    assert set(poses.subject) == {"TS1", "TS5"}
    # named joints: MPI 'head_top' is H36M 'Head', MPI 'neck' is 'Thorax', MPI 'pelvis' is the root
    mpi = written["TS1"]["annot3"][valid, 0]
    np.testing.assert_allclose(ts1.joints_3d[:, H36M17.index("Head")], mpi[:, 0], atol=1e-3)
    np.testing.assert_allclose(ts1.joints_3d[:, H36M17.index("Thorax")], mpi[:, 1], atol=1e-3)
    np.testing.assert_allclose(ts1.joints_3d[:, H36M17.index("Hip")], mpi[:, 14], atol=1e-3)


def test_mpi_inf_3dhp_universal_skeleton_and_all_frames(tmp_path):
    written = write_mpi(tmp_path / "test", {"TS2": "v73"})
    intr = {"TS2": STUDIO}
    poses = read_mpi_inf_3dhp_test(tmp_path / "test", intr, sequences=["TS2"], valid_only=False)
    assert len(poses) == 9
    univ = written["TS2"]["univ_annot3"][:, 0]
    np.testing.assert_allclose(poses.joints_3d[:, H36M17.index("Head")], univ[:, 0], atol=1e-3)
    assert poses.action[0] == "Stand/Walk"


def test_mpi_inf_3dhp_through_read_dataset_with_group_override(tmp_path):
    write_mpi(tmp_path / "test", {"TS3": "v5"})
    own = dict(STUDIO, fx=1400.0, fy=1400.0)
    poses = read_dataset("mpi_inf_3dhp", root=str(tmp_path / "test"),
                         intrinsics=str(intrinsics_yaml(tmp_path / "i.yaml", TS3=own)), sequences=["TS3"])
    assert poses.intrinsics[0, 0] == 1400.0


def test_mpi_inf_3dhp_errors(tmp_path):
    root = tmp_path / "test"
    write_mpi(root, {"TS1": "v73"})
    intr = intrinsics_yaml(tmp_path / "intr.yaml")
    with pytest.raises(FileNotFoundError, match="sequence TS4"):
        read_mpi_inf_3dhp_test(root, intr, sequences=["TS4"])
    with pytest.raises(ValueError, match=r"unknown sequence\(s\) \['TS7'\]"):
        read_mpi_inf_3dhp_test(root, intr, sequences=["TS7"])
    with pytest.raises(ValueError, match="no intrinsics for TS1; give 'TS1' or 'studio'"):
        read_mpi_inf_3dhp_test(root, {"outdoor": OUTDOOR}, sequences=["TS1"])
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['TS9'\]"):
        read_mpi_inf_3dhp_test(root, {"studio": STUDIO, "TS9": STUDIO}, sequences=["TS1"])
    with pytest.raises(FileNotFoundError, match="test-set directory"):
        read_mpi_inf_3dhp_test(tmp_path / "nothing", intr)

    bad = tmp_path / "bad"
    write_mpi(bad, {"TS1": "v5"}, drop="univ_annot3")
    with pytest.raises(ValueError, match=r"missing key\(s\) \['univ_annot3'\]"):
        read_mpi_inf_3dhp_test(bad, intr, sequences="TS1")
    shape = tmp_path / "shape"
    write_mpi(shape, {"TS1": "v73"}, override={"annot2": np.zeros((9, 1, 16, 2))})
    with pytest.raises(ValueError, match=r"annot2: expected \(N, 1, 17, 2\)"):
        read_mpi_inf_3dhp_test(shape, intr, sequences="TS1")
    metres = tmp_path / "metres"
    written = write_mpi(metres, {"TS1": "v73"})
    with h5py.File(metres / "TS1" / "annot_data.mat", "r+") as f:
        f["univ_annot3"][...] = written["TS1"]["univ_annot3"] / 1000.0
    with pytest.raises(ValueError, match="metres"):
        read_mpi_inf_3dhp_test(metres, intr, sequences="TS1")


# --------------------------------------------------------------------------- protocols, dispatcher


def test_protocol_splits():
    assert protocol_subjects(1, "train") == ["S1", "S5", "S6", "S7", "S8"]
    assert protocol_subjects(1, "test") == ["S9", "S11"]
    assert protocol_subjects(2, "train") == ["S1", "S5", "S6", "S7", "S8", "S9"]
    assert protocol_subjects(2, "test") == ["S11"]
    with pytest.raises(ValueError, match="unknown Human3.6M protocol 3"):
        protocol_subjects(3, "train")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        protocol_subjects(1, "val")


def test_read_dataset_dispatch_and_errors(tmp_path):
    write_h36m_h5(tmp_path / "h36m17.h5", [9, 11])
    poses = read_dataset("h36m_h5", path=str(tmp_path / "h36m17.h5"), subjects=["S11"], every=50)
    assert len(poses) == 3 and set(poses.subject) == {"S11"}
    poses.save(tmp_path / "plain.npz")
    again = read_dataset("npz", path=str(tmp_path / "plain.npz"))
    np.testing.assert_array_equal(again.joints_3d, poses.joints_3d)
    assert isinstance(again, PoseSet) and list(again.camera) == list(poses.camera)
    with pytest.raises(ValueError, match="unknown dataset kind 'h36m'"):
        read_dataset("h36m", path="x")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['subject'\]"):
        read_dataset("h36m_h5", path="x", subject=["S9"])
    with pytest.raises(ValueError, match=r"missing required option\(s\) \['cameras'\]"):
        read_dataset("videopose3d", positions_3d="a", positions_2d="b")
