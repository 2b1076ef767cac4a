"""A track carries its person's floor size to the frames without the floor
(tracking.tracker.carry_floor_size, poselifter_core/tracking/floor_size.py): the shipped lifter on a
standing person 15 % smaller than the training bodies, seen by a camera at a known mount, the
ankles visible (the floor fuses) or hidden (the lifter alone)."""
from dataclasses import replace

import numpy as np
import pytest

from poselifter_core import shipped
from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import (
    FLOOR_CARRIED,
    FLOOR_DISAGREED,
    FLOOR_NO_ESTIMATE,
    FLOOR_OUTCOMES,
    ROOT_FLOOR,
    ROOT_LIFTER,
    ROOT_TRACK_FLOOR,
    CascadeConfig,
    CascadeResult,
    Pose3DEstimator,
)
from poselifter_core.floor import ANKLES, FLOOR_CARRIED_NO_MOUNT, FLOOR_CARRY_REFUSED, FloorConfig, floor_summary
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.plausibility import REASON_BEHIND, REASON_DEPTH_HIGH, PlausibilityConfig
from poselifter_core.pose2d.base import Person2D
from poselifter_core.skeleton import H36M17
from poselifter_core.tracking import Tracker, TrackingConfig
from poselifter_core.tracking.floor_size import WINDOW, FloorSize

from conftest import MOUNTED_AT as MOUNT
from conftest import MOUNTED_IMAGE as IMAGE
from conftest import MOUNTED_K, camera_view, standing_person

CAMERA = Intrinsics(*MOUNTED_K)
FPS = 10.0
#: The knees and ankles: hidden behind a table.
LOWER_LEGS = (*ANKLES, H36M17.index("RKnee"), H36M17.index("LKnee"))


@pytest.fixture(scope="module")
def people():
    """(true root [m], the person with the feet visible (floor-fused), the same person with the
    knees and ankles hidden (the lifter's depth alone))."""
    lifter = LifterRuntime.from_onnx(shipped.ONNX, backend="onnxruntime-cpu")
    cascade = Pose3DEstimator(None, lifter, CascadeConfig(floor=FloorConfig(**MOUNT)))
    truth, pixels = camera_view(standing_person(0.85, 6.0, swing_m=0.1), MOUNT["camera_height_m"],
                                MOUNT["camera_pitch_deg"], MOUNT["camera_roll_deg"])
    out = []
    for hidden in ((), LOWER_LEGS):
        scores = np.full(17, 0.9)
        scores[list(hidden)] = 0.0
        box = np.concatenate([pixels.min(axis=0), pixels.max(axis=0)])
        (person,) = cascade.lift_people([Person2D(pixels, scores, box, 0.9, H36M17)], CAMERA, IMAGE).people
        out.append(person)
    fused, hidden = out
    assert fused.root_source == ROOT_FLOOR and hidden.root_source == ROOT_LIFTER
    assert hidden.floor_outcome == FLOOR_NO_ESTIMATE
    return truth[0], fused, hidden


def config(carry: bool = True, min_frames: int = 3, filtered: bool = False, **tracker) -> TrackingConfig:
    out = TrackingConfig()
    out.filter.enabled = filtered
    out.tracker.carry_floor_size, out.tracker.floor_size_min_frames = carry, min_frames
    for name, value in tracker.items():
        setattr(out.tracker, name, value)
    return out


def play(tracker: Tracker, frames: list, start_s: float = 0.0) -> list[tuple]:
    """Each frame's person through the tracker: (published person, the frame's floor counts)."""
    out = []
    for index, person in enumerate(frames):
        result = CascadeResult([person], CAMERA, False)
        tracker.update(result, start_s + index / FPS)
        out.append((result.people[0], dict(result.floor)))
    return out


def test_the_cascade_records_the_lifters_own_depth(people):
    _, fused, hidden = people
    assert fused.lifter_depth_m != pytest.approx(float(fused.root_m[2]), rel=0.02)  # the floor moved it
    assert hidden.lifter_depth_m == float(hidden.root_m[2])


def test_hidden_feet_are_placed_by_the_ratio_learned_in_the_floor_frames(people):
    """Feet visible for 5 frames, then hidden: the hidden frames get the lifter's root moved along
    its ray by exactly the fused / lifter ratio, root_source track_floor, counted; the relative pose
    is kept, and the depth is much nearer the truth than the lifter's."""
    truth, fused, hidden = people
    out = play(Tracker(config()), [fused] * 5 + [hidden] * 5)
    ratio = float(fused.root_m[2]) / fused.lifter_depth_m
    for person, counts in out[:5]:
        assert person.root_source == ROOT_FLOOR and FLOOR_CARRIED not in counts
    for person, counts in out[5:]:
        assert person.root_source == ROOT_TRACK_FLOOR and counts == {FLOOR_CARRIED: 1}
        np.testing.assert_allclose(person.root_m, hidden.root_m * ratio, rtol=1e-5)  # along its own ray
        np.testing.assert_allclose(person.joints_m, person.root_m + hidden.relative_m, atol=1e-5)
        np.testing.assert_array_equal(person.relative_m, hidden.relative_m)
        assert person.canonical_depth == pytest.approx(hidden.canonical_depth * ratio, rel=1e-5)
        assert np.isfinite(person.joints_m).all() and person.root_m[2] > 0
        assert person.lifter_depth_m == hidden.lifter_depth_m
    error_lifter = abs(hidden.root_m[2] / truth[2] - 1)
    error_carried = abs(out[-1][0].root_m[2] / truth[2] - 1)
    assert error_lifter > 0.08 and error_carried < 0.6 * error_lifter, (error_lifter, error_carried)


def test_only_floor_fused_frames_teach_the_ratio(people):
    """Hidden-feet frames first teach nothing (not carried however many); a person whose floor
    disagreed (root_source lifter, whatever its recorded depths) teaches nothing either."""
    _, fused, hidden = people
    out = play(Tracker(config(min_frames=1)), [hidden] * 8)
    assert all(p.root_source == ROOT_LIFTER and FLOOR_CARRIED not in c for p, c in out)
    np.testing.assert_array_equal(out[-1][0].root_m, hidden.root_m)
    size = FloorSize()
    size.learn(replace(hidden, lifter_depth_m=0.5 * float(hidden.root_m[2])))  # a lifter person: nothing
    size.learn(replace(fused, lifter_depth_m=None))  # no lifter depth recorded: nothing
    assert size.fused_frames == 0 and size.log_ratio(1) is None
    size.learn(fused)
    assert size.log_ratio(1) == pytest.approx(np.log(float(fused.root_m[2]) / fused.lifter_depth_m))


def test_the_ratio_is_a_median_over_the_latest_fused_frames(people):
    _, fused, _ = people
    size = FloorSize()
    lifter = fused.lifter_depth_m
    for factor in (1.1, 1.1, 1.1, 3.0, 1.1):  # one frame with a wrong floor estimate
        size.learn(replace(fused, root_m=fused.root_m * (lifter * factor / float(fused.root_m[2]))))
    assert size.log_ratio(5) == pytest.approx(np.log(1.1)) and size.log_ratio(6) is None
    for _ in range(WINDOW):
        size.learn(replace(fused, root_m=fused.root_m * (lifter * 0.9 / float(fused.root_m[2]))))
    assert size.fused_frames == WINDOW and size.log_ratio(1) == pytest.approx(np.log(0.9))


def test_a_frame_whose_floor_disagreed_is_not_carried(people):
    """The floor's estimate disagreed with the lifter's (feet on a step, a platform): the lifter's
    depth stands, as without the track (floor_outcome disagreed, not no_estimate)."""
    _, fused, hidden = people
    disagreed = replace(hidden, floor_outcome=FLOOR_DISAGREED)
    out = play(Tracker(config()), [fused] * 5 + [disagreed, hidden])
    assert [p.root_source for p, _ in out[5:]] == [ROOT_LIFTER, ROOT_TRACK_FLOOR]
    np.testing.assert_array_equal(out[5][0].root_m, hidden.root_m)


def test_carried_by_default(people):
    _, fused, hidden = people
    defaults = TrackingConfig()
    assert defaults.tracker.carry_floor_size and defaults.tracker.floor_size_min_frames == 5
    defaults.filter.enabled = False
    out = play(Tracker(defaults), [fused] * 5 + [hidden])
    assert out[-1][0].root_source == ROOT_TRACK_FLOOR


@pytest.mark.parametrize("fused_frames, carried", [(2, False), (3, True)])
def test_not_carried_before_the_minimum_of_fused_frames(people, fused_frames, carried):
    _, fused, hidden = people
    out = play(Tracker(config(min_frames=3)), [fused] * fused_frames + [hidden] * 3)
    assert {p.root_source for p, _ in out[fused_frames:]} == {ROOT_TRACK_FLOOR if carried else ROOT_LIFTER}


def test_not_carried_when_off_or_untracked(people):
    _, fused, hidden = people
    frames = [fused] * 5 + [hidden] * 3
    off = play(Tracker(config(carry=False)), frames)
    assert [p.root_source for p, _ in off[5:]] == [ROOT_LIFTER] * 3
    np.testing.assert_array_equal(off[-1][0].root_m, hidden.root_m)
    untracked = config()
    untracked.enabled = False
    out = play(Tracker(untracked), frames)
    assert out[-1][0] is frames[-1] and all(FLOOR_CARRIED not in c for _, c in out)


def test_the_track_forgets_the_ratio_when_it_dies_or_the_stream_resets(people):
    """A gap longer than max_gap_s: a new track, which has learned nothing; the stream's clock
    going backwards drops every track. A short gap (the filter restarts) keeps it."""
    _, fused, hidden = people
    tracker = Tracker(config(max_gap_s=1.0, filtered=True))
    before = play(tracker, [fused] * 5)
    dead = play(tracker, [hidden] * 3, start_s=3.0)
    assert dead[0][0].track_id != before[0][0].track_id and {p.root_source for p, _ in dead} == {ROOT_LIFTER}
    tracker = Tracker(config(max_gap_s=1.0, filtered=True))
    play(tracker, [fused] * 5, start_s=10.0)
    back = play(tracker, [hidden] * 3, start_s=0.0)  # the clock went backwards
    assert tracker.resets == 1 and {p.root_source for p, _ in back} == {ROOT_LIFTER}
    tracker = Tracker(config(max_gap_s=1.0, filtered=True))
    first = play(tracker, [fused] * 5)
    again = play(tracker, [hidden] * 3, start_s=0.4 + 0.8)  # > filter.reset_gap_s, < max_gap_s
    assert again[0][0].track_id == first[0][0].track_id
    assert {p.root_source for p, _ in again} == {ROOT_TRACK_FLOOR}
    assert all(np.isfinite(p.joints_m).all() and p.root_m[2] > 0 for p, _ in again)


def test_the_filter_sees_the_carried_depth(people):
    """With the filter on, the published depth in the hidden frames follows the carried one (the
    floor's scale), not the lifter's: no jump back when the feet disappear."""
    _, fused, hidden = people
    frames = [fused] * 20 + [hidden] * 20
    carried = play(Tracker(config(filtered=True)), frames)
    plain = play(Tracker(config(carry=False, filtered=True)), frames)
    target = float(hidden.root_m[2]) * float(fused.root_m[2]) / fused.lifter_depth_m
    assert carried[-1][0].root_m[2] == pytest.approx(target, rel=0.01)
    assert abs(plain[-1][0].root_m[2] - target) > 3 * abs(carried[-1][0].root_m[2] - target)


def test_infer_json_explains_every_floor_count(people):
    """infer's JSON says what each of the frame's ``floor`` counts means, ``carried`` (a part of
    ``no_estimate``, not people beside them) included: a reader summing the counts would count the
    carried people twice."""
    from poselifter_core.infer import result_to_dict

    _, fused, hidden = people
    tracker = Tracker(config())
    play(tracker, [fused] * 5)
    result = CascadeResult([hidden], CAMERA, False)
    result.floor[FLOOR_NO_ESTIMATE] += 1  # as the cascade counts the person
    tracker.update(result, 5 / FPS)
    out = result_to_dict(result)
    assert out["people"][0]["root_source"] == ROOT_TRACK_FLOOR and out["floor"] == {"no_estimate": 1, "carried": 1}
    for key in (*FLOOR_OUTCOMES, FLOOR_CARRIED, FLOOR_CARRIED_NO_MOUNT, FLOOR_CARRY_REFUSED):
        assert f"{key} = " in out["root_source"], key
    assert "of the no_estimate people" in out["root_source"]


def test_a_carry_that_would_put_a_joint_behind_the_camera_is_not_made(people):
    """The cascade never publishes a joint at or behind the camera (plausibility): a carried person
    is checked the same way, not only its root (a near person with a small learned ratio)."""
    _, fused, hidden = people
    size = FloorSize()
    ratio = 0.25 / float(hidden.root_m[2])  # the root 0.25 m away, the body reaching behind the camera
    size.learn(replace(fused, root_m=fused.root_m * (fused.lifter_depth_m * ratio / float(fused.root_m[2]))))
    assert size.log_ratio(1) == pytest.approx(np.log(ratio))
    assert (hidden.root_m[2] * ratio + hidden.relative_m[:, 2]).min() <= 0  # the carry would
    assert size.carry(hidden, 1, PlausibilityConfig()) == (None, REASON_BEHIND)
    near = replace(hidden, root_m=hidden.root_m * 2.0, joints_m=hidden.root_m * 2.0 + hidden.relative_m)
    assert size.carry(near, 1, PlausibilityConfig())[0] is not None  # twice as far: in front, carried


def test_a_frame_without_a_mount_is_carried(people):
    """A frame lifted with no mount at all (the node's floor_frame transform missed for it and no
    cascade.floor parameters: floor_outcome "") is carried like a no_estimate one: the person's size
    does not depend on whether this frame had a mount. Counted apart (carried_no_mount), so that
    ``carried`` stays a part of ``no_estimate``."""
    _, fused, hidden = people
    no_mount = replace(hidden, floor_outcome="")
    out = play(Tracker(config()), [fused] * 5 + [no_mount, hidden])
    ratio = float(fused.root_m[2]) / fused.lifter_depth_m
    assert [p.root_source for p, _ in out[5:]] == [ROOT_TRACK_FLOOR, ROOT_TRACK_FLOOR]
    np.testing.assert_allclose(out[5][0].root_m, hidden.root_m * ratio, rtol=1e-5)
    assert out[5][1] == {FLOOR_CARRIED_NO_MOUNT: 1} and out[6][1] == {FLOOR_CARRIED: 1}
    assert floor_summary(out[5][1]).endswith(", disagreed with the lifter 0, carried in frames without a mount 1")
    assert "without a mount" not in floor_summary(out[6][1])


def test_with_the_floor_off_nothing_is_carried(people):
    """With the floor off for the whole stream no track learns a ratio, so the frames without a
    mount (all of them) keep the lifter's pose, unchanged and uncounted."""
    _, _, hidden = people
    no_mount = replace(hidden, floor_outcome="")
    out = play(Tracker(config(min_frames=1)), [no_mount] * 6)
    assert all(p.root_source == ROOT_LIFTER and not c for p, c in out)
    np.testing.assert_array_equal(out[-1][0].root_m, hidden.root_m)


def test_a_carry_nearer_than_the_cascades_min_depth_keeps_the_lifters_pose(people):
    """The carried root is checked by the cascade's own output gates (plausibility.output_reasons
    with the cascade's plausibility settings, handed over in the result): the person, smaller than
    the training bodies, is carried nearer; with min_depth_m between the carried and the lifter's
    depth the lifter's pose (which passed the gate) is kept, counted as carry_refused."""
    _, fused, hidden = people
    carried_depth = float(hidden.root_m[2]) * float(fused.root_m[2]) / fused.lifter_depth_m
    assert carried_depth < 0.95 * hidden.root_m[2]
    gates = PlausibilityConfig(min_depth_m=(carried_depth + float(hidden.root_m[2])) / 2)
    tracker = Tracker(config())
    play(tracker, [fused] * 5)
    result = CascadeResult([hidden], CAMERA, False, plausibility=gates)
    tracker.update(result, 5 / FPS)
    (person,) = result.people
    assert person.root_source == ROOT_LIFTER and dict(result.floor) == {FLOOR_CARRY_REFUSED: 1}
    np.testing.assert_array_equal(person.root_m, hidden.root_m)
    assert "carry refused by the output gates (the lifter's kept) 1" in floor_summary(result.floor)
    result = CascadeResult([hidden], CAMERA, False)  # no gates handed over: the defaults, carried
    tracker.update(result, 6 / FPS)
    assert result.people[0].root_source == ROOT_TRACK_FLOOR and dict(result.floor) == {FLOOR_CARRIED: 1}


def test_a_carry_beyond_max_depth_is_refused(people):
    """A learned ratio above 1 (a tall person) that moves the root past max_depth_m is refused with
    the gate's reason; within it, carried."""
    _, fused, hidden = people
    size = FloorSize()
    size.learn(replace(fused, root_m=fused.root_m * (1.3 * fused.lifter_depth_m / float(fused.root_m[2]))))
    depth = float(hidden.root_m[2])
    assert size.carry(hidden, 1, PlausibilityConfig(max_depth_m=1.2 * depth)) == (None, REASON_DEPTH_HIGH)
    carried, refused = size.carry(hidden, 1, PlausibilityConfig(max_depth_m=1.4 * depth))
    assert refused is None and carried.root_m[2] == pytest.approx(1.3 * depth, rel=1e-5)


def test_the_cascade_hands_its_gates_to_the_tracker(people):
    lifter = LifterRuntime.from_onnx(shipped.ONNX, backend="onnxruntime-cpu")
    gates = PlausibilityConfig(max_depth_m=30.0)
    cascade = Pose3DEstimator(None, lifter, CascadeConfig(plausibility=gates))
    assert cascade.lift_people([], CAMERA, IMAGE).plausibility is gates


def mounted(person, **mount) -> CascadeResult:
    return CascadeResult([person], CAMERA, False, mount=FloorConfig(**{**MOUNT, **mount}))


def test_a_mount_that_moves_beyond_its_stated_error_makes_the_tracks_forget(people):
    """Ratios learned under one mount carry that mount's error: when the frames' mount (the result's,
    as the cascade used it: cascade.floor or the node's from TF) moves by more than its stated 1-sigma
    error (angle_error_deg for pitch and roll, contact_error_m for the heights) from the one the
    ratios were learned under, every track forgets its ratio (counted) and relearns; smaller moves
    (TF jitter) and frames without a mount keep it."""
    _, fused, hidden = people
    tracker = Tracker(config())
    for index in range(5):
        tracker.update(mounted(fused), index / FPS)
    pitch, error = MOUNT["camera_pitch_deg"], FloorConfig().angle_error_deg
    steps = [mounted(hidden, camera_pitch_deg=pitch + 0.4 * error), CascadeResult([replace(hidden, floor_outcome="")],
             CAMERA, False), mounted(hidden, camera_pitch_deg=pitch - 0.5 * error)]
    for index, result in enumerate(steps):
        tracker.update(result, (5 + index) / FPS)
        assert result.people[0].root_source == ROOT_TRACK_FLOOR, index
    assert tracker.floor_size_resets == 0
    moved = mounted(hidden, camera_pitch_deg=pitch + 2 * error)
    tracker.update(moved, 8 / FPS)
    assert moved.people[0].root_source == ROOT_LIFTER and tracker.floor_size_resets == 1
    higher = mounted(hidden, camera_height_m=MOUNT["camera_height_m"] + 0.5)
    tracker.update(higher, 9 / FPS)  # nothing learned since: nothing to forget, the new mount taken
    assert higher.people[0].root_source == ROOT_LIFTER and tracker.floor_size_resets == 2


def test_forget_floor_sizes(people):
    _, fused, hidden = people
    tracker = Tracker(config())
    play(tracker, [fused] * 5)
    tracker.forget_floor_sizes()
    assert play(tracker, [hidden], start_s=1.0)[0][0].root_source == ROOT_LIFTER


def test_after_a_forget_the_next_frames_mount_is_the_one_the_ratios_are_learned_under(people):
    """The node forgets when cascade.floor is changed live; the next frame brings the new mount,
    which the tracker then takes without forgetting (and counting) a second time, and the ratios
    relearned under it are carried."""
    _, fused, hidden = people
    tracker = Tracker(config())
    for index in range(5):
        tracker.update(mounted(fused), index / FPS)
    tracker.forget_floor_sizes()
    higher = MOUNT["camera_height_m"] + 0.5
    for index in range(5):
        tracker.update(mounted(fused, camera_height_m=higher), (5 + index) / FPS)
    carried = mounted(hidden, camera_height_m=higher)
    tracker.update(carried, 10 / FPS)
    assert carried.people[0].root_source == ROOT_TRACK_FLOOR and tracker.floor_size_resets == 1


def test_the_cascade_hands_its_mount_to_the_tracker():
    lifter = LifterRuntime.from_onnx(shipped.ONNX, backend="onnxruntime-cpu")
    cascade = Pose3DEstimator(None, lifter, CascadeConfig(floor=FloorConfig(**MOUNT)))
    assert cascade.lift_people([], CAMERA, IMAGE).mount == FloorConfig(**MOUNT)
    other = FloorConfig(**{**MOUNT, "camera_height_m": 3.0})
    assert cascade.lift_people([], CAMERA, IMAGE, floor=other).mount is other
    assert cascade.lift_people([], None, IMAGE).mount is None  # assumed intrinsics: the floor unused
    assert cascade.lift_people([], CAMERA, IMAGE, floor=FloorConfig()).mount is None  # no mount
