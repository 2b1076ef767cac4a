"""One synchronized set of input messages -> one cascade result: the logic the node and the bag
processor share.

Input modes (``FrameConfig.mode``):

* ``bottom_up``: ``image`` (+ ``camera_info``); the 2D stage finds the people itself;
* ``top_down``: ``image`` + ``detections`` (vision_msgs/Detection2DArray) (+ ``camera_info``);
  the 2D stage runs on each person box;
* ``keypoints``: ``keypoints`` (poselifter_msgs/Keypoints2DArray from an external 2D detector) +
  ``camera_info``; only the lifter runs.

``camera_info`` is latched (its latest valid message is used, whatever its stamp), parsed and checked
once, on arrival, by :meth:`FrameProcessor.add`, so an invalid one never replaces a good one and
every frame reuses the parsed :class:`~poselifter_core.camera.Intrinsics`. Its width and
height are compared with each image's: K is rescaled for the same aspect ratio (binning, a
resized stream), and the frame skipped otherwise (:func:`~.inputs.intrinsics_for_image`).
Without any valid CameraInfo, a frame is skipped while ``require_camera_info`` is set;
otherwise the cascade assumes a camera with its ``default_hfov_deg`` field of view and every
skeleton says ``metric_depth = False``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..camera import Intrinsics
from ..distortion import Distortion
from ..floor import FloorConfig
from ..plausibility import REASON_CAP
from ..settings import setting
from ..tracking import Tracker, TrackingConfig
from .inputs import (
    NS_PER_S,
    boxes_from_detections,
    distortion_from_camera_info,
    image_from_message,
    intrinsics_for_image,
    intrinsics_from_camera_info,
    people_from_keypoints,
    stamp_ns,
)
from .sync import DEFAULT_QUEUE_SIZE, DEFAULT_SLOP_S, Match, SyncMonitor, TimestampSynchronizer

if TYPE_CHECKING:  # the cascade pulls in torch; the launch file imports MODES from here
    from ..cascade import CascadeResult, Pose3DEstimator

MODES = ("bottom_up", "top_down", "keypoints")


@dataclass
class FrameConfig:
    mode: str = setting("bottom_up", "Input mode: bottom_up (image; the 2D stage finds people), top_down (image + "
                        "vision_msgs/Detection2DArray on 'detections'), keypoints (poselifter_msgs/Keypoints2DArray "
                        "on 'keypoints' from your own 2D detector; lifter only)", choices=MODES, live=False)
    use_projection: bool = setting(False, "Read focal length and principal point from CameraInfo P (rectified images, "
                                   "e.g. image_rect) instead of K (raw images)", live=False)
    undistort: bool = setting(True, "Undistort the 2D keypoints with CameraInfo K and D (distortion_model plumb_bob, "
                              "rational_polynomial or equidistant) before lifting; never with use_projection")
    require_camera_info: bool = setting(True, "Skip frames until a valid CameraInfo arrives; false: assume "
                                        "cascade.default_hfov_deg and publish with metric_depth = false")
    detection_class_ids: tuple[str, ...] = setting((), "top_down: class ids counted as people (e.g. ['person'] or "
                                                   "['0']); empty (or ['']) accepts every detection")
    min_detection_score: float = setting(0.0, "top_down: skip detections scored below this", low=0.0, high=1.0)
    sync_slop_s: float = setting(DEFAULT_SLOP_S, "Largest stamp difference paired by the synchronizer [s]", low=0.0, high=1.0,
                                 live=False)
    sync_queue_size: int = setting(DEFAULT_QUEUE_SIZE, "Messages held per input stream while waiting for a match", low=1, high=100,
                                   live=False)
    max_future_stamp_s: float = setting(5.0, "Reject inputs stamped further than this ahead of the receiver's clock "
                                        "(a wrong stamp would otherwise block every later frame) [s]; 0: off",
                                        low=0.0, high=1e6, live=False)
    max_stamp_jump_back_s: float = setting(1.0, "An image stamped this much before the last processed frame is a "
                                           "clock jump (bag loop, sim time): the synchronizer resets and logs it "
                                           "[s]; 0: off", low=0.0, high=1e6, live=False)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)  # track ids and temporal filtering

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"frame.mode must be one of {list(MODES)}, got {self.mode!r}")
        if not isinstance(self.detection_class_ids, (list, tuple)):  # a bare 'person' is not its letters
            raise ValueError("frame.detection_class_ids must be a list of class ids, e.g. [person], got "
                             f"{self.detection_class_ids!r}")
        self.detection_class_ids = tuple(str(c) for c in self.detection_class_ids if str(c))


@dataclass
class Frame:
    """What one synchronized set produced: a result to publish, or the reason it was skipped."""

    stamp_ns: int
    frame_id: str
    result: CascadeResult | None = None
    image: np.ndarray | None = None  # the decoded RGB image (image modes), for a debug view
    skipped: Counter = field(default_factory=Counter)  # people dropped, by reason
    error_kind: str = ""  # why the whole frame was skipped, a short fixed label ("" when processed)
    error: str = ""  # the details


class FrameProcessor:
    """Pairs input messages and turns the complete sets into cascade results (see the module doc)."""

    def __init__(self, cascade: Pose3DEstimator, config: FrameConfig = FrameConfig()) -> None:
        self.cascade = cascade
        self.config = config
        self.pivot = "keypoints" if config.mode == "keypoints" else "image"
        required = (self.pivot,) + (("detections",) if config.mode == "top_down" else ())
        self.synchronizer = TimestampSynchronizer(required, optional=("camera_info",), latched=("camera_info",),
                                                  slop_s=config.sync_slop_s, queue_size=config.sync_queue_size,
                                                  max_future_s=config.max_future_stamp_s,
                                                  max_jump_back_s=config.max_stamp_jump_back_s)
        self.sync_monitor = SyncMonitor(self.synchronizer)
        self.tracker = Tracker(config.tracking)
        # the latched CameraInfo, the undistort setting it was parsed with, and what check_camera_info made of it
        self._camera: tuple[Any, bool, tuple[Intrinsics, Distortion | None]] | None = None

    def reconfigure(self, config: FrameConfig) -> None:
        """Take new live settings (a ROS parameter change); the synchronizer, the mode and the
        tracks stay. The tracker reads its association settings every frame."""
        self.config = config
        self.tracker.config = config.tracking

    def add(self, stream: str, message: Any, now_ns: int | None = None) -> list[Match]:
        """Offer one message of ``stream`` (``image``, ``camera_info``, ``detections`` or
        ``keypoints``) received at ``now_ns`` (the node's clock, a bag's log time; None: no
        future-stamp guard); returns the synchronized set it completes, if any. A CameraInfo that
        :meth:`check_camera_info` rejects raises ValueError and is not stored."""
        if stream == "camera_info":
            self._camera = (message, self.config.undistort, self.check_camera_info(message))
        return self.synchronizer.add(stream, stamp_ns(message.header), message, now_ns)

    def sync_stats(self) -> dict[str, dict[str, int]]:
        """The synchronizer's per-stream counters, and its time guards' under ``clock``."""
        return {**self.synchronizer.stats, "clock": self.synchronizer.time_events}

    def has_camera_info(self) -> bool:
        """Whether a valid CameraInfo has arrived (it is then held for every later frame)."""
        return self.synchronizer.pending()["camera_info"] > 0

    def check_camera_info(self, info: Any) -> tuple[Intrinsics, Distortion | None]:
        """The intrinsics of a CameraInfo and the lens distortion to undo (None for rectified
        images, ``undistort`` off, or a lens without distortion), or ValueError saying why it
        cannot be used."""
        intrinsics = intrinsics_from_camera_info(info, self.config.use_projection)
        undistort = self.config.undistort and not self.config.use_projection
        return intrinsics, distortion_from_camera_info(info) if undistort else None

    def camera(self, info: Any) -> tuple[Intrinsics, Distortion | None]:
        """:meth:`check_camera_info` of a CameraInfo of a match: what :meth:`add` parsed for the
        latched message, else (a match made elsewhere, or ``undistort`` changed since: a live
        parameter) parsed now."""
        if self._camera is not None and self._camera[0] is info and self._camera[1] == self.config.undistort:
            return self._camera[2]
        return self.check_camera_info(info)

    def frame_id(self, match: Match) -> str:
        """The camera's frame of a set: its image's (or keypoints') ``frame_id``, else its CameraInfo's."""
        info = match.messages.get("camera_info")
        return str(match.messages[self.pivot].header.frame_id) or (str(info.header.frame_id) if info else "")

    def process(self, match: Match, floor: FloorConfig | None = None) -> Frame:
        """Run the cascade and the tracker on one synchronized set (in stamp order: the tracker
        follows people over the processed frames). Never raises for bad message content: the
        frame comes back with ``error_kind`` and ``error`` set (and ``result`` None) instead.
        ``floor``: this frame's camera mount in place of the cascade's ``floor`` setting (the node's
        ``floor_frame``: from TF at the frame's stamp)."""
        pivot = match.messages[self.pivot]
        info = match.messages.get("camera_info")
        frame = Frame(match.stamp_ns, self.frame_id(match))
        stage = "no valid camera info"
        try:
            intrinsics, distortion = self.camera(info) if info is not None else (None, None)
            if intrinsics is None and self.config.require_camera_info:
                raise ValueError("no valid CameraInfo yet (set require_camera_info false to assume a field of view)")
            if self.config.mode == "keypoints":
                stage = "bad keypoints"
                people, frame.skipped = people_from_keypoints(pivot)
                people, capped = self.cascade.cap(people)
                if capped:
                    frame.skipped[REASON_CAP] += capped
                size = (int(info.width), int(info.height)) if info is not None else (0, 0)
                if intrinsics is None and min(size) <= 0:
                    raise ValueError("keypoints mode without CameraInfo cannot assume a field of view")
                frame.result = self.cascade.lift_people(people, intrinsics, size, distortion, floor=floor)
            else:
                stage = "bad image"
                frame.image = image_from_message(pivot)
                height, width = frame.image.shape[:2]
                if intrinsics is not None:
                    stage = "camera info size differs from the image"
                    intrinsics = intrinsics_for_image(intrinsics, info, (width, height))
                boxes = ids = None
                if self.config.mode == "top_down":
                    stage = "bad detections"
                    found = boxes_from_detections(match.messages["detections"], (width, height),
                                                  self.config.detection_class_ids, self.config.min_detection_score)
                    boxes, ids, frame.skipped = found.boxes, found.ids, found.skipped
                stage = "cascade rejected the input"
                frame.result = self.cascade.process(frame.image, intrinsics, boxes, ids, distortion, floor)
        except ValueError as error:
            frame.error_kind, frame.error = stage, str(error)
            frame.result = None
            return frame
        frame.skipped.update(frame.result.skipped)
        self.tracker.update(frame.result, frame.stamp_ns / NS_PER_S)
        return frame
