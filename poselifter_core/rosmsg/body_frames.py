"""TF frames of the people, after REP-155 ("Body frames"):

* ``body_<id>`` per person, at the root (the pelvis: the mid point of the hips), parented to the
  image's optical frame (the sensor frame). Axes: ``x`` forward (out of the body), ``z`` toward
  the head, ``y`` to the person's left, from the lifted hips and thorax. When those joints are
  not valid the frame keeps the camera's axes (identity rotation).
* with ``joints``, ``<joint>_<id>`` per valid joint, parented to ``body_<id>``, named as REP-155's
  kinematic model names its links (:data:`JOINT_FRAMES`); they carry the body frame's axes (the
  lifter estimates positions, not joint orientations).

``<id>`` is the person's track id (persistent while the tracker follows them, #14), else its
input id (a detection or keypoints-message id), else its index in the frame; characters outside
``[A-Za-z0-9_]`` become ``_``.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..cascade import CascadeResult, Person3D
from ..skeleton import H36M17
from .outputs import MessageFactory

BODY_PREFIX = "body_"
#: REP-155 link name of each H36M-17 joint other than the root ("neck" has no REP-155 link).
REP155_LINKS = {"RHip": "r_hip", "RKnee": "r_knee", "RFoot": "r_ankle", "LHip": "l_hip", "LKnee": "l_knee",
                "LFoot": "l_ankle", "Spine": "waist", "Thorax": "torso", "Neck/Nose": "neck", "Head": "head",
                "LShoulder": "l_shoulder", "LElbow": "l_elbow", "LWrist": "l_wrist",
                "RShoulder": "r_shoulder", "RElbow": "r_elbow", "RWrist": "r_wrist"}
#: ``(joint index, link name)`` of the joint frames, in joint order.
JOINT_FRAMES = tuple((H36M17.index(joint), link) for joint, link in REP155_LINKS.items())
_ROOT, _THORAX, _LHIP, _RHIP = (H36M17.index(name) for name in ("Hip", "Thorax", "LHip", "RHip"))


def frame_safe_id(person: Person3D, index: int) -> str:
    """The person's track id (persistent over frames), else its input id, else its index; with
    characters outside ``[A-Za-z0-9_]`` as ``_``."""
    person_id = person.track_id or person.id
    return re.sub(r"[^A-Za-z0-9_]", "_", person_id) if person_id else str(index)


def body_frame_id(person: Person3D, index: int) -> str:
    """``body_<id>`` of the ``index``-th person of a frame."""
    return BODY_PREFIX + frame_safe_id(person, index)


def body_rotation(person: Person3D) -> np.ndarray:
    """Columns: the body frame's x (forward), y (left) and z (up) axes in the optical frame."""
    if not person.valid[[_ROOT, _THORAX, _LHIP, _RHIP]].all():
        return np.eye(3)
    up = person.joints_m[_THORAX] - person.joints_m[_ROOT]
    left = person.joints_m[_LHIP] - person.joints_m[_RHIP]
    left = left - up * (left @ up) / max(up @ up, 1e-12)
    norms = np.linalg.norm(up), np.linalg.norm(left)
    if min(norms) < 1e-6:
        return np.eye(3)
    up, left = up / norms[0], left / norms[1]
    return np.stack([np.cross(left, up), left, up], axis=1)


def _quaternion(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a rotation matrix (Shepperd's method, numerically safe for every angle)."""
    m = rotation
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(1.0 + trace)
        q = ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s)
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, (m[k, j] - m[j, k]) / s]
        q[i], q[j], q[k] = 0.25 * s, (m[j, i] + m[i, j]) / s, (m[k, i] + m[i, k]) / s
    return tuple(float(v) for v in q)  # type: ignore[return-value]


def _transform(make: MessageFactory, header: Any, child: str, xyz: np.ndarray, rotation: Any) -> Any:
    return make("geometry_msgs/msg/TransformStamped", header=header, child_frame_id=child,
                transform=make("geometry_msgs/msg/Transform",
                               translation=make("geometry_msgs/msg/Vector3", x=float(xyz[0]), y=float(xyz[1]),
                                                z=float(xyz[2])),
                               rotation=rotation))


def body_transforms(make: MessageFactory, result: CascadeResult, header: Any, joints: bool = False) -> list[Any]:
    """geometry_msgs/TransformStamped of every person's ``body_<id>`` (``header``: the image's
    stamp and optical frame) and, with ``joints``, of their valid joints in the body frame. The
    joint frames of a person share one header and one identity rotation message (publishing
    copies them), which halves the time to build them."""
    transforms = []
    identity = make("geometry_msgs/msg/Quaternion", x=0.0, y=0.0, z=0.0, w=1.0)
    for index, person in enumerate(result.people):
        body, rotation = body_frame_id(person, index), body_rotation(person)
        x, y, z, w = _quaternion(rotation)
        transforms.append(_transform(make, header, body, person.root_m,
                                     make("geometry_msgs/msg/Quaternion", x=x, y=y, z=z, w=w)))
        if joints:
            body_header = make("std_msgs/msg/Header", stamp=header.stamp, frame_id=body)
            suffix = frame_safe_id(person, index)
            local = (person.joints_m - person.root_m) @ rotation  # rows: rotation.T @ (joint - root)
            transforms += [_transform(make, body_header, f"{link}_{suffix}", local[joint], identity)
                           for joint, link in JOINT_FRAMES if person.valid[joint]]
    return transforms
