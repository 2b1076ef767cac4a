"""The camera mount of one frame from TF (``floor_frame``), for the node and ``poselifter bag`` alike.

Both look up the transform from the image's frame to ``floor_frame`` at the image's stamp (the
node in tf2_ros's buffer, ``bag`` in the bag's own /tf and /tf_static: :mod:`.tf_buffer`), turn it
into a mount (:func:`~poselifter_core.floor.mount_from_camera_pose`) that replaces the
``cascade.floor`` height, pitch and roll for that frame, and count the frame under one of
:data:`FLOOR_TF_COUNTERS`; a frame without a usable transform falls back to the ``cascade.floor``
settings.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..floor import FloorConfig, mount_from_camera_pose
from ..settings import setting
from .rigid import RigidTransform

#: Per frame with ``floor_frame`` set: the mount came from TF; no transform (the frame unknown to
#: TF, no path, extrapolation, no tf2_ros, an image without frame_id); a transform whose mount the
#: floor cannot take (the camera below the floor frame, upside down). The node's /diagnostics keys.
FLOOR_FROM_TF, FLOOR_NO_TF, FLOOR_TF_REFUSED = "frames_floor_from_tf", "frames_floor_no_tf", "frames_floor_tf_refused"
FLOOR_TF_COUNTERS = (FLOOR_FROM_TF, FLOOR_NO_TF, FLOOR_TF_REFUSED)


def floor_frame_setting() -> Any:
    """The ``floor_frame`` setting (a dataclass field) of the node's and ``bag``'s configs: one
    description and default for both."""
    return setting("", "TF frame of the floor (z up, its xy-plane on the floor: REP-105 base_footprint): the camera's "
                   "mount is looked up per image, from the image's frame_id at its stamp (the node: in its tf2 buffer; "
                   "poselifter bag: in the bag's /tf and /tf_static), and overrides "
                   "cascade.floor.camera_height_m, camera_pitch_deg and camera_roll_deg (the rest of cascade.floor "
                   "applies); without that transform (or, in the node, without tf2_ros) the frame falls back to those "
                   "parameters (height 0: no floor), counted as frames_floor_no_tf; '': the parameters alone")


class TransformLookup(Protocol):
    """tf2_ros's buffer in the node (``TargetFrameLookup``), the bag's :class:`~.tf_buffer.TfBuffer`."""

    last_error: str

    def lookup(self, target: str, source: str, stamp_ns: int) -> RigidTransform | None: ...


@dataclass(frozen=True)
class FloorFromTf:
    """One frame's outcome: its counter (one of :data:`FLOOR_TF_COUNTERS`), its mount (None: the
    ``cascade.floor`` settings') and, without a mount from TF, why."""

    counter: str
    floor: FloorConfig | None = None
    problem: str = ""


def floor_from_tf(lookup: TransformLookup, floor_frame: str, camera_frame: str, stamp_ns: int,
                  floor: FloorConfig) -> FloorFromTf:
    """The mount of the camera ``camera_frame`` at ``stamp_ns`` from the transform to ``floor_frame``,
    as ``floor`` with that height, pitch and roll."""
    if not camera_frame:
        return FloorFromTf(FLOOR_NO_TF, problem="the image has no frame_id")
    transform = lookup.lookup(floor_frame, camera_frame, stamp_ns)
    if transform is None:
        return FloorFromTf(FLOOR_NO_TF, problem=lookup.last_error)
    try:
        height, pitch, roll = mount_from_camera_pose(transform.rotation, transform.translation)
    except ValueError as error:
        return FloorFromTf(FLOOR_TF_REFUSED, problem=f"the camera {camera_frame!r}: {error}")
    return FloorFromTf(FLOOR_FROM_TF, replace(floor, camera_height_m=height, camera_pitch_deg=pitch,
                                              camera_roll_deg=roll))


def floor_fallback(floor: FloorConfig) -> str:
    """What a frame without its floor_frame mount uses: the cascade.floor settings' mount, or none
    when their height is 0."""
    if not floor.enabled:
        return "no floor (cascade.floor.camera_height_m is 0)"
    return (f"the cascade.floor parameters' mount (height {floor.camera_height_m:g} m, pitch "
            f"{floor.camera_pitch_deg:g} deg, roll {floor.camera_roll_deg:g} deg)")
