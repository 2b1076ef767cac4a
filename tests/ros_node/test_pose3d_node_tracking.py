"""pose3d_node over real DDS: one person over consecutive frames keeps one track id, and the
markers are drawn in that track's colour with a root trail."""
from __future__ import annotations

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from poselifter_msgs.msg import Keypoints2DArray, Skeleton3D, Skeleton3DArray
from sensor_msgs.msg import CameraInfo
from visualization_msgs.msg import MarkerArray

from poselifter_core import shipped
from poselifter_core.camera import project
from poselifter_core.tracking.colours import track_colour

from .ros_diagnostics import counted
from .ros_inputs import camera_info, keypoints

SKELETONS, MARKERS = "/pose3d/skeletons", "/pose3d/markers"
K_TEST = (1000.0, 1000.0, 320.0, 240.0)
FRAMES = 6
PERIOD_NS = 100_000_000  # 10 fps stamps
REPLY_TIMEOUT_S = 30.0


def test_one_person_keeps_one_track_id_and_its_marker_colour(probe, start_node):
    pose_m = shipped.check_set().joints_3d[0].astype(np.float64) / 1000.0
    probe.record(Skeleton3DArray, SKELETONS)
    probe.record(MarkerArray, MARKERS)
    start_node({"frame.mode": "keypoints", "backend": "onnxruntime-cpu"})
    probe.repeat(probe.node.create_publisher(CameraInfo, "/camera_info", 10), camera_info(*K_TEST, 640, 480))
    publisher = probe.node.create_publisher(Keypoints2DArray, "/keypoints", 10)
    stamp = 1_700_000_000_000_000_000
    for frame in range(FRAMES):
        walked = pose_m + [0.05 * frame, 0.0, 0.0]  # 0.5 m/s to the right

        def message() -> Keypoints2DArray:
            nonlocal stamp
            stamp += PERIOD_NS
            msg = keypoints(project(walked[None] * 1000.0, np.array(K_TEST)), stamp)
            msg.people[0].id = ""  # no input id: the node's tracker names the person
            return msg

        probe.publish_until(publisher, message, lambda: len(probe.messages(SKELETONS)) > frame, REPLY_TIMEOUT_S,
                            f"skeletons of frame {frame}")
    replies = probe.messages(SKELETONS)
    people = [reply.skeletons for reply in replies]
    assert all(len(p) == 1 for p in people)
    tracks = [(p[0].track_id, p[0].track_age, p[0].track_state) for p in people]
    assert {track_id for track_id, _, _ in tracks} == {"t1"}, tracks
    ages = [age for _, age, _ in tracks]
    assert ages == sorted(ages) and len(set(ages)) == len(ages)  # one per processed frame
    assert tracks[0][2] == Skeleton3D.TRACK_NEW and all(s == Skeleton3D.TRACK_TRACKED for _, _, s in tracks[1:])

    probe.wait_for(lambda: len(probe.messages(MARKERS)) >= len(replies), 5.0, "markers")
    markers = probe.messages(MARKERS)[-1].markers[1:]
    assert [m.ns for m in markers] == ["joints", "bones", "trails"]
    for marker in markers:
        assert (marker.color.r, marker.color.g, marker.color.b) == pytest.approx(track_colour("t1"), abs=1e-6)
    trail = np.array([[p.x, p.y, p.z] for p in markers[2].points])
    assert len(trail) == len(replies) and np.all(np.diff(trail[:, 0]) > 0)  # the root moving right


def test_a_coasting_person_is_not_published_nearer_than_the_output_gates_allow(probe, start_node):
    """The node publishes the tracker's output only, and that passes the output gates: a person
    walking at the camera who disappears is coasted towards it (emit_coasting, a long gap) until
    the prediction is nearer than cascade.plausibility.min_depth_m; from then on nothing of that
    track is published, and /diagnostics counts people_tracking_coasting_withheld."""
    k = (300.0, 300.0, 320.0, 240.0)  # wide: the body stays in a 640 x 480 image at 1.3 m
    pose_m = shipped.check_set().joints_3d[0].astype(np.float64) / 1000.0
    pose_m = pose_m - pose_m[0]
    probe.record(Skeleton3DArray, SKELETONS)
    probe.record(DiagnosticArray, "/diagnostics")
    start_node({"frame.mode": "keypoints", "backend": "onnxruntime-cpu", "diagnostics_period_s": 0.5,
                "frame.tracking.tracker.emit_coasting": True, "frame.tracking.tracker.max_gap_s": 3.0})
    probe.repeat(probe.node.create_publisher(CameraInfo, "/camera_info", 10), camera_info(*k, 640, 480))
    publisher = probe.node.create_publisher(Keypoints2DArray, "/keypoints", 10)
    stamp = 1_700_000_000_000_000_000
    walk = [np.array([0.0, 0.3, 4.0 - 0.3 * frame]) for frame in range(10)]  # 3 m/s towards the camera
    for frame in range(40):
        seen = frame < len(walk)

        def message() -> Keypoints2DArray:
            nonlocal stamp
            stamp += PERIOD_NS
            people = project((walk[frame] + pose_m)[None] * 1000.0, np.array(k)) if seen else np.zeros((0, 17, 2))
            msg = keypoints(people, stamp)
            for person in msg.people:
                person.id = ""
            return msg

        probe.publish_until(publisher, message, lambda: len(probe.messages(SKELETONS)) > frame, REPLY_TIMEOUT_S,
                            f"skeletons of frame {frame}")
    replies = probe.messages(SKELETONS)
    published = [s for reply in replies for s in reply.skeletons]
    assert Skeleton3D.TRACK_COASTING in {s.track_state for s in published} and not replies[-1].skeletons
    assert all(s.root.z >= 0.2 and min(j.z for j in s.joints) > 0 for s in published)
    probe.wait_for(lambda: counted(probe, "people_tracking_coasting_withheld") > 0, 5.0,
                   "people_tracking_coasting_withheld in /diagnostics")
