"""Plausibility gates of the lifting path (issue #13 rows 2, 3 and 13): nothing non-finite,
non-positive or absurd leaves the cascade, and a frame's people are capped and counted."""

import numpy as np
import pytest

from poselifter_core import shipped
from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeConfig, Pose3DEstimator
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.plausibility import (
    REASON_BEHIND,
    REASON_BODY,
    REASON_CAMERA,
    REASON_CAP,
    REASON_DEPTH_HIGH,
    REASON_DEPTH_LOW,
    REASON_NOT_FINITE,
    REASON_RAY,
    PlausibilityConfig,
    camera_implausible,
    cap_boxes,
    cap_people,
    output_reasons,
    ray_failures,
)
from poselifter_core.pose2d.base import Person2D, Pose2DEstimator
from poselifter_core.skeleton import H36M17

from conftest import REST_POSE

GATES = PlausibilityConfig()
#: The rest pose 3 m in front of a 640x480 camera with fx 500: camera optical frame, metres.
BODY_M = np.stack([REST_POSE[:, 0], 900 - REST_POSE[:, 1], 3000 + REST_POSE[:, 2]], axis=1) / 1000


def projected(scale: float = 1.0) -> tuple[np.ndarray, Intrinsics]:
    """The body's 2D joints at ``scale`` times 640x480 (fx scaled to match: the same scene)."""
    k = Intrinsics(500.0 * scale, 500.0 * scale, 320.0 * scale - 0.5, 240.0 * scale - 0.5)
    uv = BODY_M[:, :2] / BODY_M[:, 2:] * [k.fx, k.fy] + [k.cx, k.cy]
    return uv, k


class FixedPeople(Pose2DEstimator):
    skeleton = H36M17

    def __init__(self, people: list[Person2D]) -> None:
        self.people = people
        self.boxes_seen = None

    def estimate(self, image, boxes=None):
        self.boxes_seen = boxes
        return self.people


def person(uv: np.ndarray, score: float = 0.9) -> Person2D:
    return Person2D(np.asarray(uv, float), np.full(17, 0.9), np.array([0.0, 0.0, 10.0, 10.0]), score, H36M17)


@pytest.fixture(scope="module")
def cascade():
    return Pose3DEstimator(None, LifterRuntime.from_onnx(shipped.ONNX, "onnxruntime-cpu"))


def test_input_gate_rejects_joints_far_outside_any_view():
    uv, k = projected()
    far = uv.copy()
    far[3, 0] = 1e30
    shifted = uv + 1e6
    nan_hidden = uv.copy()
    nan_hidden[5] = np.inf  # an unobserved joint may hold anything
    valid = np.ones((4, 17), bool)
    valid[3, 5] = False
    with np.errstate(over="ignore", invalid="ignore"):
        failed = ray_failures(np.stack([uv, far, shifted, nan_hidden]), valid, k.as_array(), GATES)
    assert failed.tolist() == [False, True, True, False]
    assert not camera_implausible(k.as_array(), GATES)
    huge_camera = Intrinsics(1e30, 1e30, 319.5, 239.5).as_array()  # finite, but not a camera (float32: inf)
    assert camera_implausible(huge_camera, GATES)


def test_output_gate_reasons():
    root = np.array([0.0, 0.0, 3.0])
    joints = BODY_M - BODY_M[0] + root
    behind = joints.copy()
    behind[4, 2] = -0.1
    cases = {None: (root, joints), REASON_NOT_FINITE: (root * np.nan, joints),
             REASON_DEPTH_LOW: (-root, joints - 2 * root), REASON_DEPTH_HIGH: (root * 100, joints + 297 * root / 3),
             REASON_BEHIND: (root, behind), REASON_BODY: (root, joints * [1, 20, 1])}
    for reason, (r, j) in cases.items():
        assert output_reasons(r[None], j[None], GATES) == [reason], reason


def test_caps_keep_the_largest_boxes_and_best_people_and_count_the_rest():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 50, 50], [0, 0, np.nan, 5], [0, 0, 30, 30]], float)
    kept, ids, dropped = cap_boxes(boxes, ["a", "b", "nan", "c"], 2)
    assert ids == ["b", "c"] and kept.tolist() == [[0, 0, 50, 50], [0, 0, 30, 30]] and dropped == 2
    assert cap_people(np.array([0.5, 0.9, np.nan, 0.7]), 2).tolist() == [1, 3]
    assert cap_people(np.ones(5), 0).tolist() == [0, 1, 2, 3, 4]  # 0: no cap


def test_config_rejects_bad_bounds():
    for bad in ({"min_depth_m": 0.0}, {"max_depth_m": float("inf")}, {"max_people": -1}, {"max_ray": 0.0}):
        with pytest.raises(ValueError):
            PlausibilityConfig(**bad)


@pytest.mark.parametrize("scale", [1.0, 3.0, 6.0, 15.625])  # 640 px ... 10000 px wide, fx scaled to match
def test_same_scene_at_any_resolution_never_gives_a_non_positive_depth(cascade, scale):
    """Row 2: the shipped pixel-space lifter puts this scene at z = -4 m at 3840 px (-86 m at
    10000 px). Whatever the model, a returned pose is in front of the camera at a sane depth; a
    pose that is not is skipped under a plausibility reason."""
    uv, k = projected(scale)
    result = cascade.lift_people([person(uv)], k, (round(640 * scale), round(480 * scale)))
    for lifted in result.people:
        assert GATES.min_depth_m <= lifted.root_m[2] <= GATES.max_depth_m
        assert np.all(np.isfinite(lifted.joints_m)) and np.all(lifted.joints_m[:, 2] > 0)
    assert len(result.people) + sum(result.skipped.values()) == 1
    if scale == 1.0:
        assert result.people and result.people[0].root_m[2] == pytest.approx(3.0, rel=0.2)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no numpy overflow on the way either
@pytest.mark.parametrize("change", ["huge", "shifted", "max_float"])
def test_huge_finite_keypoints_are_skipped_not_lifted(cascade, change):
    """Row 3: x = 1e30 gave a root at (-inf, -inf, -inf), a shift of 1e6 px z = 5077 m."""
    uv, k = projected()
    bad = uv.copy()
    if change == "huge":
        bad[:, 0] = 1e30
    elif change == "shifted":
        bad += 1e6
    else:
        bad[7] = np.finfo(np.float64).max
    result = cascade.lift_people([person(uv), person(bad)], k, (640, 480))
    assert len(result.people) == 1 and result.skipped == {REASON_RAY: 1}


def test_implausible_camera_skips_everyone_under_its_reason(cascade):
    uv, _ = projected()
    huge_camera = Intrinsics(1e30, 1e30, 319.5, 239.5)
    result = cascade.lift_people([person(uv), person(uv)], huge_camera, (640, 480))
    assert not result.people and result.skipped == {REASON_CAMERA: 2}


def test_top_down_boxes_are_capped_before_the_2d_stage():
    """Row 13: 200 boxes made one frame take 14-19 s; the cap bounds the 2D stage's work."""
    uv, k = projected()
    estimator = FixedPeople([person(uv)])
    lifter = LifterRuntime.from_onnx(shipped.ONNX, "onnxruntime-cpu")
    config = CascadeConfig(plausibility=PlausibilityConfig(max_people=5))
    boxes = np.tile([100.0, 50.0, 300.0, 450.0], (200, 1)) + np.arange(200)[:, None]
    result = Pose3DEstimator(estimator, lifter, config).process(
        np.zeros((480, 640, 3), np.uint8), k, boxes, [f"b{i}" for i in range(200)])
    assert len(estimator.boxes_seen) == 5 and result.skipped[REASON_CAP] == 195


def _output_reason_of_one(root: np.ndarray, joints: np.ndarray) -> str | None:
    """The output gate for one person, written out check by check (the reference)."""
    with np.errstate(over="ignore", invalid="ignore"):
        extent = np.sqrt(((joints - root) ** 2).sum(axis=1)).max()
        checks = [(not (np.isfinite(root).all() and np.isfinite(joints).all()), REASON_NOT_FINITE),
                  (root[2] < GATES.min_depth_m, REASON_DEPTH_LOW), (root[2] > GATES.max_depth_m, REASON_DEPTH_HIGH),
                  ((joints[:, 2] <= 0).any(), REASON_BEHIND), (extent > GATES.max_body_extent_m, REASON_BODY)]
    return next((reason for failed, reason in checks if failed), None)


def test_output_gate_of_a_frame_is_each_persons_own():
    """The frame-wide early exit (everyone plausible) and the per-person checks give every person
    the reason it would get alone, whatever else is in the frame: NaN, inf, bounds exactly met."""
    rng = np.random.default_rng(7)
    special = [np.nan, np.inf, -np.inf, 0.0, -0.1, GATES.min_depth_m, GATES.max_depth_m, 1e308]
    for _ in range(400):
        count = int(rng.integers(1, 5))
        root = np.stack([rng.normal(0, 2, count), rng.normal(0, 1, count), rng.uniform(0.5, 30, count)], axis=1)
        joints = root[:, None] + rng.normal(0, 0.4, (count, 17, 3))
        for _ in range(int(rng.integers(0, 3))):
            target = root if rng.random() < 0.5 else joints
            target.reshape(-1)[rng.integers(target.size)] = rng.choice(special)
        expected = [_output_reason_of_one(r, j) for r, j in zip(root, joints)]
        assert output_reasons(root, joints, GATES) == expected
    assert output_reasons(np.zeros((0, 3)), np.zeros((0, 17, 3)), GATES) == []
