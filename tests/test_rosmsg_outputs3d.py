"""The rclpy-free builders of the standard outputs: TF body frames (REP-155), Detection3DArray
with its covariance, and results moved into a target frame; on plain namespaces as messages."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeResult, Person3D
from poselifter_core.rosmsg.body_frames import JOINT_FRAMES, body_rotation, body_transforms
from poselifter_core.rosmsg.detections3d import ROOT_CROSS_REL_STD, ROOT_RANGE_REL_STD, detection3d_array
from poselifter_core.rosmsg.rigid import RigidTransform, reframe
from poselifter_core.skeleton import H36M17


def make(type_name: str, **fields):
    return SimpleNamespace(type=type_name, **fields)


def header(frame_id: str = "cam_optical"):
    return make("std_msgs/msg/Header", stamp=make("builtin_interfaces/msg/Time", sec=7, nanosec=5), frame_id=frame_id)


def standing_person(root=(0.5, 0.2, 4.0), person_id: str = "p-1", facing_camera: bool = True) -> Person3D:
    """A person upright in the optical frame (y down): head at -y, left hip at +x when facing the camera."""
    offsets = {"Hip": (0, 0, 0), "RHip": (-0.1, 0, 0), "LHip": (0.1, 0, 0), "RKnee": (-0.1, 0.45, 0),
               "LKnee": (0.1, 0.45, 0), "RFoot": (-0.1, 0.9, 0), "LFoot": (0.1, 0.9, 0), "Spine": (0, -0.25, 0),
               "Thorax": (0, -0.5, 0), "Neck/Nose": (0, -0.6, 0), "Head": (0, -0.75, 0),
               "LShoulder": (0.2, -0.5, 0), "LElbow": (0.25, -0.25, 0), "LWrist": (0.25, 0, 0),
               "RShoulder": (-0.2, -0.5, 0), "RElbow": (-0.25, -0.25, 0), "RWrist": (-0.25, 0, 0)}
    relative = np.array([offsets[name] for name in H36M17.joint_names], dtype=float)
    if not facing_camera:
        relative[:, 0] *= -1
    joints = relative + root
    return Person3D(np.zeros((17, 2)), np.ones(17), np.ones(17, bool), np.zeros(4), 0.9, joints, joints[0].copy(),
                    relative, 0.004, True, person_id)


def result(*people: Person3D) -> CascadeResult:
    return CascadeResult(list(people), Intrinsics(1000, 1000, 320, 240), False)


def _matrix(q) -> np.ndarray:
    return RigidTransform.from_quaternion((q.x, q.y, q.z, q.w), (0, 0, 0)).rotation


def test_body_frames_follow_rep155():
    person = standing_person()
    body, *joints = body_transforms(make, result(person), header(), joints=True)
    assert (body.header.frame_id, body.child_frame_id) == ("cam_optical", "body_p_1")  # parent: the sensor frame
    assert body.header.stamp.sec == 7 and body.header.stamp.nanosec == 5
    t = body.transform.translation
    assert [t.x, t.y, t.z] == pytest.approx(person.root_m)  # origin: mid point of the hips
    axes = _matrix(body.transform.rotation)
    np.testing.assert_allclose(axes[:, 2], [0, -1, 0], atol=1e-9)  # z toward the head (optical -y)
    np.testing.assert_allclose(axes[:, 0], [0, 0, -1], atol=1e-9)  # x out of the body: facing the camera
    np.testing.assert_allclose(axes[:, 1], [1, 0, 0], atol=1e-9)  # y to the person's left
    # joint frames: <link>_<id>, in the body frame; composing the two gives the joint position
    assert [j.child_frame_id for j in joints] == [f"{link}_p_1" for _, link in JOINT_FRAMES]
    assert {j.header.frame_id for j in joints} == {"body_p_1"}
    for (index, _), frame in zip(JOINT_FRAMES, joints):
        local = np.array([frame.transform.translation.x, frame.transform.translation.y, frame.transform.translation.z])
        np.testing.assert_allclose(axes @ local + person.root_m, person.joints_m[index], atol=1e-9)
    turned = body_rotation(standing_person(facing_camera=False))
    np.testing.assert_allclose(turned[:, 0], [0, 0, 1], atol=1e-9)  # back to the camera: x points away


def test_body_frames_without_hips_keep_the_camera_axes_and_skip_invalid_joints():
    person = standing_person(person_id="")
    person.valid[H36M17.index("LHip")] = False
    body, *joints = body_transforms(make, result(standing_person(person_id="a"), person), header(), joints=True)[17:]
    assert body.child_frame_id == "body_1"  # no id: the index in the frame
    np.testing.assert_allclose(_matrix(body.transform.rotation), np.eye(3))
    assert "l_hip_1" not in {j.child_frame_id for j in joints} and len(joints) == 15


def test_detections_box_the_joints_and_carry_the_root_with_a_ray_covariance():
    person = standing_person()
    (detection,) = detection3d_array(make, result(person), header()).detections
    assert detection.id == "p-1" and detection.header.frame_id == "cam_optical"
    (hypothesis,) = detection.results
    assert hypothesis.hypothesis.class_id == "person" and hypothesis.hypothesis.score == pytest.approx(0.9)
    pose = hypothesis.pose.pose.position
    assert [pose.x, pose.y, pose.z] == pytest.approx(person.root_m)
    box = detection.bbox
    centre = np.array([box.center.position.x, box.center.position.y, box.center.position.z])
    half = np.array([box.size.x, box.size.y, box.size.z]) / 2
    assert np.all(np.abs(person.joints_m - centre) <= half + 1e-9)
    assert half[1] * 2 == pytest.approx(0.9 + 0.75)  # feet to head
    covariance = np.array(hypothesis.pose.covariance).reshape(6, 6)
    distance = np.linalg.norm(person.root_m)
    ray = person.root_m / distance
    assert ray @ covariance[:3, :3] @ ray == pytest.approx((ROOT_RANGE_REL_STD * distance) ** 2)
    across = np.cross(ray, [1.0, 0.0, 0.0])
    across /= np.linalg.norm(across)
    assert across @ covariance[:3, :3] @ across == pytest.approx((ROOT_CROSS_REL_STD * distance) ** 2)
    assert np.allclose(covariance, covariance.T) and np.all(np.linalg.eigvalsh(covariance) > 0)


def test_a_target_frame_moves_joints_boxes_and_covariance_together():
    # base_link from the optical frame: optical z (forward) -> base x, optical x (right) -> base -y, y (down) -> -z
    optical_to_base = RigidTransform.from_quaternion((-0.5, 0.5, -0.5, 0.5), (0.1, 0.0, 1.2))
    np.testing.assert_allclose(optical_to_base.rotation, [[0, 0, 1], [-1, 0, 0], [0, -1, 0]], atol=1e-12)
    person = standing_person()
    moved = reframe(result(person), optical_to_base).people[0]
    np.testing.assert_allclose(moved.root_m, [4.0 + 0.1, -0.5, -0.2 + 1.2])
    np.testing.assert_allclose(moved.joints_m - moved.root_m, moved.relative_m)
    assert person.root_m == pytest.approx([0.5, 0.2, 4.0])  # the optical result is untouched
    (detection,) = detection3d_array(make, result(person), header("base_link"), optical_to_base).detections
    covariance = np.array(detection.results[0].pose.covariance).reshape(6, 6)[:3, :3]
    ray = optical_to_base.rotation @ (person.root_m / np.linalg.norm(person.root_m))
    assert ray @ covariance @ ray == pytest.approx((ROOT_RANGE_REL_STD * np.linalg.norm(person.root_m)) ** 2)
    with pytest.raises(ValueError, match="not a usable transform"):
        RigidTransform.from_quaternion((0, 0, 0, 0), (0, 0, 0))


def test_track_ids_name_the_frames_and_detections():
    person = standing_person(person_id="det-7")
    person.track_id = "t3"
    (body,) = body_transforms(make, result(person), header())
    (detection,) = detection3d_array(make, result(person), header()).detections
    assert body.child_frame_id == "body_t3" and detection.id == "t3"
