"""Build Skeleton3DArray and MarkerArray messages from a cascade result.

Messages are made through a :data:`MessageFactory`, ``make("geometry_msgs/msg/Point", x=..)``,
so the node (rclpy classes) and the bag processor (a rosbags typestore) share this code.
Everything is in the image's optical frame (the header's ``frame_id``), in metres (REP-103).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..cascade import CascadeResult, Person3D
from ..skeleton import H36M17
from ..tracking import COASTING, NEW, TRACKED
from ..tracking.colours import person_colour

#: ``make(type_name, **fields) -> message``; ``type_name`` like ``"std_msgs/msg/Header"``.
MessageFactory = Callable[..., Any]

# visualization_msgs/Marker constants (the same in every ROS 2 release).
MARKER_LINE_STRIP = 4
MARKER_LINE_LIST = 5
MARKER_SPHERE_LIST = 7
MARKER_ADD = 0
MARKER_DELETEALL = 3
#: Marker namespaces: one marker per person in each, with the person's index as the id.
JOINTS_NS, BONES_NS, TRAILS_NS = "joints", "bones", "trails"
#: Skeleton3D.track_state of each Person3D.track_state.
TRACK_STATES = {"": 0, NEW: 1, TRACKED: 2, COASTING: 3}
#: Marker opacity of a coasting (predicted, unseen) person.
COASTING_ALPHA = 0.35


def header(make: MessageFactory, stamp_ns: int, frame_id: str) -> Any:
    sec, nanosec = divmod(int(stamp_ns), 10**9)
    return make("std_msgs/msg/Header", stamp=make("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec),
                frame_id=frame_id)


def _point(make: MessageFactory, xyz: np.ndarray) -> Any:
    return make("geometry_msgs/msg/Point", x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))


def skeleton(make: MessageFactory, person: Person3D) -> Any:
    """One poselifter_msgs/Skeleton3D (H36M-17 joints)."""
    keypoints = [make("poselifter_msgs/msg/Keypoint2D", x=float(x), y=float(y), score=float(s))
                 for (x, y), s in zip(person.keypoints_2d, person.scores)]
    return make(
        "poselifter_msgs/msg/Skeleton3D",
        id=person.id, track_id=person.track_id, track_age=int(person.track_age),
        track_state=TRACK_STATES[person.track_state], skeleton=H36M17.name, joint_names=list(H36M17.joint_names),
        joints=[_point(make, j) for j in person.joints_m], joint_valid=[bool(v) for v in person.valid],
        root=_point(make, person.root_m), canonical_root_depth=float(person.canonical_depth),
        metric_depth=bool(person.metric_depth), keypoints_2d=keypoints,
        box=[float(v) for v in person.box], score=float(person.score))


def skeleton_array(make: MessageFactory, result: CascadeResult, msg_header: Any) -> Any:
    """poselifter_msgs/Skeleton3DArray of everyone lifted (empty when nobody was: still published,
    so a consumer can tell "nobody there" from "no data")."""
    return make("poselifter_msgs/msg/Skeleton3DArray", header=msg_header,
                skeletons=[skeleton(make, p) for p in result.people])


def _marker(make: MessageFactory, msg_header: Any, ns: str, marker_id: int, kind: int, action: int,
            points: list, colour: tuple[float, float, float], width_m: float, lifetime_ns: int,
            alpha: float = 1.0) -> Any:
    r, g, b = colour
    sec, nanosec = divmod(lifetime_ns, 10**9)
    return make(
        "visualization_msgs/msg/Marker", header=msg_header, ns=ns, id=marker_id, type=kind, action=action,
        pose=make("geometry_msgs/msg/Pose", position=make("geometry_msgs/msg/Point", x=0.0, y=0.0, z=0.0),
                  orientation=make("geometry_msgs/msg/Quaternion", x=0.0, y=0.0, z=0.0, w=1.0)),
        scale=make("geometry_msgs/msg/Vector3", x=width_m, y=width_m, z=width_m),
        color=make("std_msgs/msg/ColorRGBA", r=float(r), g=float(g), b=float(b), a=float(alpha)),
        lifetime=make("builtin_interfaces/msg/Duration", sec=sec, nanosec=nanosec),
        frame_locked=False, points=points)


def marker_array(make: MessageFactory, result: CascadeResult, msg_header: Any, lifetime_s: float = 0.2,
                 joint_diameter_m: float = 0.05, bone_width_m: float = 0.02, trail_width_m: float = 0.02) -> Any:
    """visualization_msgs/MarkerArray: a DELETEALL, then per person a sphere list of the valid
    joints (namespace ``joints``), a line list of the bones between valid joints (``bones``) and,
    for a tracked person with a trail, a line strip of its recent roots (``trails``).

    Colours follow the track id (stable over time); a coasting person is drawn translucent. The
    DELETEALL clears the previous frame's people (also when fewer people are seen now); the
    ``lifetime`` makes markers vanish if the node stops publishing.
    """
    lifetime_ns = round(lifetime_s * 1e9)
    markers = [_marker(make, msg_header, "", 0, MARKER_SPHERE_LIST, MARKER_DELETEALL, [], (0.0, 0.0, 0.0), 0.0, 0)]
    for index, person in enumerate(result.people):
        colour = person_colour(person.track_id, index)
        alpha = COASTING_ALPHA if person.track_state == COASTING else 1.0
        joints = [_point(make, j) for j, ok in zip(person.joints_m, person.valid) if ok]
        bones = [_point(make, person.joints_m[k]) for a, b in H36M17.bones
                 if person.valid[a] and person.valid[b] for k in (a, b)]
        markers.append(_marker(make, msg_header, JOINTS_NS, index, MARKER_SPHERE_LIST, MARKER_ADD, joints, colour,
                               joint_diameter_m, lifetime_ns, alpha))
        markers.append(_marker(make, msg_header, BONES_NS, index, MARKER_LINE_LIST, MARKER_ADD, bones, colour,
                               bone_width_m, lifetime_ns, alpha))
        if person.root_trail_m is not None and len(person.root_trail_m) > 1:
            markers.append(_marker(make, msg_header, TRAILS_NS, index, MARKER_LINE_STRIP, MARKER_ADD,
                                   [_point(make, p) for p in person.root_trail_m], colour, trail_width_m,
                                   lifetime_ns, alpha))
    return make("visualization_msgs/msg/MarkerArray", markers=markers)
