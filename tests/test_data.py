import numpy as np
import pytest

from poselifter_core.camera import project
from poselifter_core.data.pose_set import PoseSet
from poselifter_core.data.rig import RigConfig, render_views, scale_bones
from poselifter_core.data.sources import DataSpec, load_pose_set
from poselifter_core.data.world_mocap import load_world_mocap, split_for_subject
from poselifter_core.skeleton import H36M17

from conftest import synthetic_motion


def test_world_mocap_loader_selects_and_subsamples(mocap_file):
    clips = load_world_mocap(mocap_file, subjects=["s1", "s3"], every=3)
    assert [c.subject for c in clips] == ["s1", "s3"] and len(clips[0].joints) == 80
    assert clips[0].fps == 10.0
    with pytest.raises(ValueError, match="no clips match"):
        load_world_mocap(mocap_file, subjects=["nobody"])
    with pytest.raises(FileNotFoundError):
        load_world_mocap(mocap_file.with_name("missing.npz"))


def test_split_rule():
    assert split_for_subject("cmu_01") == "test" and split_for_subject("cmu_141") == "test"
    assert split_for_subject("cmu_05") == "val" and split_for_subject("cmu_12") == "train"  # the converter's rule


def _inside(data, margin=0.0):
    kp, size = data.keypoints_2d, data.image_size[:, None, :]
    return ((kp >= margin) & (kp <= size - 1 - margin)).all(axis=-1)


def test_rig_samples_are_exact_projections_inside_the_image(mocap_file):
    clips = load_world_mocap(mocap_file)
    config = RigConfig(focal_px=(600.0, 1800.0), distance_m=(2.0, 8.0), min_visible_joints=17, level_fraction=0.0)
    data = render_views(clips, config, views=3, seed=7)
    assert 0.5 * 3 * 600 < len(data) <= 3 * 600
    assert np.allclose(project(data.joints_3d.astype(float), data.intrinsics), data.keypoints_2d, atol=1e-2)
    assert data.visible.all() and _inside(data).all()
    f = data.intrinsics[:, 0]
    assert f.min() >= 600.0 and f.max() <= 1800.0
    horizontal = np.linalg.norm(data.joints_3d[:, 0, [0, 2]], axis=1)
    assert horizontal.min() > 1500 and np.linalg.norm(data.joints_3d[:, 0], axis=1).max() < 8000 * 1.3
    # the head is above the ankles in the image: the camera is upright (y down)
    assert (data.keypoints_2d[:, H36M17.index("Head"), 1] < data.keypoints_2d[:, H36M17.index("RFoot"), 1]).mean() > 0.95
    # 3D bone lengths are preserved by the rigid camera transform
    world = np.concatenate([c.joints for c in clips])
    assert np.isclose(np.median(H36M17.bone_lengths(data.joints_3d)), np.median(H36M17.bone_lengths(world)), rtol=0.02)


def test_rig_keeps_border_cut_samples_with_their_outside_joints_missing(mocap_file):
    clips = load_world_mocap(mocap_file)
    config = RigConfig(distance_m=(0.8, 2.0), height_m=(0.3, 4.0), level_fraction=0.5, aim_offset_fraction=0.6)
    data = render_views(clips, config, views=4, seed=1)
    cut = ~data.visible.all(axis=1)
    assert 0.1 < cut.mean() < 0.95  # close cameras cut many people, most are kept
    inside = _inside(data, config.margin_px)
    assert not (data.visible & ~inside).any()  # an observed joint is inside its image
    direct = [H36M17.index(n) for n in ("RKnee", "RFoot", "LKnee", "LFoot", "LWrist", "RWrist", "Neck/Nose")]
    assert np.array_equal(data.visible[:, direct], inside[:, direct])  # and an outside one is missing
    assert (data.visible.sum(axis=1) >= config.min_visible_joints).all()
    hip = H36M17.index("Hip")
    assert not (data.visible[:, hip] & ~(data.visible[:, H36M17.index("LHip")] & data.visible[:, H36M17.index("RHip")])).any()
    assert np.allclose(project(data.joints_3d.astype(float), data.intrinsics), data.keypoints_2d, atol=1e-2)


def test_rig_covers_0_8_to_20_m_with_level_and_looking_down_cameras(mocap_file):
    data = render_views(load_world_mocap(mocap_file), RigConfig(), views=8, seed=2)
    horizontal = np.linalg.norm(data.joints_3d[:, 0, [0, 2]], axis=1) / 1000
    assert horizontal.min() < 1.5 and horizontal.max() > 17
    # pitch of the optical axis: level cameras give ~0 (up to the aim jitter), high ones look down
    pelvis_elevation = np.degrees(np.arctan2(-data.joints_3d[:, 0, 1], data.joints_3d[:, 0, 2]))
    assert (np.abs(pelvis_elevation) > 20).any()


def test_rig_log_uniform_distance_spreads_log_distance_evenly(mocap_file):
    clips = load_world_mocap(mocap_file)
    near, far = {}, {}
    for log_uniform in (False, True):
        config = RigConfig(distance_m=(1.0, 16.0), height_m=(1.0, 1.0), log_uniform_distance=log_uniform)
        data = render_views(clips, config, views=8, seed=5)
        distance = np.linalg.norm(data.joints_3d[:, 0], axis=1) / 1000  # ~ the horizontal distance
        near[log_uniform], far[log_uniform] = (distance < 2).mean(), (distance > 8).mean()
    # uniform in log distance: a quarter of the samples at 1-2 m and at 8-16 m; uniform distance: 1/15 and 8/15
    assert near[False] < 0.12 and 0.18 < near[True] < 0.32
    assert far[True] < 0.32 and far[False] > 0.45
    with pytest.raises(ValueError, match="distance_m"):
        render_views(clips, RigConfig(distance_m=(0.0, 5.0), log_uniform_distance=True), views=1, seed=0)


def test_rig_is_deterministic_with_a_seed(mocap_file):
    clips = load_world_mocap(mocap_file)
    a, b = (render_views(clips, RigConfig(), 2, seed=3) for _ in range(2))
    c = render_views(clips, RigConfig(), 2, seed=4)
    assert np.array_equal(a.keypoints_2d, b.keypoints_2d)
    assert len(a) != len(c) or not np.array_equal(a.keypoints_2d, c.keypoints_2d)


def test_bone_scaling_is_symmetric_and_keeps_the_pelvis():
    world = synthetic_motion(20, 0).astype(np.float64)
    rng = np.random.default_rng(0)
    scaled = scale_bones(world, rng, RigConfig(bone_scale_jitter=0.1, global_scale_jitter=0.1), H36M17)
    assert np.allclose(scaled[:, 0], world[:, 0])
    ratio = H36M17.bone_lengths(scaled) / H36M17.bone_lengths(world)
    assert ratio.min() >= 0.9 * 0.9 - 1e-9 and ratio.max() <= 1.1 * 1.1 + 1e-9 and ratio.std() > 0.01
    bones = [c for _, c in H36M17.bones]
    for left, right in H36M17.flip_pairs:
        assert np.allclose(ratio[:, bones.index(left)], ratio[:, bones.index(right)])


def test_pose_set_npz_round_trip_and_errors(tmp_path, mocap_file):
    data = load_pose_set(DataSpec(kind="mocap", path=str(mocap_file), views=1))
    path = tmp_path / "plain.npz"
    data.save(path)
    back = PoseSet.load(path)
    assert np.array_equal(back.keypoints_2d, data.keypoints_2d) and np.allclose(back.intrinsics, data.intrinsics)
    assert list(back.subject) == list(data.subject) and back.skeleton is H36M17
    assert len(back.where(subject="s2")) == (data.subject == "s2").sum() > 0
    np.savez(tmp_path / "bad.npz", keypoints_2d=data.keypoints_2d)
    with pytest.raises(ValueError, match="needs keypoints_2d, joints_3d and K"):
        PoseSet.load(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="17"):
        PoseSet(data.keypoints_2d[:, :16], data.joints_3d[:, :16], data.intrinsics, H36M17)
    bad_k = data.intrinsics.copy()
    bad_k[0, 0] = 0.0
    with pytest.raises(ValueError, match="focal lengths must be positive"):
        PoseSet(data.keypoints_2d, data.joints_3d, bad_k, H36M17)


def test_spec_without_path_is_an_error():
    with pytest.raises(ValueError, match="no path"):
        load_pose_set(DataSpec(kind="mocap"))
    with pytest.raises(ValueError, match="missing required option"):
        load_pose_set(DataSpec(kind="npz"))
    with pytest.raises(ValueError, match="unknown dataset kind"):
        load_pose_set(DataSpec(kind="bvh", path="x"))


def test_plain_npz_spec_filters_subjects_and_frames(tmp_path, mocap_file):
    data = load_pose_set(DataSpec(kind="mocap", path=str(mocap_file), views=1))
    data.save(tmp_path / "plain.npz")
    subset = load_pose_set(DataSpec(kind="npz", path=str(tmp_path / "plain.npz"), subjects=["s1"], every=2))
    s1 = data.where(subject="s1")
    assert np.array_equal(subset.joints_3d, s1.joints_3d[::2])
