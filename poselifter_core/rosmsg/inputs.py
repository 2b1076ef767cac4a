"""Read CameraInfo, Image / CompressedImage, Detection2DArray and Keypoints2DArray messages.

Every reader raises ``ValueError`` with the reason for a message it cannot use, or returns what it
kept plus a :class:`~collections.Counter` of what it dropped, so the caller can log and count
instead of crashing.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..camera import Intrinsics
from ..distortion import Distortion
from ..pose2d.base import Person2D
from ..skeleton import get_skeleton
from .images import compressed_to_rgb, image_to_rgb

NS_PER_S = 10**9
#: Keypoint layouts a Keypoints2D message may name.
KEYPOINT_LAYOUTS = ("coco17", "h36m17")
#: Smallest usable detection box side after clipping to the image [px].
MIN_BOX_SIDE_PX = 2.0


def stamp_ns(header: Any) -> int:
    """A std_msgs/Header's stamp as integer nanoseconds."""
    return int(header.stamp.sec) * NS_PER_S + int(header.stamp.nanosec)


def intrinsics_from_camera_info(info: Any, use_projection: bool = False) -> Intrinsics:
    """Focal lengths and principal point of a sensor_msgs/CameraInfo.

    ``use_projection`` reads P (the camera after rectification: use it for ``image_rect``
    topics), otherwise K (the raw image). Raises ValueError for an all-zero (uncalibrated),
    non-finite or non-pinhole matrix, naming which matrix.
    """
    name, values = ("P", info.p) if use_projection else ("K", info.k)
    try:
        return Intrinsics.from_projection(values) if use_projection else Intrinsics.from_matrix(values)
    except ValueError as error:
        raise ValueError(f"CameraInfo {name} rejected: {error}") from error


#: Largest relative difference of aspect ratio between a CameraInfo and its image for which K is
#: rescaled (binning, a resized stream); beyond it the frame is skipped (a crop or the wrong camera).
ASPECT_TOLERANCE = 0.01


def intrinsics_for_image(intrinsics: Intrinsics, info: Any, image_size: tuple[int, int]) -> Intrinsics:
    """``intrinsics`` (from ``info``) for an image of ``(width, height)``.

    A CameraInfo that gives no size (0) or the image's size is used as is. One of another size
    with the same aspect ratio (binning, a resized stream) has its focal lengths and principal
    point scaled to the image (pixel centres: ``c' = (c + 0.5) s - 0.5``). Any other size is a
    ValueError: lifting with the wrong K gives a wrong pose, so the frame is skipped.
    """
    info_w, info_h = int(info.width), int(info.height)
    width, height = image_size
    if info_w <= 0 or info_h <= 0 or (info_w, info_h) == (width, height):
        return intrinsics
    sx, sy = width / info_w, height / info_h
    if abs(sx / sy - 1.0) > ASPECT_TOLERANCE:
        raise ValueError(f"CameraInfo is {info_w}x{info_h} but the image is {width}x{height} (another aspect "
                         "ratio: a crop or another camera?)")
    return Intrinsics(intrinsics.fx * sx, intrinsics.fy * sy, (intrinsics.cx + 0.5) * sx - 0.5,
                      (intrinsics.cy + 0.5) * sy - 0.5)


def distortion_from_camera_info(info: Any) -> Distortion | None:
    """The lens distortion of a raw image's sensor_msgs/CameraInfo (``distortion_model`` and
    ``d``); None when every coefficient is zero, whatever the model. Raises ValueError for
    non-zero coefficients of an unsupported model or too many coefficients."""
    coeffs = np.asarray(info.d, dtype=np.float64).ravel()
    if not np.any(coeffs):
        return None
    try:
        return Distortion(str(info.distortion_model), tuple(coeffs))
    except ValueError as error:
        raise ValueError(f"CameraInfo D rejected: {error}") from error


def image_from_message(message: Any) -> np.ndarray:
    """A sensor_msgs/Image or CompressedImage as ``(H, W, 3)`` uint8 RGB (ValueError if unreadable)."""
    if hasattr(message, "format"):
        return compressed_to_rgb(message.data, message.format)
    return image_to_rgb(message.data, message.height, message.width, message.encoding, message.step,
                        bool(message.is_bigendian))


@dataclass
class DetectionBoxes:
    """Person boxes taken from a Detection2DArray, their ids, and what was dropped and why."""

    boxes: np.ndarray  # (K, 4) x1, y1, x2, y2, clipped to the image
    ids: list[str]
    skipped: Counter = field(default_factory=Counter)


def _best_hypothesis(detection: Any, class_ids: tuple[str, ...]) -> float | None:
    """Highest score among the hypotheses of an accepted class (1.0 if there are none and any
    class is accepted), or None when no hypothesis has an accepted class."""
    scores = [float(r.hypothesis.score) for r in detection.results
              if not class_ids or str(r.hypothesis.class_id) in class_ids]
    if scores:
        return max(scores)
    return 1.0 if not class_ids and not detection.results else None


def boxes_from_detections(message: Any, image_size: tuple[int, int], class_ids: tuple[str, ...] = (),
                          min_score: float = 0.0) -> DetectionBoxes:
    """Person boxes from a vision_msgs/Detection2DArray (4.x; 3.x's ``center.x`` also read).

    Keeps detections whose class is in ``class_ids`` (empty: any class) with a score of at least
    ``min_score``; boxes are clipped to the ``(width, height)`` image. Non-finite boxes, boxes
    entirely outside the image and boxes thinner than :data:`MIN_BOX_SIDE_PX` after clipping are
    dropped and counted.
    """
    width, height = image_size
    boxes, ids, skipped = [], [], Counter()
    for detection in message.detections:
        score = _best_hypothesis(detection, class_ids)
        if score is None:
            skipped["detection of another class"] += 1
            continue
        if not score >= min_score:
            skipped["detection score below threshold"] += 1
            continue
        bbox = detection.bbox
        center = getattr(bbox.center, "position", bbox.center)
        cx, cy, w, h = float(center.x), float(center.y), float(bbox.size_x), float(bbox.size_y)
        if not np.all(np.isfinite([cx, cy, w, h])) or w <= 0 or h <= 0:
            skipped["detection box not finite or empty"] += 1
            continue
        box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        clipped = np.clip(box, [0, 0, 0, 0], [width - 1, height - 1, width - 1, height - 1])
        if box[2] < 0 or box[3] < 0 or box[0] > width - 1 or box[1] > height - 1:
            skipped["detection box outside the image"] += 1
        elif min(clipped[2] - clipped[0], clipped[3] - clipped[1]) < MIN_BOX_SIDE_PX:
            skipped["detection box degenerate after clipping"] += 1
        else:
            boxes.append(clipped)
            ids.append(str(detection.id))
    return DetectionBoxes(np.array(boxes, dtype=np.float64).reshape(-1, 4), ids, skipped)


def people_from_keypoints(message: Any) -> tuple[list[Person2D], Counter]:
    """2D people from a poselifter_msgs/Keypoints2DArray, and the count of people dropped and why.

    A keypoint with score 0 is missing (NaN coordinates); a person with an unknown layout, the
    wrong number of keypoints or non-finite coordinates on a scored keypoint is dropped. An
    all-zero box is replaced by the bounds of the scored keypoints.
    """
    people, skipped = [], Counter()
    for person in message.people:
        layout = str(person.layout).lower()
        if layout not in KEYPOINT_LAYOUTS:
            skipped["unknown keypoint layout"] += 1
            continue
        skeleton = get_skeleton(layout)
        if len(person.keypoints) != skeleton.num_joints:
            skipped["wrong number of keypoints"] += 1
            continue
        xy = np.array([[k.x, k.y] for k in person.keypoints], dtype=np.float64)
        scores = np.array([k.score for k in person.keypoints], dtype=np.float64)
        if not np.all(np.isfinite(scores)) or np.any(scores < 0):
            skipped["keypoint scores not finite or negative"] += 1
            continue
        present = scores > 0
        if not np.all(np.isfinite(xy[present])):
            skipped["keypoint coordinates not finite"] += 1
            continue
        xy[~present] = np.nan
        box = np.asarray(person.box, dtype=np.float64)
        if not np.any(box) and present.any():
            box = np.concatenate([xy[present].min(axis=0), xy[present].max(axis=0)])
        people.append(Person2D(xy, scores, box, float(person.score), skeleton, str(person.id)))
    return people, skipped
