"""The tracker and the temporal filter on generated people (lifter-like outputs, no network)."""
import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeResult, Person3D
from poselifter_core.config import load_yaml
from poselifter_core.skeleton import H36M17
from poselifter_core.tracking import COASTING, NEW, TRACKED, Tracker, TrackerConfig, TrackingConfig, body
from poselifter_core.tracking.colours import track_colour
from poselifter_core.tracking.metrics import identity_errors, lag_frames, second_difference

K = Intrinsics(1000.0, 1000.0, 640.0, 360.0)
FPS = 30.0
# A standing person facing the camera (-z), root-relative, metres, camera frame (y down).
REST = np.array([
    [0.0, 0.0, 0.0], [-0.12, 0.0, 0.0], [-0.12, 0.45, 0.0], [-0.12, 0.9, 0.05], [0.12, 0.0, 0.0],
    [0.12, 0.45, 0.0], [0.12, 0.9, 0.05], [0.0, -0.25, 0.0], [0.0, -0.5, 0.0], [0.0, -0.6, -0.05],
    [0.0, -0.75, 0.0], [0.18, -0.48, 0.0], [0.25, -0.2, 0.0], [0.28, 0.05, 0.0], [-0.18, -0.48, 0.0],
    [-0.25, -0.2, 0.0], [-0.28, 0.05, 0.0]])
# The person faces the camera: left joints on the image right (x > 0), torso normal towards -z.
assert body.facing(REST)[2] < -0.9


def lifted(root: np.ndarray, relative: np.ndarray, rng: np.random.Generator | None = None, person_id: str = "",
           depth_noise: float = 0.1, joint_noise_m: float = 0.03) -> Person3D:
    """What the cascade returns for a person at ``root``: exact 2D, noisy depth and joints."""
    truth = root + relative
    keypoints = np.stack([K.fx * truth[:, 0] / truth[:, 2] + K.cx, K.fy * truth[:, 1] / truth[:, 2] + K.cy], -1)
    rel = relative.copy()
    z = root[2]
    if rng is not None:
        rel = rel + rng.normal(0.0, joint_noise_m, rel.shape)
        z = z * np.exp(rng.normal(0.0, depth_noise))
    rel -= rel[0]
    root_m = np.array([root[0] / root[2] * z, root[1] / root[2] * z, z])
    box = np.concatenate([keypoints.min(0) - 10, keypoints.max(0) + 10])
    return Person3D(keypoints, np.ones(17), np.ones(17, bool), box, 0.9, root_m + rel, root_m, rel,
                    z / np.sqrt(K.fx * K.fy), True, id=person_id)


def step(tracker: Tracker, people: list[Person3D], frame: int) -> list[Person3D]:
    result = CascadeResult(people, K, False)
    tracker.update(result, frame / FPS)
    return result.people


def test_filter_reduces_jitter_on_a_noisy_constant_velocity_track_with_bounded_lag():
    rng = np.random.default_rng(0)
    tracker = Tracker()
    velocity = np.array([0.9, 0.0, 0.6])  # m/s, walking away to the right
    truth, raw, filtered = [], [], []
    for frame in range(120):
        root = np.array([-1.5, 0.2, 4.0]) + velocity * frame / FPS
        person = lifted(root, REST, rng)
        (out,) = step(tracker, [person], frame)
        assert out.track_id == "t1" and out.track_state == (NEW if frame == 0 else TRACKED)
        truth.append(root), raw.append(person.root_m), filtered.append(out.root_m)
        np.testing.assert_allclose(out.joints_m, out.root_m + out.relative_m)
        np.testing.assert_allclose(out.canonical_depth, out.root_m[2] / 1000.0)
    truth, raw, filtered = (np.array(a)[30:] for a in (truth, raw, filtered))  # after the start-up
    jitter = lambda x: np.median(np.linalg.norm(second_difference(x), axis=-1))  # noqa: E731
    assert jitter(filtered) < jitter(raw) / 5
    assert np.linalg.norm(filtered - truth, axis=1).mean() < np.linalg.norm(raw - truth, axis=1).mean() / 2
    # bones respected: the output has the track's skeleton, which barely changes from frame to frame
    (last,) = step(tracker, [lifted(truth[-1] + velocity / FPS, REST, rng)], 120)
    np.testing.assert_allclose(body.bone_lengths(last.relative_m), tracker.tracks["t1"].filter.bones.lengths())
    np.testing.assert_allclose(body.bone_lengths(last.relative_m), body.bone_lengths(out.relative_m), atol=0.01)


def test_filter_lag_on_a_swaying_walk_is_at_most_one_frame():
    rng = np.random.default_rng(9)
    tracker = Tracker()
    truth, filtered = [], []
    for frame in range(240):
        t = frame / FPS
        root = np.array([1.2 * np.sin(2 * np.pi * 0.4 * t), 0.1, 5.0 + 0.4 * np.sin(2 * np.pi * 0.2 * t)])
        (out,) = step(tracker, [lifted(root, REST, rng)], frame)
        truth.append(root + REST), filtered.append(out.joints_m)
    assert abs(lag_frames(np.array(filtered)[30:], np.array(truth)[30:])) <= 1.0


def test_lag_metric_finds_a_known_delay():
    t = np.arange(200) / FPS
    path = np.stack([np.sin(2 * np.pi * 0.5 * t), np.cos(2 * np.pi * 0.3 * t), t], axis=-1)
    assert lag_frames(path, path) == pytest.approx(0.0, abs=0.05)
    assert lag_frames(path[3:], path[:-3]) == pytest.approx(-3.0, abs=0.05)  # pred[t] = truth[t + 3]: ahead
    assert lag_frames(path[:-3], path[3:]) == pytest.approx(3.0, abs=0.05)  # pred[t] = truth[t - 3]: behind


def test_filter_switched_off_keeps_the_per_frame_pose_but_tracks():
    rng = np.random.default_rng(1)
    config = load_yaml(TrackingConfig, "config/tracking.yaml")
    config.filter.enabled = False
    tracker = Tracker(config)
    for frame in range(5):
        person = lifted(np.array([0.0, 0.0, 5.0]), REST, rng)
        (out,) = step(tracker, [person], frame)
        np.testing.assert_array_equal(out.joints_m, person.joints_m)
        assert out.track_id == "t1"


def test_tracking_off_leaves_people_untracked():
    person = lifted(np.array([0.0, 0.0, 5.0]), REST)
    (out,) = step(Tracker(TrackingConfig(enabled=False)), [person], 0)
    assert out is person and out.track_id == "" and out.track_state == ""


def crossing_frame(frame: int, rng: np.random.Generator) -> tuple[Person3D, Person3D]:
    """Two people walking towards each other at 4 m and 6 m, crossing in the image at frame 30."""
    t = frame / FPS
    near = lifted(np.array([-1.2 + 1.2 * t, 0.0, 4.0]), REST, rng)
    far = lifted(np.array([1.8 - 1.8 * t, 0.0, 6.0]), REST, rng)
    return near, far


def test_ids_survive_a_crossing_with_a_short_occlusion():
    rng = np.random.default_rng(2)
    tracker = Tracker()
    ids = {"near": set(), "far": set()}
    for frame in range(60):
        near, far = crossing_frame(frame, rng)
        occluded = 24 <= frame < 39  # the far person is hidden behind the near one for 0.5 s
        people = [near] if occluded else [far, near] if frame % 2 else [near, far]
        out = step(tracker, people, frame)
        assert len(out) == len(people)  # coasting tracks are not published by default
        for person in out:
            ids["near" if person.root_m[2] < 5.0 else "far"].add(person.track_id)
    assert ids == {"near": {"t1"}, "far": {"t2"}}


def test_coasting_tracks_are_published_when_asked_and_reacquired():
    rng = np.random.default_rng(3)
    tracker = Tracker(TrackingConfig(tracker=TrackerConfig(emit_coasting=True)))
    states = []
    for frame in range(40):
        near, far = crossing_frame(frame, rng)
        out = step(tracker, [near] if 24 <= frame < 30 else [near, far], frame)
        states.append({p.track_id: p.track_state for p in out})
    assert states[0] == {"t1": NEW, "t2": NEW}
    assert states[25] == {"t1": TRACKED, "t2": COASTING}
    assert states[35] == {"t1": TRACKED, "t2": TRACKED}


def test_a_new_id_after_the_gap_expires_and_the_filter_resets_within_it():
    rng = np.random.default_rng(4)
    tracker = Tracker()  # max_gap_s 1.0, reset_gap_s 0.5
    root = np.array([0.0, 0.0, 5.0])
    for frame in range(10):
        (out,) = step(tracker, [lifted(root, REST, rng)], frame)
    assert out.track_id == "t1"
    assert step(tracker, [], 10) == []
    # back after 0.7 s: the same person (re-identified), the filter restarted on the measurement
    person = lifted(root, REST, rng)
    (out,) = step(tracker, [person], 31)
    assert out.track_id == "t1" and out.track_state == TRACKED
    np.testing.assert_array_equal(out.root_m, person.root_m)
    # gone for 1.5 s: the track died; the same place gives a new id
    (out,) = step(tracker, [lifted(root, REST, rng)], 31 + 45)
    assert out.track_id == "t2" and out.track_state == NEW and out.track_age == 0


def test_input_ids_are_kept_as_track_ids():
    rng = np.random.default_rng(5)
    tracker = Tracker()
    for frame in range(3):
        near, far = crossing_frame(frame, rng)
        near.id, far.id = "det-7", ""
        out = step(tracker, [near, far], frame)
        assert [p.track_id for p in out] == ["det-7", "t1"]
    assert [p.track_age for p in out] == [2, 2]


def test_a_time_going_backwards_restarts_tracking():
    tracker = Tracker()
    step(tracker, [lifted(np.array([0.0, 0.0, 5.0]), REST)], 10)
    (out,) = step(tracker, [lifted(np.array([0.0, 0.0, 5.0]), REST)], 5)
    assert out.track_id == "t2" and out.track_state == NEW and tracker.resets == 1


def turned(pose: np.ndarray, degrees: float) -> np.ndarray:
    """``pose`` rotated about the vertical (the camera's y axis)."""
    a = np.radians(degrees)
    return pose @ np.array([[np.cos(a), 0.0, -np.sin(a)], [0.0, 1.0, 0.0], [np.sin(a), 0.0, np.cos(a)]])


def settled(pose: np.ndarray, rng: np.random.Generator,
            config: TrackingConfig = TrackingConfig()) -> tuple[Tracker, np.ndarray]:
    """A tracker that has followed a person standing still in ``pose`` for half a second."""
    tracker, root = Tracker(config), np.array([0.0, 0.0, 5.0])
    for frame in range(15):
        step(tracker, [lifted(root, pose, rng, joint_noise_m=0.01)], frame)
    return tracker, root


def correcting_config() -> TrackingConfig:
    """Flips over 100 degrees are replaced by their left/right-swapped or depth-mirrored version for
    up to 5 frames."""
    config = TrackingConfig()
    config.filter.flip_accept_frames, config.filter.flip_angle_deg = 5, 100.0
    return config


@pytest.mark.parametrize("flip", ["left_right", "depth"])
def test_a_single_frame_flip_is_corrected(flip):
    rng = np.random.default_rng(6)
    pose = turned(REST, 60.0)  # three-quarter view: its depth mirror faces 120 degrees away
    tracker, root = settled(pose, rng, correcting_config())
    flipped = body.flip_candidates(pose)[flip]
    assert body.angle_deg(body.facing(flipped), body.facing(pose)) > 110
    (out,) = step(tracker, [lifted(root, flipped, rng, joint_noise_m=0.01)], 15)
    assert body.angle_deg(body.facing(out.relative_m), body.facing(pose)) < 20
    assert tracker.flips_corrected == 1


def test_a_left_right_flip_contradicting_the_history_is_damped_by_default():
    """Default: no replacement, but the published facing turns at most max_turn_deg_per_s."""
    rng = np.random.default_rng(6)
    pose = turned(REST, 15.0)
    tracker, root = settled(pose, rng)
    limit = TrackingConfig().filter.max_turn_deg_per_s / FPS
    flipped = body.flip_candidates(pose)["left_right"]
    assert body.angle_deg(body.facing(flipped), body.facing(pose)) > 120
    (out,) = step(tracker, [lifted(root, flipped, rng, joint_noise_m=0.01)], 15)
    assert body.angle_deg(body.facing(out.relative_m), body.facing(pose)) < limit + 5
    (back,) = step(tracker, [lifted(root, pose, rng, joint_noise_m=0.01)], 16)  # the next frame is right again
    assert body.angle_deg(body.facing(back.relative_m), body.facing(pose)) < 15


def test_a_gradual_turn_is_followed():
    rng = np.random.default_rng(8)
    tracker = Tracker()
    root = np.array([0.0, 0.0, 5.0])
    for frame in range(31):  # half a turn in one second
        pose = turned(REST, 6.0 * frame)
        (out,) = step(tracker, [lifted(root, pose, rng, joint_noise_m=0.01)], frame)
    assert body.angle_deg(body.facing(out.relative_m), body.facing(pose)) < 20
    assert tracker.flips_corrected == 0


@pytest.mark.parametrize("accept", [1, 5])
def test_a_lasting_contradiction_is_followed_at_a_bounded_turn_rate(accept):
    rng = np.random.default_rng(7)
    config = TrackingConfig()
    config.filter.flip_accept_frames = accept
    tracker, root = settled(REST, rng, config)
    away = turned(REST, 180.0)
    facings, published = [], [body.facing(REST)]
    for frame in range(15, 15 + accept + 12):
        (out,) = step(tracker, [lifted(root, away, rng, joint_noise_m=0.01)], frame)
        facings.append(body.angle_deg(body.facing(out.relative_m), body.facing(away)))
        published.append(body.facing(out.relative_m))
    assert min(facings[:accept - 1], default=180.0) > 150  # corrected while not yet accepted ...
    assert facings[-1] < 30  # ... then the pose turns round, never faster than a body turns
    turns = [body.angle_deg(a, b) for a, b in zip(published[:-1], published[1:])]
    assert max(turns) < config.filter.flip_angle_deg  # the published facing never jumps
    assert body.turned_towards(away, body.facing(REST), 180.0) is away  # within the limit: unchanged


def test_turned_towards_rotates_about_the_spine_by_the_excess():
    away = turned(REST, 150.0)
    limited = body.turned_towards(away, body.facing(REST), 40.0)
    assert body.angle_deg(body.facing(limited), body.facing(REST)) == pytest.approx(40.0, abs=1e-6)
    np.testing.assert_allclose(body.bone_lengths(limited), body.bone_lengths(away))  # a rotation
    np.testing.assert_allclose(limited[H36M17.index("Thorax")], away[H36M17.index("Thorax")], atol=1e-12)


def depth_track(config: TrackingConfig, fps: float, frames: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]:
    """A person walking towards the camera and back (depth 6 -> 4 -> 6 m over 4 s) with exact 2D
    and 10 % network depth noise: true, raw and filtered root depths."""
    rng = np.random.default_rng(seed)
    tracker = Tracker(config)
    truth, raw, filtered = [], [], []
    for frame in range(frames):
        t = frame / fps
        root = np.array([0.5, 0.1, 5.0 + np.cos(2 * np.pi * t / 4.0)])
        person = lifted(root, REST, rng)
        result = CascadeResult([person], K, False)
        tracker.update(result, t)
        truth.append(root[2]), raw.append(person.root_m[2]), filtered.append(result.people[0].root_m[2])
    return np.array(truth), np.array(raw), np.array(filtered)


def test_the_body_size_cue_cuts_depth_noise_and_error_with_bounded_lag():
    """The track's skeleton against the 2D size (network_depth_weight < 1) removes most of the
    network's per-frame depth noise; with the network's depth alone the filter must smooth it."""
    network_only = TrackingConfig()
    network_only.filter.network_depth_weight = 1.0
    sized = TrackingConfig()
    assert sized.filter.network_depth_weight < 0.5
    truth, raw, alone = depth_track(network_only, FPS, 240)
    _, _, fused = depth_track(sized, FPS, 240)
    error = lambda z: np.abs(z[30:] - truth[30:]).mean()  # noqa: E731
    jitter = lambda z: np.median(np.abs(second_difference(z[30:])))  # noqa: E731
    assert error(fused) < 0.6 * error(alone) < 0.6 * error(raw)
    assert jitter(fused) < jitter(alone) < jitter(raw) / 5
    assert abs(lag_frames(fused[30:, None], truth[30:, None])) <= 1.0


def test_the_filter_smooths_over_the_same_frames_at_every_frame_rate():
    """reference_fps: the acceleration stds scale with the frame rate squared, so the same per-frame
    measurements give the same output at 10 and at 30 fps (the per-second setting does not)."""
    rng = np.random.default_rng(12)
    people = [lifted(np.array([0.5 + 0.02 * frame, 0.1, 5.0 - 0.03 * frame]), REST, rng) for frame in range(40)]

    def roots(fps: float, reference_fps: float) -> np.ndarray:
        config = TrackingConfig()
        config.filter.reference_fps = reference_fps
        config.filter.limit_root_speed = False  # a speed in m/s: a different bound per frame at each rate
        tracker, out = Tracker(config), []
        tracker.update(CascadeResult([], K, False), -1.0 / fps)  # the frame rate is known from the first person on
        for frame, person in enumerate(people):
            result = CascadeResult([person], K, False)
            tracker.update(result, frame / fps)
            out.append(result.people[0].root_m)
        return np.array(out)

    np.testing.assert_allclose(roots(30.0, 10.0), roots(10.0, 10.0), rtol=1e-9)
    assert np.abs(roots(30.0, 0.0) - roots(10.0, 0.0)).max() > 0.01


def test_bone_lengths_are_a_symmetric_median():
    estimate = body.BoneLengthEstimate(window=5)
    observed = np.ones(17, bool)
    for scale in (1.0, 1.1, 0.9, 1.0, 5.0):  # one outlier frame
        estimate.add(REST * scale, observed)
    lengths = estimate.lengths()
    np.testing.assert_allclose(lengths, body.bone_lengths(REST), rtol=1e-9)
    partial = body.BoneLengthEstimate(window=5)
    hidden = observed.copy()
    hidden[H36M17.index("LWrist")] = False
    partial.add(REST, hidden)
    assert np.all(np.isfinite(partial.lengths()))  # the hidden left forearm takes the right one's length


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fast_body_geometry_is_numpys_bit_for_bit(dtype):
    """The tracker's cheaper forms of np.linalg.norm and np.cross give the same floats (the
    tracked outputs must not change with them; benchmarks/tracker_cost.py compares whole runs)."""
    poses = np.random.default_rng(3).normal(size=(20, 17, 3)).astype(dtype)
    for pose in poses:
        assert np.array_equal(body.norms(pose), np.linalg.norm(pose, axis=-1))
        assert np.array_equal(body.bone_lengths(pose), np.linalg.norm(pose[1:] - pose[list(H36M17.parents[1:])], axis=-1))
        across = pose[body._L_HIP] - pose[body._R_HIP] + (pose[body._L_SHOULDER] - pose[body._R_SHOULDER])
        normal = np.cross(across, pose[body._THORAX] - pose[body._HIP])
        facing = body.facing(pose)
        assert facing.dtype == dtype
        np.testing.assert_allclose(facing, normal / np.linalg.norm(normal), rtol=0, atol=10 * np.finfo(dtype).eps)


def test_track_colours_are_stable_and_distinct():
    assert track_colour("t1") == track_colour("t1")
    colours = {track_colour(f"t{i}") for i in range(1, 7)}
    assert len(colours) == 6
    assert all(0.0 <= c <= 1.0 for colour in colours for c in colour)


def test_tracking_yaml_is_the_defaults():
    assert load_yaml(TrackingConfig, "config/tracking.yaml") == TrackingConfig()


def test_identity_errors_count_switches_and_fragments():
    truth = [["a", "b"], ["a", "b"], ["b", "a"], ["a"], ["a", "b"]]
    tracks = [["t1", "t2"], ["t1", "t2"], ["t1", "t2"], ["t2"], ["t2", "t3"]]
    errors = identity_errors(truth, tracks)
    # frame 2: both swap (2 switches); frame 4: b comes back as t3 (1 switch)
    assert errors == {"person_frames": 9, "id_switches": 3, "fragments": 1 + 2, "id_switches_per_100": 100 * 3 / 9}


def test_the_frame_rate_ignores_drops_and_bursts():
    tracker = Tracker()
    times = [frame / FPS for frame in range(8) if frame != 4] + [7 / FPS + 0.001]  # frame 4 dropped, a burst
    for time_s in times:
        tracker.update(CascadeResult([], K, False), time_s)
    assert tracker._frame_interval() == pytest.approx(1 / FPS)


def test_the_root_moves_no_faster_than_a_person_and_follows_a_true_jump():
    rng = np.random.default_rng(13)
    tracker, root = settled(REST, rng)
    limit = TrackingConfig().tracker.max_speed_mps / FPS
    far = root + np.array([0.0, 0.0, 1.5])  # the lift now says 1.5 m further, and keeps saying it
    published = [step(tracker, [lifted(root, REST, rng, joint_noise_m=0.01)], 15)[0].root_m]
    for frame in range(16, 16 + 45):
        (out,) = step(tracker, [lifted(far, REST, rng, depth_noise=0.01, joint_noise_m=0.01)], frame)
        published.append(out.root_m)
    steps = np.linalg.norm(np.diff(published, axis=0), axis=1)
    assert steps.max() <= limit + 1e-9
    assert abs(published[-1][2] - far[2]) < 0.1  # within 1.5 s


def test_without_the_speed_limit_a_jump_steps_faster():
    rng = np.random.default_rng(13)
    config = TrackingConfig()
    config.filter.limit_root_speed = False
    tracker, root = settled(REST, rng, config)
    step(tracker, [lifted(root, REST, rng, joint_noise_m=0.01)], 15)
    before = tracker.tracks["t1"].filter.root.copy()
    (out,) = step(tracker, [lifted(root + [0.0, 0.0, 1.5], REST, rng, depth_noise=0.01, joint_noise_m=0.01)], 16)
    assert np.linalg.norm(out.root_m - before) > 2 * config.tracker.max_speed_mps / FPS
