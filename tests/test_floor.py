"""The floor-plane root depth (poselifter_core/floor.py): geometry, size independence, gating."""
import numpy as np
import pytest

from poselifter_core.data.pose_set import PoseSet
from poselifter_core.data.rig import RigConfig, render_views
from poselifter_core.data.world_mocap import load_world_mocap
from poselifter_core.floor import ANKLE_HEIGHT_M, ANKLES, FloorConfig, FloorPlane, floor_root_depth, fuse_root_depth
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
    assert grouped.camera_pitch_deg == each.camera_pitch_deg
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
