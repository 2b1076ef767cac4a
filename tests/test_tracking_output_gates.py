"""Every pose the tracker publishes passes the cascade's output gates
(poselifter_core/tracking/output_gates.py): a filtered pose that fails is replaced by the person's
own, a coasting one that fails is withheld, and both are counted where infer, bag and the node
report them."""
from collections import Counter

import numpy as np
from test_tracking import FPS, REST, K, lifted

from poselifter_core.cascade import CascadeResult, Person3D
from poselifter_core.infer import result_to_dict
from poselifter_core.plausibility import PlausibilityConfig, output_reasons
from poselifter_core.rosmsg.bag import BagSummary
from poselifter_core.rosmsg.frames import Frame
from poselifter_core.skeleton import H36M17
from poselifter_core.tracking import COASTING, TRACKED, Tracker, TrackerConfig, TrackingConfig
from poselifter_core.tracking.output_gates import TRACK_COASTING_WITHHELD, TRACK_FILTERED_REFUSED

#: Metres per second towards the camera: a brisk walk, within the tracker's max_speed_mps.
APPROACH_MPS = 3.0


def tracked(tracker: Tracker, people: list[Person3D], frame: int,
            gates: PlausibilityConfig | None = None) -> CascadeResult:
    """One frame through the tracker, with the output gates ``gates`` (None: the defaults)."""
    result = CascadeResult(people, K, False, plausibility=gates)
    tracker.update(result, frame / FPS)
    return result


def assert_publishable(people: list[Person3D], gates: PlausibilityConfig) -> None:
    assert output_reasons(np.array([p.root_m for p in people]).reshape(-1, 3),
                          np.array([p.joints_m for p in people]).reshape(-1, 17, 3), gates) == [None] * len(people)


def approach_then_vanish(gates: PlausibilityConfig | None,
                         relative: np.ndarray = REST) -> tuple[list[CascadeResult], Tracker]:
    """A person walking straight at the camera from 3 m to 1 m, then unseen for the track's gap:
    the coasting track is extrapolated on towards (and, in ln depth, nearly onto) the camera."""
    tracker = Tracker(TrackingConfig(tracker=TrackerConfig(emit_coasting=True)))
    frames, seen = [], int(2.0 / APPROACH_MPS * FPS)
    for frame in range(seen + 1):
        root = np.array([0.0, 0.1, 3.0 - APPROACH_MPS * frame / FPS])
        frames.append(tracked(tracker, [lifted(root, relative)], frame, gates))
    frames += [tracked(tracker, [], frame, gates) for frame in range(seen + 1, seen + int(FPS))]
    return frames, tracker


def test_a_coasting_track_is_not_published_nearer_than_min_depth():
    gates = PlausibilityConfig()
    frames, tracker = approach_then_vanish(None)
    coasting = [f.people for f in frames if f.people and f.people[0].track_state == COASTING]
    withheld = [f for f in frames if f.tracking[TRACK_COASTING_WITHHELD]]
    assert coasting and withheld  # coasted first, then withheld once the prediction got too near
    for frame in frames:
        assert_publishable(frame.people, gates)
    first_withheld = frames.index(withheld[0])
    assert all(not f.people for f in frames[first_withheld:])  # the depth only falls: never published again
    assert coasting[-1][0].root_m[2] >= gates.min_depth_m
    assert sum((f.tracking for f in frames), Counter()) == {TRACK_COASTING_WITHHELD: len(withheld)}
    assert "t1" in tracker.tracks  # withheld, not ended: it dies after max_gap_s as any unseen track


def test_a_coasting_track_is_not_published_with_joints_behind_the_camera():
    """A person reaching 0.5 m out towards the camera: the hands cross it while the root is still
    farther than min_depth_m."""
    reaching = REST.copy()
    reaching[[H36M17.index("LWrist"), H36M17.index("RWrist")], 2] = -0.5
    gates = PlausibilityConfig(min_depth_m=0.05)
    frames, _ = approach_then_vanish(gates, reaching)
    coasting = [f.people[0] for f in frames if f.people and f.people[0].track_state == COASTING]
    assert coasting[-1].root_m[2] > 0.5  # withheld from then on: for the hands, the root far from min_depth_m
    assert sum(f.tracking[TRACK_COASTING_WITHHELD] for f in frames) > 0
    for frame in frames:
        assert_publishable(frame.people, gates)


def test_a_filtered_root_lagging_out_of_the_depth_range_gives_way_to_the_lift():
    """A person re-lifted 1 m nearer (after bad frames): the filtered root follows at
    max_speed_mps and lags beyond a max_depth_m that the lift is within; the lift is published,
    counted, and the next frames are filtered again (the filter's state kept)."""
    tracker = Tracker()
    for frame in range(20):
        tracked(tracker, [lifted(np.array([0.0, 0.1, 8.0]), REST)], frame)
    nearer = lifted(np.array([0.0, 0.1, 7.0]), REST)
    gates = PlausibilityConfig(max_depth_m=7.5)
    result = tracked(tracker, [nearer], 20, gates)
    (out,) = result.people
    assert out.track_id == "t1" and out.track_state == TRACKED
    np.testing.assert_array_equal(out.root_m, nearer.root_m)
    np.testing.assert_array_equal(out.joints_m, nearer.joints_m)
    assert result.tracking == {TRACK_FILTERED_REFUSED: 1}
    assert tracker.tracks["t1"].last is out  # what was published is what the track continues from
    (filtered,) = tracked(tracker, [nearer], 21).people  # the default gates: the filtered root again
    assert filtered.root_m[2] > nearer.root_m[2] + 0.1


def test_a_filtered_body_larger_than_max_body_extent_gives_way_to_the_lift():
    """The filter rescales the bones to the track's skeleton: a frame whose lift is smaller fits a
    max_body_extent_m that the filtered body does not."""
    tracker = Tracker()
    root = np.array([0.0, 0.1, 5.0])
    for frame in range(20):
        tracked(tracker, [lifted(root, REST)], frame)
    small = lifted(root, 0.8 * REST)
    extent = float(np.linalg.norm(small.relative_m, axis=1).max())
    result = tracked(tracker, [small], 20, PlausibilityConfig(max_body_extent_m=extent + 0.01))
    np.testing.assert_array_equal(result.people[0].joints_m, small.joints_m)
    assert result.tracking == {TRACK_FILTERED_REFUSED: 1}


def test_the_counts_reach_infers_json_and_bags_summary():
    result = CascadeResult([], K, False, tracking=Counter({TRACK_COASTING_WITHHELD: 2, TRACK_FILTERED_REFUSED: 1}))
    out = result_to_dict(result)
    assert out["tracking"] == {TRACK_COASTING_WITHHELD: 2, TRACK_FILTERED_REFUSED: 1}
    assert TRACK_FILTERED_REFUSED in out["tracking_meaning"] and TRACK_COASTING_WITHHELD in out["tracking_meaning"]
    assert "{} = none (always, for photos and image folders: only a video is tracked" in out["tracking_meaning"]
    summary = BagSummary()
    assert "tracker output gates" not in str(summary)
    summary.add(Frame(0, "camera", result))
    summary.add(Frame(1, "camera", CascadeResult([], K, False, tracking=Counter({TRACK_FILTERED_REFUSED: 3}))))
    assert ("tracker output gates: filtered poses refused (the person's own pose published) 4, coasting poses "
            "withheld 2") in str(summary).splitlines()
