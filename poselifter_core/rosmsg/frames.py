"""One synchronized set of input messages -> one cascade result: the logic the node and the bag
processor share.

Input modes (``FrameConfig.mode``):

* ``bottom_up``: ``image`` (+ ``camera_info``); the 2D stage finds the people itself;
* ``top_down``: ``image`` + ``detections`` (vision_msgs/Detection2DArray) (+ ``camera_info``);
  the 2D stage runs on each person box;
* ``keypoints``: ``keypoints`` (poselifter_msgs/Keypoints2DArray from an external 2D detector) +
  ``camera_info``; only the lifter runs.

``camera_info`` is latched (its latest valid message is used, whatever its stamp) and checked on
arrival by :meth:`FrameProcessor.add`, so an invalid one never replaces a good one. Without any valid CameraInfo, a frame is skipped while ``require_camera_info`` is set;
otherwise the cascade assumes a camera with its ``default_hfov_deg`` field of view and every
skeleton says ``metric_depth = False``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..camera import Intrinsics
from ..cascade import CascadeResult, Pose3DEstimator
from ..sync import Match, TimestampSynchronizer
from .inputs import (boxes_from_detections, image_from_message, intrinsics_from_camera_info, people_from_keypoints,
                     stamp_ns)

MODES = ("bottom_up", "top_down", "keypoints")


@dataclass
class FrameConfig:
    mode: str = "bottom_up"
    use_projection: bool = False  # read CameraInfo P (rectified images) instead of K
    require_camera_info: bool = True  # False: assume the cascade's default FOV until one arrives
    detection_class_ids: tuple[str, ...] = ()  # empty: every detection is a person
    min_detection_score: float = 0.0
    sync_slop_s: float = 0.02
    sync_queue_size: int = 5

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        self.detection_class_ids = tuple(str(c) for c in self.detection_class_ids)


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
                                                  slop_s=config.sync_slop_s, queue_size=config.sync_queue_size)

    def add(self, stream: str, message: Any) -> list[Match]:
        """Offer one message of ``stream`` (``image``, ``camera_info``, ``detections`` or
        ``keypoints``); returns the synchronized set it completes, if any. A CameraInfo that
        :meth:`check_camera_info` rejects raises ValueError and is not stored."""
        if stream == "camera_info":
            self.check_camera_info(message)
        return self.synchronizer.add(stream, stamp_ns(message.header), message)

    def has_camera_info(self) -> bool:
        """Whether a valid CameraInfo has arrived (it is then held for every later frame)."""
        return self.synchronizer.pending()["camera_info"] > 0

    def check_camera_info(self, info: Any) -> Intrinsics:
        """The intrinsics of a CameraInfo, or ValueError saying why it cannot be used."""
        return intrinsics_from_camera_info(info, self.config.use_projection)

    def process(self, match: Match) -> Frame:
        """Run the cascade on one synchronized set. Never raises for bad message content: the
        frame comes back with ``error_kind`` and ``error`` set (and ``result`` None) instead."""
        pivot = match.messages[self.pivot]
        info = match.messages.get("camera_info")
        frame = Frame(match.stamp_ns, str(pivot.header.frame_id) or (str(info.header.frame_id) if info else ""))
        stage = "no valid camera info"
        try:
            intrinsics = self.check_camera_info(info) if info is not None else None
            if intrinsics is None and self.config.require_camera_info:
                raise ValueError("no valid CameraInfo yet (set require_camera_info false to assume a field of view)")
            if self.config.mode == "keypoints":
                stage = "bad keypoints"
                people, frame.skipped = people_from_keypoints(pivot)
                size = (int(info.width), int(info.height)) if info is not None else (0, 0)
                if intrinsics is None and min(size) <= 0:
                    raise ValueError("keypoints mode without CameraInfo cannot assume a field of view")
                frame.result = self.cascade.lift_people(people, intrinsics, size)
            else:
                stage = "bad image"
                frame.image = image_from_message(pivot)
                boxes = ids = None
                if self.config.mode == "top_down":
                    stage = "bad detections"
                    height, width = frame.image.shape[:2]
                    found = boxes_from_detections(match.messages["detections"], (width, height),
                                                  self.config.detection_class_ids, self.config.min_detection_score)
                    boxes, ids, frame.skipped = found.boxes, found.ids, found.skipped
                stage = "cascade rejected the input"
                frame.result = self.cascade.process(frame.image, intrinsics, boxes, ids)
        except ValueError as error:
            frame.error_kind, frame.error = stage, str(error)
            frame.result = None
            return frame
        frame.skipped.update(frame.result.skipped)
        return frame
