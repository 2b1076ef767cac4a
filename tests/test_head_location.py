"""Head-only location (poselifter_core/head_location.py) on generated heads of known depth,
orientation and size, and its place in the cascade's output (skipped people, JSON, Detection3D)."""
from types import SimpleNamespace

import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeConfig, Pose3DEstimator
from poselifter_core.head_location import (
    FACE_INDICES,
    HEAD_SIZE_LOG_STD,
    HEAD_TEMPLATE,
    KEYPOINT_NOISE_PX,
    MAX_PITCH_DEG,
    PLACEMENT_LOG_STD,
    locate_head,
)
from poselifter_core.infer import result_to_dict
from poselifter_core.pose2d.base import Person2D
from poselifter_core.rosmsg.detections3d import HEAD_ONLY_CLASS, PERSON_CLASS, detection3d_array
from poselifter_core.rosmsg.rigid import RigidTransform
from poselifter_core.skeleton import COCO17

CAMERA = Intrinsics(600.0, 600.0, 319.5, 239.5)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Head frame -> camera optical frame (x right, y down, z forward), facing the camera at 0, 0, 0:
    the head's z (out of the face) points at the camera."""
    face_camera = np.diag([-1.0, 1.0, -1.0])
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    yaw_m = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    pitch_m = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    roll_m = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return roll_m @ pitch_m @ face_camera @ yaw_m


def face_keypoints(centre_m, yaw=0.0, pitch=0.0, roll=0.0, scale=1.0, camera=CAMERA) -> np.ndarray:
    """(17, 2) COCO pixels of a head (perspective projection of the scaled template) whose face
    keypoints' centroid is at ``centre_m``; body joints NaN."""
    points = scale * HEAD_TEMPLATE @ _rotation(yaw, pitch, roll).T
    points += np.asarray(centre_m) - points.mean(axis=0)
    pixels = np.full((17, 2), np.nan)
    pixels[FACE_INDICES] = points[:, :2] / points[:, 2:] * [camera.fx, camera.fy] + [camera.cx, camera.cy]
    return pixels


def face_only(keypoints: np.ndarray, observed=(True,) * 5) -> np.ndarray:
    mask = np.zeros(17, bool)
    mask[FACE_INDICES] = observed
    return mask


def test_a_frontal_head_is_placed_at_its_depth_within_the_orientation_spread():
    keypoints = face_keypoints((0.3, -0.1, 2.0))
    head = locate_head(keypoints, face_only(keypoints), CAMERA)
    assert head.face_keypoints == 5
    # the 2D stage's placement term widens the interval of the geometry alone
    ideal = locate_head(keypoints, face_only(keypoints), CAMERA, placement_log_std=0.0)
    assert head.depth_log_std == pytest.approx(np.sqrt(ideal.depth_log_std**2 + PLACEMENT_LOG_STD**2))
    assert head.depth_range_m[0] < 2.0 < head.depth_range_m[1]
    assert head.position_m[2] == pytest.approx(2.0, rel=0.1)
    # the position lies on the ray through the face's centre
    assert head.position_m[:2] / head.position_m[2] == pytest.approx([0.15, -0.05], abs=1e-3)


def test_the_interval_holds_the_true_depth_as_often_as_it_says():
    """Random heads of the prior (any yaw, pitch within the prior, roll, adult size spread), 0.6-8 m
    away anywhere in the image, with keypoint noise and 3 to 5 face keypoints seen, each where the
    head's keypoint is (no placement error: placement_log_std 0): the 10-90 % interval holds the
    true depth in about 80 % of them, and the depth is biased by under 5 %."""
    rng = np.random.default_rng(3)
    inside, log_errors = [], []
    for _ in range(1500):
        depth = float(np.exp(rng.uniform(np.log(0.6), np.log(8.0))))
        centre = (rng.uniform(-0.4, 0.4) * depth, rng.uniform(-0.3, 0.3) * depth, depth)
        keypoints = face_keypoints(centre, rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(-MAX_PITCH_DEG, MAX_PITCH_DEG)),
                                   rng.uniform(-0.5, 0.5), float(np.exp(rng.normal(0, HEAD_SIZE_LOG_STD))))
        keypoints += rng.normal(0, KEYPOINT_NOISE_PX, keypoints.shape)
        observed = np.ones(5, bool)
        observed[rng.choice(5, rng.integers(0, 3), replace=False)] = False
        head = locate_head(keypoints, face_only(keypoints, observed), CAMERA, placement_log_std=0.0)
        if head is None:  # a face under a pixel across: not located
            continue
        inside.append(head.depth_range_m[0] <= depth <= head.depth_range_m[1])
        log_errors.append(np.log(head.position_m[2] / depth))
    assert len(inside) > 1400
    assert 0.72 < np.mean(inside) < 0.88, np.mean(inside)
    assert abs(np.median(log_errors)) < 0.05 and np.median(np.abs(log_errors)) < 0.15


def test_the_depth_is_the_same_at_any_image_resolution():
    """The same scene at 640 px and at 3840 px with fx scaled to match: the same head."""
    k = 6.0
    large = Intrinsics(CAMERA.fx * k, CAMERA.fy * k, (CAMERA.cx + 0.5) * k - 0.5, (CAMERA.cy + 0.5) * k - 0.5)
    small_kp = face_keypoints((-0.2, 0.1, 3.0), yaw=0.7)
    a = locate_head(small_kp, face_only(small_kp), CAMERA)
    b = locate_head((small_kp + 0.5) * k - 0.5, face_only(small_kp), large, pixel_scale=k)
    np.testing.assert_allclose(a.position_m, b.position_m, rtol=1e-9)
    assert a.depth_log_std == pytest.approx(b.depth_log_std)
    # a 2D stage that ran on the full 3840 px is less noisy in image pixels: a narrower interval
    assert locate_head((small_kp + 0.5) * k - 0.5, face_only(small_kp), large).depth_log_std < a.depth_log_std


def test_too_few_or_coincident_face_keypoints_give_no_head():
    keypoints = face_keypoints((0.0, 0.0, 2.0))
    assert locate_head(keypoints, face_only(keypoints, (True, True, False, False, False)), CAMERA) is None
    same = np.where(np.isnan(keypoints), np.nan, 100.0)
    assert locate_head(same, face_only(same), CAMERA) is None
    assert locate_head(keypoints, face_only(keypoints, (True, True, True, True, False)), CAMERA, min_keypoints=5) is None
    with pytest.raises(ValueError, match="at least 3"):
        locate_head(keypoints, face_only(keypoints), CAMERA, min_keypoints=2)


class _Unused:
    """The lifter of a cascade whose people are never lifted."""

    config = SimpleNamespace(takes_mask=True)

    def lift(self, *args):
        raise AssertionError("a head-only person must not reach the lifter")


def _face_person(centre=(0.1, 0.0, 1.5)) -> Person2D:
    keypoints = face_keypoints(centre, yaw=0.4)
    scores = np.where(np.isnan(keypoints[:, 0]), 0.0, 0.8)
    return Person2D(keypoints, scores, np.array([200.0, 100.0, 400.0, 470.0]), 0.28, COCO17, "det-7")


def test_the_cascade_reports_a_face_only_person_as_skipped_with_a_head():
    cascade = Pose3DEstimator(None, _Unused())
    result = cascade.lift_people([_face_person()], CAMERA, (640, 480))
    assert result.people == [] and dict(result.skipped) == {"fewer than 5 observed joints": 1}
    (skipped,) = result.head_only
    assert skipped.id == "det-7" and skipped.head.depth_range_m[0] < 1.5 < skipped.head.depth_range_m[1]
    entry = result_to_dict(result)["skipped_people"][0]
    assert entry["reason"] == "fewer than 5 observed joints" and entry["head"]["face_keypoints"] == 5
    assert entry["head"]["position_m"][2] == pytest.approx(skipped.head.position_m[2], abs=1e-4)
    off = Pose3DEstimator(None, _Unused(), CascadeConfig(locate_heads=False)).lift_people([_face_person()], CAMERA, (640, 480))
    assert off.head_only == [] and result_to_dict(off)["skipped_people"][0]["head"] is None
    # a head nearer than the plausibility gate is not located either
    near = cascade.lift_people([_face_person((0.0, 0.0, 0.15))], CAMERA, (640, 480))
    assert near.head_only == [] and near.skipped_people[0].head is None


def test_no_head_where_the_input_gates_refuse_the_camera_or_the_keypoints_rays():
    """A head-only position passes the input gates the lifted people pass: no head from a camera
    beyond max_intrinsics_px or from face keypoints beyond max_ray (it was placed at a plausible
    depth thousands of kilometres to the side)."""
    cascade = Pose3DEstimator(None, _Unused())
    far_centre = Intrinsics(600.0, 600.0, 3e9, 239.5)
    person = _face_person()
    off_view = Person2D(person.keypoints + [5e7, 0.0], person.scores, person.box, person.score, COCO17, person.id)
    for camera, people in ((far_centre, [person]), (CAMERA, [off_view])):
        result = cascade.lift_people(people, camera, (640, 480))
        assert result.head_only == [] and dict(result.skipped) == {"fewer than 5 observed joints": 1}, result
    assert len(cascade.lift_people([person], CAMERA, (640, 480)).head_only) == 1


def test_a_head_only_person_is_a_detection_of_its_own_class_with_its_depth_spread():
    result = Pose3DEstimator(None, _Unused()).lift_people([_face_person()], CAMERA, (640, 480))
    make = lambda type_name, **fields: SimpleNamespace(type=type_name, **fields)  # noqa: E731
    header = make("std_msgs/msg/Header", frame_id="cam")
    (detection,) = detection3d_array(make, result, header).detections
    hypothesis = detection.results[0]
    assert hypothesis.hypothesis.class_id == HEAD_ONLY_CLASS != PERSON_CLASS and detection.id == "det-7"
    head = result.head_only[0].head
    position = hypothesis.pose.pose.position
    np.testing.assert_allclose([position.x, position.y, position.z], head.position_m)
    covariance = np.array(hypothesis.pose.covariance).reshape(6, 6)[:3, :3]
    ray = head.position_m / np.linalg.norm(head.position_m)
    assert np.sqrt(ray @ covariance @ ray) == pytest.approx(head.depth_log_std * np.linalg.norm(head.position_m))
    shifted = RigidTransform(np.eye(3), np.array([1.0, 2.0, 3.0]))
    (moved,) = detection3d_array(make, result, header, shifted).detections
    p = moved.results[0].pose.pose.position
    np.testing.assert_allclose([p.x, p.y, p.z], head.position_m + [1, 2, 3])
