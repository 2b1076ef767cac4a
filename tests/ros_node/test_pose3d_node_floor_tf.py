"""The node's camera mount from TF (``floor_frame``, ``Pose3DNode._floor_mount``) given a transform.

tf2_ros has no usable wheel on the project's test machine, so the DDS test
(test_pose3d_node_conventions.py) runs only the fallback without a transform. Here the node's own
method runs with a stand-in for the TF lookup that returns what ``TargetFrameLookup.lookup`` would
(a :class:`RigidTransform`, ``p_target = rotation @ p_source + translation``) for a URDF chain
base_footprint -> camera_link -> camera_optical_frame: the lookup's direction (target the floor
frame, source the image's frame, at the image's stamp), the mount that replaces the
``cascade.floor`` parameters, the counters and the fallbacks. Still unverified: tf2_ros itself.
"""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from scipy.spatial.transform import Rotation

from poselifter_core.floor import FloorConfig
from poselifter_core.rosmsg.rigid import RigidTransform
from poselifter_core.rosmsg.sync import Match
from poselifter_core.tracking import Tracker
from poselifter_ros.node_config import NodeConfig
from poselifter_ros.node_stats import NodeStats
from poselifter_ros.pose3d_node import Pose3DNode
from poselifter_ros.tf_io import TargetFrameLookup

FLOOR_FRAME, CAMERA_FRAME, STAMP_NS = "base_footprint", "camera_optical_frame", 1_700_000_000_123_456_789


def camera_pose(pitch_deg: float, roll_deg: float, yaw_deg: float = 30.0, height_m: float = 1.3) -> RigidTransform:
    """base_footprint <- camera_optical_frame: the camera link at rpy (roll, pitch, yaw) and that
    height, then the REP-103 optical joint (rpy -90, 0, -90 degrees), read from a quaternion as the
    node reads a lookup."""
    link = Rotation.from_euler("xyz", [roll_deg, pitch_deg, yaw_deg], degrees=True)
    optical = link * Rotation.from_euler("xyz", [-90.0, 0.0, -90.0], degrees=True)
    return RigidTransform.from_quaternion(tuple(optical.as_quat()), (0.4, -0.2, height_m))


class Lookup:
    """What the node's TargetFrameLookup answers: a transform, or None with ``last_error``."""

    def __init__(self, transform: RigidTransform | None) -> None:
        self.transform, self.calls, self.unavailable = transform, [], ""
        self.last_error = "no transform camera_optical_frame -> base_footprint at the image stamp: extrapolation"

    def lookup(self, target: str, source: str, stamp_ns: int) -> RigidTransform | None:
        self.calls.append((target, source, stamp_ns))
        return self.transform


class Logger:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, **_: object) -> None:
        self.warnings.append(message)


def node(transform: RigidTransform | None, floor_frame: str = FLOOR_FRAME, **floor: float) -> Pose3DNode:
    """A Pose3DNode not started (no rclpy context, no models: ``__init__`` not run) with what
    ``_floor_mount`` reads: its settings, the TF lookup, the counters and a logger."""
    config = NodeConfig()
    stand_in = Pose3DNode.__new__(Pose3DNode)
    stand_in.config = replace(config, floor_frame=floor_frame,
                              cascade=replace(config.cascade, floor=replace(config.cascade.floor, **floor)))
    stand_in._floor_lookup, stand_in.stats, stand_in.logger = Lookup(transform), NodeStats(), Logger()
    stand_in.get_logger = lambda: stand_in.logger
    return stand_in


def mount(stand_in: Pose3DNode) -> FloorConfig | None:
    processor = SimpleNamespace(frame_id=lambda match: CAMERA_FRAME)
    return stand_in._floor_mount(Match(STAMP_NS, {}), processor)


@pytest.mark.parametrize("pitch, roll", [(10.0, 2.0), (35.0, -12.0)])
def test_the_mount_from_tf_replaces_the_parameters_height_pitch_and_roll(pitch, roll):
    stand_in = node(camera_pose(pitch, roll), camera_height_m=2.0, camera_pitch_deg=5.0, angle_error_deg=1.5)
    floor = mount(stand_in)
    assert stand_in._floor_lookup.calls == [(FLOOR_FRAME, CAMERA_FRAME, STAMP_NS)]  # target: the floor frame
    assert (floor.camera_height_m, floor.camera_pitch_deg, floor.camera_roll_deg) == pytest.approx(
        (1.3, pitch, roll), abs=1e-9)
    assert floor.angle_error_deg == 1.5 and floor.enabled  # the rest of cascade.floor applies
    assert stand_in.stats.counts == {"frames_floor_from_tf": 1} and not stand_in.logger.warnings


def test_no_transform_or_a_refused_one_falls_back_to_the_parameters_counted_and_said():
    missing = node(None, camera_height_m=2.0)
    assert mount(missing) is None
    assert missing.stats.counts == {"frames_floor_no_tf": 1}
    assert "extrapolation" in missing.logger.warnings[0] and "the cascade.floor parameters' mount" in missing.logger.warnings[0]
    upside_down = node(camera_pose(10.0, 180.0))
    assert mount(upside_down) is None
    assert upside_down.stats.counts == {"frames_floor_tf_refused": 1}
    assert "camera_roll_deg must be in" in upside_down.logger.warnings[0]
    assert "no floor (cascade.floor.camera_height_m is 0)" in upside_down.logger.warnings[0]
    below = node(camera_pose(10.0, 0.0, height_m=-0.2))
    assert mount(below) is None and below.stats.counts == {"frames_floor_tf_refused": 1}


def test_without_floor_frame_nothing_is_looked_up():
    unset = node(camera_pose(10.0, 2.0), floor_frame="")
    assert mount(unset) is None and unset._floor_lookup.calls == [] and not unset.stats.counts


@pytest.mark.parametrize("change, forgets", [({"camera_height_m": 0.0}, True), ({"camera_pitch_deg": 12.0}, True),
                                             ({"camera_pitch_deg": 10.2}, False), ({"gate_sigmas": 2.0}, False)])
def test_a_live_mount_change_makes_the_tracks_forget_their_floor_ratios(change, forgets):
    """cascade.floor changed live (a parameter set): a mount moved beyond its stated error, or the
    floor switched off, makes the tracker forget the ratios learned under the old mount (the
    tracker alone cannot tell a floor switched off from frames whose TF lags); a change within the
    mount's error or of the error model keeps them."""
    stand_in = node(None, floor_frame="", camera_height_m=1.5, camera_pitch_deg=10.0)
    tracker = Tracker()
    stand_in.processor = SimpleNamespace(tracker=tracker, reconfigure=lambda config: None,
                                         cascade=SimpleNamespace(reconfigure=lambda config: None))
    stand_in.outputs = None
    config = stand_in.config
    stand_in._apply(replace(config, cascade=replace(config.cascade, floor=replace(config.cascade.floor, **change))))
    assert tracker.floor_size_resets == int(forgets)
    assert stand_in.config.cascade.floor.camera_pitch_deg == change.get("camera_pitch_deg", 10.0)


def test_a_non_finite_transform_from_tf2_is_no_transform_with_its_reason():
    """tf2 stores what it is sent; a transform with an infinite translation must reach the node as
    no transform (the frame falls back to the parameters, counted) rather than raise out of the
    lookup and lose the frame. The stand-in is for tf2_ros's Buffer (no wheel here), answering as
    ``Buffer.lookup_transform`` does: a TransformStamped-shaped object."""
    vector = SimpleNamespace(x=0.0, y=0.0, z=float("inf"))
    stamped = SimpleNamespace(transform=SimpleNamespace(translation=vector,
                                                        rotation=SimpleNamespace(x=0.0, y=0.0, z=0.0, w=1.0)))
    lookup = TargetFrameLookup.__new__(TargetFrameLookup)
    lookup._buffer = SimpleNamespace(lookup_transform=lambda *args, **kwargs: stamped)
    lookup.last_error = lookup.unavailable = ""
    assert lookup.lookup(FLOOR_FRAME, CAMERA_FRAME, STAMP_NS) is None
    assert "not a usable transform" in lookup.last_error and CAMERA_FRAME in lookup.last_error
    stand_in = node(None, camera_height_m=2.0)
    stand_in._floor_lookup = lookup
    assert mount(stand_in) is None
    assert stand_in.stats.counts == {"frames_floor_no_tf": 1}
    assert "not a usable transform" in stand_in.logger.warnings[0]
