"""The floor-plane root depth (poselifter_core/floor.py): geometry, size independence, gating."""
import numpy as np
import pytest

from poselifter_core.data.pose_set import PoseSet
from poselifter_core.data.rig import RigConfig, render_views
from poselifter_core.data.world_mocap import load_world_mocap
from poselifter_core.floor import (
    ANKLE_HEIGHT_M,
    ANKLES,
    FloorConfig,
    FloorPlane,
    floor_root_depth,
    fuse_root_depth,
    mount_from_camera_pose,
)
from poselifter_core.skeleton import H36M17

from conftest import MOUNTED_K as K
from conftest import camera_view, standing_person, world_to_camera


@pytest.mark.parametrize("pitch, roll", [(0.0, 0.0), (20.0, 0.0), (-5.0, 3.0), (35.0, -8.0)])
def test_plane_from_mount_matches_an_independent_camera(pitch, roll):
    rotation, centre = world_to_camera(1.4, pitch, roll)
    plane = FloorPlane.from_mount(1.4, pitch, roll)
    points = np.random.default_rng(0).uniform(-3, 3, (50, 3)) + [0, 1, 6]
    camera = (points - centre) @ rotation.T
    assert np.allclose(plane.height_above(camera), points[:, 1], atol=1e-9)


@pytest.mark.parametrize("pitch, roll", [(10.0, 0.0), (0.0, 10.0), (25.0, -7.0), (60.0, 30.0), (-20.0, 15.0)])
def test_pitch_and_roll_are_those_of_the_camera_link_in_a_urdf(pitch, roll):
    """The mount's angles are the rpy of the camera's REP-103 body frame (x forward, y left, z up)
    over a level base, as a URDF gives them (fixed-axis roll, then pitch; the optical frame is that
    body frame turned to x right, y down, z forward), so a robot's URDF can be copied in."""
    from scipy.spatial.transform import Rotation

    body = Rotation.from_euler("xyz", [roll, pitch, 0.0], degrees=True).as_matrix()  # body -> base
    up_body = body.T @ np.array([0.0, 0.0, 1.0])
    up_optical = np.array([-up_body[1], -up_body[2], up_body[0]])
    assert np.allclose(FloorPlane.from_mount(1.0, pitch, roll).up, up_optical, atol=1e-12)


def _pose(rotation, translation):
    """A 4x4 homogeneous transform (parent <- child) from a rotation matrix and a translation."""
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = rotation, translation
    return pose


#: REP-103: the optical frame (x right, y down, z forward) under the camera's body frame (x forward,
#: y left, z up), as a URDF's ``*_optical_joint`` gives it: rpy (-pi/2, 0, -pi/2).
OPTICAL_RPY_DEG = (-90.0, 0.0, -90.0)


@pytest.mark.parametrize("height, pitch, roll", [(1.4, 0.0, 0.0), (0.6, 25.0, -7.0), (3.0, 60.0, 30.0),
                                                 (1.1, -20.0, 15.0), (2.5, 90.0, 0.0), (0.9, 10.0, 90.0)])
@pytest.mark.parametrize("yaw", [0.0, 73.0, -150.0])
def test_the_mount_from_a_camera_pose_inverts_from_mount(height, pitch, roll, yaw):
    """Any camera pose whose floor-frame z axis, in camera coordinates, is from_mount's ``up``, at
    any yaw and any x, y over the floor, gives back that mount."""
    from scipy.spatial.transform import Rotation

    up = FloorPlane.from_mount(height, pitch, roll).up
    level = Rotation.align_vectors([[0.0, 0.0, 1.0]], [up])[0]  # optical -> a floor frame with that up
    rotation = (Rotation.from_euler("z", yaw, degrees=True) * level).as_matrix()
    assert np.allclose(rotation[2], up, atol=1e-12)
    mount = mount_from_camera_pose(rotation, [-2.0, 0.7, height])
    assert mount == pytest.approx((height, pitch, roll), abs=1e-9)


@pytest.mark.parametrize("pitch, roll, yaw", [(10.0, 0.0, 0.0), (0.0, 10.0, 45.0), (25.0, -7.0, -120.0),
                                              (60.0, 30.0, 170.0), (-20.0, 15.0, 90.0), (35.0, -90.0, 10.0)])
def test_the_mount_from_a_urdf_chain_is_the_camera_links_roll_and_pitch(pitch, roll, yaw):
    """base_footprint -> base_link -> camera_link (URDF rpy, xyz) -> camera_optical_frame (the
    REP-103 optical rotation), as TF gives it (a quaternion, read as the node reads a lookup): the
    mount is the camera link's height, pitch and roll, whatever its yaw."""
    from scipy.spatial.transform import Rotation

    from poselifter_core.rosmsg.rigid import RigidTransform

    base = _pose(np.eye(3), [0.05, 0.0, 0.12])  # base_footprint <- base_link: level, 12 cm up
    camera = _pose(Rotation.from_euler("xyz", [roll, pitch, yaw], degrees=True).as_matrix(), [0.2, -0.1, 1.3])
    optical = _pose(Rotation.from_euler("xyz", OPTICAL_RPY_DEG, degrees=True).as_matrix(), np.zeros(3))
    chain = base @ camera @ optical  # base_footprint <- camera_optical_frame
    quaternion = Rotation.from_matrix(chain[:3, :3]).as_quat()  # x, y, z, w: geometry_msgs' order
    transform = RigidTransform.from_quaternion(tuple(quaternion), tuple(chain[:3, 3]))
    assert mount_from_camera_pose(transform.rotation, transform.translation) == pytest.approx((1.42, pitch, roll),
                                                                                              abs=1e-9)


def test_the_mount_from_a_camera_pose_puts_the_floor_where_the_floor_frame_has_it():
    """For random camera poses, the plane of the mount (FloorPlane.from_mount) gives every
    camera-frame point the height the floor frame gives it (its z); the poses FloorConfig cannot
    take (the camera upside down: a roll beyond 90 degrees) are refused, and only they."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(3)
    rotations = Rotation.random(200, random_state=4).as_matrix()
    points = rng.uniform(-5, 5, (30, 3))
    refused = 0
    for rotation in rotations:
        translation = np.array([*rng.uniform(-3, 3, 2), rng.uniform(0.1, 5)])
        upside_down = rotation[2, 1] > 0  # the floor's up points down the image: a roll beyond 90 degrees
        if upside_down:
            with pytest.raises(ValueError, match="camera_roll_deg must be in"):
                mount_from_camera_pose(rotation, translation)
            refused += 1
            continue
        plane = FloorPlane.from_mount(*mount_from_camera_pose(rotation, translation))
        assert np.allclose(plane.height_above(points), (points @ rotation.T + translation)[:, 2], atol=1e-9)
    assert 60 < refused < 140  # about half of the random poses are upside down


def test_a_camera_pose_below_the_floor_or_that_floor_config_refuses_is_refused_with_the_reason():
    """The camera at or below the floor frame's xy-plane, upside down, or higher than FloorConfig's
    range: ValueError saying so. Looking up (pitch down to -90 degrees) is a mount FloorConfig
    takes: accepted (no ray then meets the floor, and the cascade keeps the lifter's depth)."""
    from scipy.spatial.transform import Rotation

    optical = Rotation.from_euler("xyz", OPTICAL_RPY_DEG, degrees=True)

    def pose(pitch: float, roll: float = 0.0) -> np.ndarray:
        return (Rotation.from_euler("xyz", [roll, pitch, 0.0], degrees=True) * optical).as_matrix()

    with pytest.raises(ValueError, match=r"not above the floor: its optical frame is -0.500 m above"):
        mount_from_camera_pose(pose(10.0), [0.0, 0.0, -0.5])
    with pytest.raises(ValueError, match="not above the floor"):
        mount_from_camera_pose(pose(10.0), [1.0, 2.0, 0.0])  # on the floor: a height of 0 would mean "off"
    with pytest.raises(ValueError, match=r"roll 180.0 deg\): cascade.floor.camera_roll_deg must be in \[-90.0, 90.0\]"):
        mount_from_camera_pose(pose(10.0, 180.0), [0.0, 0.0, 1.5])
    with pytest.raises(ValueError, match=r"cascade.floor.camera_height_m must be in \[0.0, 100.0\]"):
        mount_from_camera_pose(pose(30.0), [0.0, 0.0, 150.0])
    with pytest.raises(ValueError, match="not a rotation"):
        mount_from_camera_pose(2 * pose(10.0), [0.0, 0.0, 1.5])
    with pytest.raises(ValueError, match="not a rotation"):
        mount_from_camera_pose(pose(10.0) @ np.diag([1.0, 1.0, -1.0]), [0.0, 0.0, 1.5])  # a mirror
    with pytest.raises(ValueError, match="not a camera pose"):
        mount_from_camera_pose(pose(10.0), [0.0, np.nan, 1.5])
    for pitch in (-30.0, -90.0):
        height, got_pitch, roll = mount_from_camera_pose(pose(pitch), [0.0, 0.0, 1.5])
        assert (height, got_pitch, roll) == pytest.approx((1.5, pitch, 0.0), abs=1e-9)
        config = FloorConfig(camera_height_m=height, camera_pitch_deg=got_pitch, camera_roll_deg=roll)
        camera, pixels = camera_view(standing_person(1.0, 5.0), 1.5, 0.0, 0.0)
        depth, _ = floor_root_depth(pixels[None], np.ones((1, 17), bool), K, (camera - camera[0])[None],
                                    config.plane(), config)
        assert np.isnan(depth[0])  # looking up, the feet's rays (seen by a level camera) do not meet this floor


@pytest.mark.parametrize("size", [0.8, 1.0, 1.2])
def test_floor_depth_is_exact_whatever_the_persons_size(size):
    config = FloorConfig(camera_height_m=1.6, camera_pitch_deg=12.0, camera_roll_deg=2.0, ankle_height_m=0.08)
    camera, pixels = camera_view(standing_person(size, 7.0, swing_m=0.25), 1.6, 12.0, 2.0)
    relative = camera - camera[0]
    depth, sigma = floor_root_depth(pixels[None], np.ones((1, 17), bool), K, relative[None], config.plane(), config)
    assert depth[0] == pytest.approx(camera[0, 2], rel=1e-9)  # the standing foot, not the swinging one
    assert 0 < sigma[0] < 0.1
    # a lifter's answer 10 % off (the size it cannot see): the fusion pulls it towards the truth
    learned = np.array([camera[0, 2] * 1.1])
    fused, used = fuse_root_depth(learned, depth, sigma, config)
    assert used[0] and abs(fused[0] - camera[0, 2]) < 0.5 * abs(learned[0] - camera[0, 2])


def test_no_estimate_without_an_observed_ankle_a_downward_ray_or_height():
    config = FloorConfig(camera_height_m=1.2, ankle_height_m=0.08)
    camera, pixels = camera_view(standing_person(1.0, 5.0), 1.2, 0.0, 0.0)
    relative = (camera - camera[0])[None]
    observed = np.ones((1, 17), bool)
    observed[0, list(ANKLES)] = False
    assert np.isnan(floor_root_depth(pixels[None], observed, K, relative, config.plane(), config)[0][0])
    low = FloorConfig(camera_height_m=0.05)  # the camera below the ankles' plane: every ray to them rises
    assert np.isnan(floor_root_depth(pixels[None], np.ones((1, 17), bool), K, relative, low.plane(), low)[0][0])
    above = pixels.copy()
    above[list(ANKLES), 1] = K[3] - 50  # ankles seen above the horizon
    assert np.isnan(floor_root_depth(above[None], np.ones((1, 17), bool), K, relative, config.plane(), config)[0][0])


def test_fusion_weights_and_gate():
    config = FloorConfig(lifter_depth_error=0.1, gate_sigmas=3.0)
    fused, used = fuse_root_depth(np.array([10.0, 10.0, 10.0]), np.array([9.0, 5.0, np.nan]),
                                  np.array([0.02, 0.02, np.nan]), config)
    assert used.tolist() == [True, False, False]
    assert 9.0 < fused[0] < 9.1  # the sharper floor estimate dominates
    assert fused[1] == 10.0 and fused[2] == 10.0  # a person off the floor, and none: the lifter's alone


def test_rig_records_its_floor(mocap_file, tmp_path):
    clips = load_world_mocap(mocap_file)
    data = render_views(clips, RigConfig(), views=2, seed=4)
    plane = FloorPlane(data.floor[:, :3], data.floor[:, 3])
    heights = plane.height_above(data.joints_3d.astype(np.float64))
    assert np.allclose(np.linalg.norm(data.floor[:, :3], axis=1), 1.0)
    lowest = heights.min(axis=1)  # mm: an ankle, ANKLE_HEIGHT_M above the floor when standing
    assert lowest.min() > ANKLE_HEIGHT_M * 1000 - 1.0 and np.percentile(lowest, 5) < ANKLE_HEIGHT_M * 1000 + 50.0
    data.save(tmp_path / "p.npz")
    back = PoseSet.load(tmp_path / "p.npz")
    assert np.allclose(back.floor, data.floor)
    assert np.allclose(PoseSet.concatenate([back, back.subset(slice(0, 3))]).floor[-3:], data.floor[:3])
    with pytest.raises(ValueError, match="floor must have shape"):
        PoseSet(data.keypoints_2d, data.joints_3d, data.intrinsics, H36M17, floor=data.floor[:, :3])


def test_benchmark_floor_root_recovers_a_wrong_size_from_the_rigs_floor(mocap_file):
    """The report's floor root (benchmark.partial_bodies.floor_root) on rig data with exact 2D: a
    lifter that gets the pose right but the size 15 % wrong is pulled back to the true depth, and a
    hand-measured mount costs some of that gain."""
    from poselifter_core.benchmark.partial_bodies import MOUNT_ERROR, floor_root

    data = render_views(load_world_mocap(mocap_file), RigConfig(min_visible_joints=17), views=2, seed=9)
    truth = data.joints_3d.astype(np.float64)
    relative = truth - truth[:, :1]
    learned = truth[:, 0] * 1.15  # the same ray, 15 % too far
    exact = floor_root(learned, relative, data.keypoints_2d, data)
    measured = floor_root(learned, relative, data.keypoints_2d, data, MOUNT_ERROR)

    def error(root):
        return np.median(np.abs(root[:, 2] - truth[:, 0, 2]) / truth[:, 0, 2])

    assert error(learned) == pytest.approx(0.15)
    assert error(exact) < error(measured) < error(learned), (error(exact), error(measured))
    assert error(exact) < 0.4 * error(learned)  # the fusion still trusts the lifter in part (8.5 % sigma)


def test_the_gate_believes_a_nearer_floor_more_than_a_farther_one():
    """Feet on a platform put the floor's estimate too far, never too near: the gate is asymmetric."""
    config = FloorConfig(lifter_depth_error=0.1, gate_sigmas=3.0, far_gate_sigmas=1.0)
    learned = np.full(2, 10.0)
    floor = np.array([10.0 * np.exp(-0.2), 10.0 * np.exp(0.2)])  # 2 combined sigmas nearer, and farther
    fused, used = fuse_root_depth(learned, floor, np.full(2, 0.02), config)
    assert used.tolist() == [True, False] and fused[0] < 9.0 and fused[1] == 10.0


def lifted_crowd(height_m: float, pitch_deg: float, roll_deg: float, people: int, seed: int,
                 size_error: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """(N, 17, 3) camera-frame joints of people standing about a floor, as a lifter would report
    them: each moved along its ray by its own size error (uniform +- ``size_error``), plus noise."""
    rng = np.random.default_rng(seed)
    rotation, centre = world_to_camera(height_m, pitch_deg, roll_deg)
    lifted = []
    for _ in range(people):
        distance, side = rng.uniform(2.0, 14.0), rng.uniform(-0.4, 0.4)
        world = standing_person(1.0, distance, side_m=side * distance, swing_m=rng.uniform(0.0, 0.15))
        camera = (world - centre) @ rotation.T
        camera = camera * (1 + rng.uniform(-size_error, size_error))  # the same pixels, another depth
        lifted.append(camera + rng.normal(0.0, 0.02, camera.shape))
    return np.array(lifted), np.ones((people, 17), bool)


@pytest.mark.parametrize("height, pitch, roll", [(3.0, 25.0, 0.0), (1.2, 5.0, -3.0), (5.5, 40.0, 4.0)])
def test_fit_floor_recovers_the_mount_from_lifted_people(height, pitch, roll):
    from poselifter_core.floor_fit import fit_floor, lowest_ankles

    joints, valid = lifted_crowd(height, pitch, roll, people=120, seed=1)
    fit = fit_floor(lowest_ankles(joints, valid, ANKLES)[0])
    # within 3 of its own bootstrap standard deviations (and those small): the fit knows its error
    assert abs(fit.camera_pitch_deg - pitch) < max(3 * fit.pitch_sd_deg, 0.3) and fit.pitch_sd_deg < 1.5
    assert abs(fit.camera_roll_deg - roll) < max(3 * fit.roll_sd_deg, 0.3) and fit.roll_sd_deg < 1.5
    assert abs(fit.camera_height_m - height) < max(3 * fit.height_sd_m, 0.02) and fit.height_sd_m < 0.1 * height
    assert fit.inliers > 0.7 * fit.points and fit.log_depth_rms < 0.1
    assert fit.angle_error_deg >= 0.5
    plane = FloorPlane.from_mount(fit.camera_height_m, fit.camera_pitch_deg, fit.camera_roll_deg)
    assert np.allclose(plane.up, fit.up, atol=1e-9)  # the same convention as the settings


def test_fit_floor_refuses_too_few_people_and_a_single_line():
    from poselifter_core.floor_fit import FloorFitError, fit_floor, lowest_ankles

    joints, valid = lifted_crowd(3.0, 20.0, 0.0, people=10, seed=2)
    with pytest.raises(FloorFitError, match="at least 20"):
        fit_floor(lowest_ankles(joints, valid, ANKLES)[0])
    joints, valid = lifted_crowd(3.0, 20.0, 0.0, people=60, seed=3)
    ankles = lowest_ankles(joints, valid, ANKLES)[0]
    line = ankles.mean(axis=0) + np.outer(np.linspace(-5, 5, 60), [0.0, 0.3, 1.0])  # one straight track
    with pytest.raises(FloorFitError, match="along one line"):
        fit_floor(line)
    valid[:, list(ANKLES)] = False
    assert len(lowest_ankles(joints, valid, ANKLES)[0]) == 0


def test_fit_floor_cli_reads_infer_results_and_writes_the_mount(tmp_path, capsys):
    import json

    import yaml

    from poselifter_core.cli import main

    joints, valid = lifted_crowd(2.5, 15.0, 2.0, people=90, seed=4)
    valid[::3, ANKLES[0]] = False  # some people with one ankle unseen
    frames = [{"frame": i, "intrinsics": {"assumed": False},
               "people": [{"joints_m": joints[j].tolist(), "valid": valid[j].tolist()} for j in range(i, i + 3)]}
              for i in range(0, 90, 3)]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(f) for f in frames) + "\n")
    assert main(["fit-floor", str(tmp_path), "-o", str(tmp_path / "mount.yaml")]) == 0
    floor = yaml.safe_load((tmp_path / "mount.yaml").read_text())["cascade"]["floor"]
    assert floor["camera_pitch_deg"] == pytest.approx(15.0, abs=1.5) and floor["camera_height_m"] == pytest.approx(2.5, rel=0.1)
    assert floor["angle_error_deg"] >= 0.5
    out = capsys.readouterr().out
    assert "--set cascade.floor.camera_height_m=" in out and "infer: --camera-height " in out
    # the printed infer options give infer the mount of mount.yaml, its angle error included
    from poselifter_core.cli import build_parser
    from poselifter_core.cli.infer import cascade_config

    options = next(line for line in out.splitlines() if line.startswith("infer: ")).split(" (and")[0].split()[1:]
    assert "--camera-angle-error" in options  # (here at its floor of 0.5 deg, the default: named all the same)
    infer_floor = cascade_config(build_parser("infer").parse_args(["infer", "v.avi", *options])).floor
    assert {key: getattr(infer_floor, key) for key in floor} == floor
    assert "(and the same --fx/--fov)" in out and "warning: infer assumed" not in out
    # ... and video-bag's --mount the same mount, with the angle error that TF does not carry for bag
    line = next(line for line in out.splitlines() if line.startswith("video-bag: "))
    mount = build_parser("video-bag").parse_args(["video-bag", "v.avi", "out", *line.split(" (then")[0].split()[1:]]).mount
    assert mount == [floor["camera_height_m"], floor["camera_pitch_deg"], floor["camera_roll_deg"]]
    assert f"bag --floor-frame base_footprint --set cascade.floor.angle_error_deg={floor['angle_error_deg']})" in line
    # infer run without --fx/--fov: the printed options give the field of view it assumed (there was
    # no --fx/--fov to repeat, and infer refuses a mount without one)
    assumed = [{**frame, "intrinsics": {"assumed": True}} for frame in frames]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(f) for f in assumed) + "\n")
    assert main(["fit-floor", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "warning: infer assumed the focal length" in out
    assert "--camera-angle-error 0.5 --fov 60 (the field of view infer assumed)" in out
    FloorConfig(**floor)  # every key is a floor setting
    (tmp_path / "results.jsonl").write_text(json.dumps(frames[0]) + "\n")
    assert main(["fit-floor", str(tmp_path / "results.jsonl")]) == 2  # 3 people: a clear error, no traceback
    assert "at least 20" in capsys.readouterr().err
    assert main(["fit-floor", str(tmp_path / "nothing")]) == 2


def test_fit_floor_bootstrap_resamples_whole_groups():
    """The same people repeated over frames: per-ankle resampling takes the repeats as evidence,
    per-group resampling does not, so its spread is the wider one."""
    from poselifter_core.floor_fit import fit_floor, lowest_ankles

    joints, valid = lifted_crowd(3.0, 20.0, 0.0, people=30, seed=5, size_error=0.15)
    ankles = np.repeat(lowest_ankles(joints, valid, ANKLES)[0], 20, axis=0)  # 20 frames of each person
    each = fit_floor(ankles)
    grouped = fit_floor(ankles, groups=np.repeat(np.arange(30), 20))
    # the per-group fit weighs each group's mean: with exact repeats, the plane of the single ankles
    assert grouped.camera_pitch_deg == pytest.approx(each.camera_pitch_deg, abs=1e-6)
    assert grouped.pitch_sd_deg > 2 * each.pitch_sd_deg


def test_fit_floor_cli_refuses_what_it_cannot_fit_from_saying_why(tmp_path, capsys):
    """A file that is not infer's (the mount.yaml just written, a JSON list, a person without joints),
    a run whose camera never saw an ankle, and a run that infer already put on a given mount's floor
    (the fit would return that mount): rc 2 and an error naming the file and the cause, no traceback."""
    import json

    from poselifter_core.cli import build_parser, main
    from poselifter_core.cli.bag import bag_config

    joints, valid = lifted_crowd(2.5, 15.0, 2.0, people=60, seed=6)

    def frames_of(valid: np.ndarray, **extra) -> str:
        return "\n".join(json.dumps({"frame": i, "people": [{"joints_m": joints[j].tolist(), "valid": valid[j].tolist(),
                                                              **extra} for j in range(i, i + 3)]})
                         for i in range(0, 60, 3)) + "\n"

    def error(path) -> str:
        assert main(["fit-floor", str(path)]) == 2
        return capsys.readouterr().err

    (tmp_path / "results.jsonl").write_text(frames_of(valid))
    assert main(["fit-floor", str(tmp_path), "-o", str(tmp_path / "mount.yaml")]) == 0
    capsys.readouterr()
    # what --help says: mount.yaml is a bag config as written (its floor reaches the cascade, checked)
    args = build_parser("bag").parse_args(["bag", "in", "out", "--config", str(tmp_path / "mount.yaml")])
    floor = bag_config(args).cascade.floor
    assert floor.enabled and floor.camera_pitch_deg == pytest.approx(15.0, abs=1.5) and floor.angle_error_deg >= 0.5
    assert "mount.yaml is not a results file of 'poselifter infer' (not JSON" in error(tmp_path / "mount.yaml")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert "list.json is not a results file of 'poselifter infer'" in error(tmp_path / "list.json")
    (tmp_path / "nojoints.json").write_text(json.dumps({"a.png": {"people": [{"box": [0, 0, 1, 1]}]}}))
    assert "each person has 'joints_m' (17 x 3) and 'valid' (17)" in error(tmp_path / "nojoints.json")
    hidden = valid.copy()
    hidden[:, list(ANKLES)] = False
    (tmp_path / "feet.jsonl").write_text(frames_of(hidden))
    assert ("60 lifted people, 0 with an observed ankle; the fit needs at least 20 with one: the camera must see "
            "people's feet") in error(tmp_path / "feet.jsonl")
    (tmp_path / "mounted.jsonl").write_text(frames_of(valid, root_source="floor"))
    assert "infer placed 60 of its 60 lifted people on the floor of the mount it was given" in error(
        tmp_path / "mounted.jsonl")
    # people whose track carried the floor's ratio (feet hidden) were placed by that mount too
    (tmp_path / "carried.jsonl").write_text(frames_of(valid, root_source="track_floor"))
    assert "infer placed 60 of its 60 lifted people on the floor of the mount it was given" in error(
        tmp_path / "carried.jsonl")


def test_fit_floor_refuses_a_mount_the_cascade_would_refuse(tmp_path, capsys):
    """An upside-down camera (roll 180 degrees) fits well, but cascade.floor takes a roll within
    +-90 degrees: fit-floor said nothing and wrote a mount.yaml that bag and the node refuse."""
    import json

    from poselifter_core.cli import main
    from poselifter_core.cli.fit_floor import mount_settings
    from poselifter_core.floor_fit import FloorFitError, fit_floor, lowest_ankles

    joints, valid = lifted_crowd(3.0, 20.0, 180.0, people=90, seed=6)
    fit = fit_floor(lowest_ankles(joints, valid, ANKLES)[0])
    assert abs(fit.camera_roll_deg) == pytest.approx(180.0, abs=1.5) and fit.camera_pitch_deg == pytest.approx(20, abs=1.5)
    with pytest.raises(FloorFitError, match=r"cascade\.floor\.camera_roll_deg must be in \[-90.0, 90.0\]"):
        mount_settings(fit)
    frames = [{"frame": i, "people": [{"joints_m": joints[i].tolist(), "valid": valid[i].tolist()}]} for i in range(90)]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(f) for f in frames) + "\n")
    assert main(["fit-floor", str(tmp_path), "-o", str(tmp_path / "mount.yaml")]) == 2
    assert "camera_roll_deg must be in" in capsys.readouterr().err and not (tmp_path / "mount.yaml").exists()


def walking_scene(seed: int, people: int = 5, frames: int = 40, size_sd: float = 0.05, noise: float = 0.05,
                  height_m: float = 4.0, pitch_deg: float = 25.0, roll_deg: float = -2.0,
                  blocks: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A few people walking about a floor for ``frames`` frames each, at staggered times, as a
    lifter reports their standing ankles: each person's ankles moved along their rays by the
    person's own size error (log-normal, ``size_sd``: the same in all their frames), each frame by
    its own noise, one frame in ten by a gross error. (M, 3) camera-frame ankles, (M,) person and
    (M,) time block (``blocks`` of consecutive frames over the scene)."""
    rng = np.random.default_rng(seed)
    plane = FloorPlane.from_mount(height_m, pitch_deg, roll_deg)
    forward = np.array([0.0, 0.0, 1.0]) - plane.up * plane.up[2]
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, plane.up)  # the floor's axes in the camera frame
    starts = rng.integers(0, frames * people // 3 + 1, people)
    t = np.arange(frames) / 10.0  # 10 frames/s, 1.2 m/s
    ankles, person, frame = [], [], []
    for k in range(people):
        depth, side, heading = rng.uniform(5.0, 12.0), rng.uniform(-0.35, 0.35), rng.uniform(0.0, 2 * np.pi)
        along = np.clip(depth + 1.2 * t * np.cos(heading), 3.0, 16.0)
        across = side * depth + 1.2 * t * np.sin(heading)
        floor = along[:, None] * forward + across[:, None] * right - (height_m - ANKLE_HEIGHT_M) * plane.up
        error = rng.normal(0.0, noise, frames)
        gross = rng.uniform(size=frames) < 0.1
        error[gross] = rng.choice([-1.0, 1.0], gross.sum()) * rng.uniform(0.2, 0.5, gross.sum())
        ankles.append(floor * np.exp(rng.normal(0.0, size_sd) + error)[:, None])
        person.append(np.full(frames, k))
        frame.append(starts[k] + np.arange(frames))
    frame = np.concatenate(frame)
    return np.concatenate(ankles), np.concatenate(person), frame * blocks // (frame.max() + 1)


def test_fit_floor_people_bootstrap_covers_the_spread_between_scenes():
    """A few people dominate a short video, and each person's size error tilts the plane the same
    way in all their frames: resampling blocks of time takes a person's frames in several blocks
    as independent evidence and its sds miss the truth in half the scenes (vtest.avi's first 30 s
    gave a pitch of 39.2 deg, sd 1.8, against 27.8 deg from all 80 s). Resampling people covers
    it: over 20 scenes re-drawn with new people the truth was within 2 sds in 20, 19 and 20 of
    them (height, pitch, roll), against 10, 9 and 10 with blocks. And the fit with a random
    offset per person is the better one: its rms errors (0.16 m, 1.1 and 1.3 deg) were about half
    those of the plain fit of all the ankles (0.32 m, 2.4 and 2.4 deg; docs/benchmarks.md,
    "Fitting the mount from a video")."""
    from poselifter_core.floor_fit import fit_floor

    truth = np.array([4.0, 25.0, -2.0])
    covered = {"people": np.zeros(3), "blocks": np.zeros(3)}
    errors = {"people": [], "ankles": []}
    scenes = 20
    for seed in range(scenes):
        ankles, person, block = walking_scene(seed)
        for name, groups in (("people", person), ("blocks", block), ("ankles", None)):
            fit = fit_floor(ankles, groups, iterations=200, resamples=30 if groups is not None else 2)
            value = np.array([fit.camera_height_m, fit.camera_pitch_deg, fit.camera_roll_deg])
            sd = np.array([fit.height_sd_m, fit.pitch_sd_deg, fit.roll_sd_deg])
            if name in covered:
                covered[name] += np.abs(value - truth) <= 2 * sd
            if name in errors:
                errors[name].append(value - truth)
    assert (covered["people"] >= 0.75 * scenes).all(), covered
    assert covered["blocks"].sum() <= 0.7 * covered["people"].sum(), covered
    rms = {name: np.sqrt(np.mean(np.square(e), axis=0)) for name, e in errors.items()}
    assert (rms["people"] < 0.7 * rms["ankles"]).all(), rms


def test_fit_floor_cli_resamples_tracks_and_says_when_it_cannot(tmp_path, capsys):
    """infer tracks a video's people by default: fit-floor resamples them by track_id. A file
    without track ids (infer --no-tracking) falls back to blocks of consecutive frames and says that
    its sds are then too small; one with some people untracked puts those in blocks."""
    import json

    from poselifter_core.cli import main
    from poselifter_core.cli.fit_floor import read_people

    ankles, person, _ = walking_scene(7, people=6, frames=40)
    joints = np.zeros((len(ankles), 17, 3))
    joints[:] = ankles[:, None] - [0.0, 0.9, 0.0]  # the body above its ankles (only the ankles count)
    joints[:, list(ANKLES)] = ankles[:, None]
    order = np.argsort(np.arange(len(ankles)) % 40, kind="stable")  # frame f: every person's f-th ankle

    def write(track_of) -> None:
        frames = [{"frame": f, "people": [{"joints_m": joints[i].tolist(), "valid": [True] * 17,
                                           "track_id": track_of(person[i])} for i in order[6 * f:6 * f + 6]]}
                  for f in range(40)]
        (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(frame) for frame in frames) + "\n")

    write(lambda k: f"t{k}")
    _, _, groups, _, grouping = read_people(tmp_path / "results.jsonl")
    assert len(set(groups)) == 6 and grouping == "over the 6 tracks (people; each track's frames together)"
    by_person = {k: set(groups[person[order] == k]) for k in range(6)}  # file row r: ankle order[r]
    assert all(len(g) == 1 for g in by_person.values())  # each person's frames in one group
    assert main(["fit-floor", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sd: bootstrap over the 6 tracks" in out
    assert ("warning: only 6 groups (tracks or blocks) to resample: a bootstrap over so few understates the sds; "
            "give a longer video with more people") in out
    write(lambda k: "")  # infer --no-tracking writes an empty track_id
    _, _, groups, _, grouping = read_people(tmp_path / "results.jsonl")
    assert len(set(groups)) == 20 and "no track ids in this file" in grouping  # 40 frames in blocks of 2
    assert main(["fit-floor", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "blocks of 2 consecutive frames: no track ids in this file (infer --no-tracking)" in out
    assert "warning: only" not in out  # 20 blocks
    write(lambda k: f"t{k}" if k < 4 else "")
    _, _, groups, _, grouping = read_people(tmp_path / "results.jsonl")
    assert len(set(groups)) == 4 + 20
    assert grouping == "over the 4 tracks (people), and 80 lifted people without a track id in blocks of 2 consecutive frames"
    # photos (results.json): 8 of them, each with its people, are few; the warning asks for more photos
    (tmp_path / "results.jsonl").unlink()
    photos = {f"p{f}.jpg": {"people": [{"joints_m": joints[i].tolist(), "valid": [True] * 17}
                                       for i in order[30 * f:30 * f + 30]]} for f in range(8)}
    (tmp_path / "results.json").write_text(json.dumps(photos))
    assert main(["fit-floor", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sd: bootstrap over the 8 photos" in out
    assert ("warning: only 8 groups (photos) to resample: a bootstrap over so few understates the sds; give more "
            "photos from this camera") in out


def test_a_fit_whose_bootstrap_gives_no_sd_writes_no_angle_error(tmp_path):
    """With fewer than two resamples that found a floor the sds are unknown (NaN): the fit's
    angle_error_deg was then the default 0.5 deg (max(0.5, nan) in Python), the most confident
    setting, and mount_settings wrote it. Now it is NaN and mount_settings refuses, saying why."""
    from poselifter_core.cli.fit_floor import mount_settings
    from poselifter_core.floor_fit import FloorFitError, fit_floor, lowest_ankles

    joints, valid = lifted_crowd(3.0, 20.0, 0.0, people=60, seed=7)
    fit = fit_floor(lowest_ankles(joints, valid, ANKLES)[0], resamples=1)
    assert np.isnan(fit.pitch_sd_deg) and np.isnan(fit.angle_error_deg)
    with pytest.raises(FloorFitError, match="standard deviations are unknown"):
        mount_settings(fit)


def test_fit_floor_leaves_out_coasting_tracks(tmp_path):
    """infer with tracker.emit_coasting writes unseen tracks too (track_state coasting: the last
    pose at the predicted root), whose ankles were not seen in that frame: they are not ankles to
    fit, and were read as such (a coasting track's predicted ankles pulled the fit)."""
    import json

    from poselifter_core.cli.fit_floor import read_people

    joints, valid = lifted_crowd(2.5, 15.0, 2.0, people=30, seed=8)
    ghost = (joints[0] + [0.0, -1.0, 3.0]).tolist()  # predicted somewhere off the floor
    frames = [{"frame": i, "people": [{"joints_m": joints[i].tolist(), "valid": valid[i].tolist(), "track_id": f"t{i}",
                                       "track_state": "new"},
                                      {"joints_m": ghost, "valid": [True] * 17, "track_id": "gone",
                                       "track_state": "coasting"}]} for i in range(30)]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(f) for f in frames) + "\n")
    read, _, groups, _, grouping = read_people(tmp_path / "results.jsonl")
    assert len(read) == 30 and "gone" not in " ".join(groups) and grouping.startswith("over the 30 tracks")
    np.testing.assert_array_equal(read, joints)


@pytest.mark.parametrize("mount", [(5.62, 26.6, -2.3), (1.5, 10.0, 2.0), (0.3, -45.0, 89.0), (2.0, 0.0, -90.0),
                                   (1.0, 90.0, 0.0), (1.0, -90.0, 0.0)])
def test_a_camera_pose_from_a_mount_gives_the_mount_back(mount):
    """camera_pose_from_mount (video-bag --mount's /tf_static) is mount_from_camera_pose's inverse:
    a rotation, the camera right above the floor frame's origin, looking along its x axis."""
    from poselifter_core.floor import camera_pose_from_mount

    rotation, translation = camera_pose_from_mount(*mount)
    assert rotation @ rotation.T == pytest.approx(np.eye(3), abs=1e-12) and np.linalg.det(rotation) == pytest.approx(1)
    assert mount_from_camera_pose(rotation, translation) == pytest.approx(mount, abs=1e-9)
    assert translation == pytest.approx([0.0, 0.0, mount[0]]) and rotation[1, 2] == pytest.approx(0.0, abs=1e-12)
    assert rotation[0, 2] >= -1e-12  # the optical axis in the floor frame: along x (or straight down or up)
