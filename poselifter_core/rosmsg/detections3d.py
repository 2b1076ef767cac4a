"""vision_msgs/Detection3DArray of a cascade result, for generic consumers (navigation, costmaps,
social layers): one Detection3D per person with its id (the track id when tracked, else the input id), an axis-aligned box around the valid
joints, and one hypothesis (class ``person``, the 2D person score) whose pose is the root with a
covariance.

The lifter gives no per-person uncertainty, so the root's position covariance is a documented
model: the error lies mostly along the camera ray (depth), with a standard deviation of
:data:`ROOT_RANGE_REL_STD` of the distance, and :data:`ROOT_CROSS_REL_STD` of it across the ray.
The shipped lifter's mean root error is 4.8 % of the distance on the held-out test split with
synthetic detector noise (docs/model_card.md), almost all of it in depth; 10 % leaves room for what
that evaluation lacks (real 2D errors, joints missing, bodies of another size). Orientation is not
estimated: identity, with variance :data:`UNKNOWN_ORIENTATION_VARIANCE`.

People the cascade could not lift but located by their head (``SkippedPerson.head``,
:mod:`poselifter_core.head_location`) follow the lifted ones as class :data:`HEAD_ONLY_CLASS`:
their pose is the face's centre, its range standard deviation the head estimate's own
(``depth_log_std`` of the distance), and the box a cube of :data:`HEAD_BOX_M` around it. A consumer
that wants only lifted people filters on class ``person``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..cascade import CascadeResult, Person3D, SkippedPerson
from .outputs import MessageFactory
from .rigid import RigidTransform, reframe

PERSON_CLASS = "person"
HEAD_ONLY_CLASS = "person_head_only"
HEAD_BOX_M = 0.25
ROOT_RANGE_REL_STD = 0.10
ROOT_CROSS_REL_STD = 0.01
UNKNOWN_ORIENTATION_VARIANCE = 1e6  # rad^2


def root_covariance(root_optical_m: np.ndarray, rotation: np.ndarray = np.eye(3),
                    range_rel_std: float = ROOT_RANGE_REL_STD) -> np.ndarray:
    """The 6x6 pose covariance (x, y, z, roll, pitch, yaw) of a root at ``root_optical_m`` in the
    camera optical frame, expressed in a frame rotated by ``rotation`` from the optical one, with a
    standard deviation of ``range_rel_std`` of the distance along the ray."""
    distance = float(np.linalg.norm(root_optical_m))
    ray = root_optical_m / distance
    along = np.outer(ray, ray)
    position = distance**2 * (range_rel_std**2 * along + ROOT_CROSS_REL_STD**2 * (np.eye(3) - along))
    covariance = np.diag([0.0, 0.0, 0.0] + [UNKNOWN_ORIENTATION_VARIANCE] * 3)
    covariance[:3, :3] = rotation @ position @ rotation.T
    return covariance


def _pose(make: MessageFactory, xyz: np.ndarray) -> Any:
    return make("geometry_msgs/msg/Pose",
                position=make("geometry_msgs/msg/Point", x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])),
                orientation=make("geometry_msgs/msg/Quaternion", x=0.0, y=0.0, z=0.0, w=1.0))


def _detection(make: MessageFactory, header: Any, identity: str, class_id: str, score: float, position: np.ndarray,
               covariance: np.ndarray, centre: np.ndarray, size: np.ndarray) -> Any:
    hypothesis = make(
        "vision_msgs/msg/ObjectHypothesisWithPose",
        hypothesis=make("vision_msgs/msg/ObjectHypothesis", class_id=class_id, score=float(score)),
        pose=make("geometry_msgs/msg/PoseWithCovariance", pose=_pose(make, position),
                  covariance=[float(v) for v in covariance.ravel()]))
    return make("vision_msgs/msg/Detection3D", header=header, results=[hypothesis], id=identity,
                bbox=make("vision_msgs/msg/BoundingBox3D", center=_pose(make, centre),
                          size=make("geometry_msgs/msg/Vector3", x=float(size[0]), y=float(size[1]),
                                    z=float(size[2]))))


def detection(make: MessageFactory, person: Person3D, optical_root_m: np.ndarray, header: Any,
              rotation: np.ndarray) -> Any:
    joints = person.joints_m[person.valid] if person.valid.any() else person.joints_m
    low, high = joints.min(axis=0), joints.max(axis=0)
    return _detection(make, header, person.track_id or person.id, PERSON_CLASS, person.score, person.root_m,
                      root_covariance(optical_root_m, rotation), (low + high) / 2, high - low)


def head_detection(make: MessageFactory, person: SkippedPerson, header: Any, to_output: RigidTransform | None) -> Any:
    """The Detection3D (class :data:`HEAD_ONLY_CLASS`) of a skipped person with a head position."""
    optical = person.head.position_m
    position = optical if to_output is None else to_output.apply(optical)
    rotation = np.eye(3) if to_output is None else to_output.rotation
    return _detection(make, header, person.id, HEAD_ONLY_CLASS, person.score, position,
                      root_covariance(optical, rotation, person.head.depth_log_std), position, np.full(3, HEAD_BOX_M))


def detection3d_array(make: MessageFactory, optical: CascadeResult, header: Any,
                      to_output: RigidTransform | None = None) -> Any:
    """The Detection3DArray of a result in the camera optical frame, expressed in ``header``'s
    frame: ``to_output`` maps optical coordinates into it (None: it is the optical frame)."""
    moved = optical if to_output is None else reframe(optical, to_output)
    rotation = np.eye(3) if to_output is None else to_output.rotation
    return make("vision_msgs/msg/Detection3DArray", header=header, detections=[
        detection(make, person, source.root_m, header, rotation)
        for person, source in zip(moved.people, optical.people)] + [
        head_detection(make, person, header, to_output) for person in optical.head_only])
