"""The 2D stage's interface: an image (and optionally person boxes) in, people with keypoints out.

Conventions shared by every estimator:

* Images are ``(H, W, 3)`` ``uint8`` RGB numpy arrays, nothing else: grey, 16-bit, float, BGRA
  or empty images are rejected with a ``ValueError`` (converting other encodings is the caller's
  job, e.g. the ROS adapter's).
* Pixel coordinates have pixel centres at integers, origin at the top-left pixel's centre (the
  ROS CameraInfo convention, as in :mod:`poselifter_core.camera`).
* Boxes are ``(K, 4)`` ``x1, y1, x2, y2`` in those pixel coordinates.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..skeleton import Skeleton


@dataclass
class Person2D:
    """One person's 2D keypoints in the input image.

    ``keypoints`` is ``(J, 2)`` (x, y) pixels; ``scores`` ``(J,)`` in [0, 1] says how much each
    keypoint can be trusted (a joint the estimator did not find at all has score 0 and NaN
    coordinates); ``box`` is ``(4,)`` x1, y1, x2, y2; ``score`` is the person's confidence;
    ``id`` is the detection or track id the person came with ("" when none).
    """

    keypoints: np.ndarray
    scores: np.ndarray
    box: np.ndarray
    score: float
    skeleton: Skeleton
    id: str = ""

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        self.scores = np.asarray(self.scores, dtype=np.float64)
        self.box = np.asarray(self.box, dtype=np.float64)
        self.score = float(self.score)
        j = self.skeleton.num_joints
        if self.keypoints.shape != (j, 2):
            raise ValueError(f"keypoints must be ({j}, 2) for {self.skeleton.name}, got {self.keypoints.shape}")
        if self.scores.shape != (j,):
            raise ValueError(f"scores must be ({j},) for {self.skeleton.name}, got {self.scores.shape}")
        if self.box.shape != (4,):
            raise ValueError(f"box must be (4,) x1, y1, x2, y2, got {self.box.shape}")

    def valid(self, min_score: float) -> np.ndarray:
        """``(J,)`` bool mask of the keypoints whose score reaches ``min_score`` (NaN never does)."""
        return (self.scores >= min_score) & np.all(np.isfinite(self.keypoints), axis=1)


class Pose2DEstimator(ABC):
    """Finds people's 2D keypoints in an RGB image."""

    #: The keypoint layout of every :class:`Person2D` this estimator returns.
    skeleton: Skeleton

    @abstractmethod
    def estimate(self, image: np.ndarray, boxes: np.ndarray | None = None) -> list[Person2D]:
        """Keypoints of the people in ``image``.

        With ``boxes`` (``(K, 4)``), the result has exactly one :class:`Person2D` per box, in
        the boxes' order; without, the estimator finds the people itself (bottom-up estimators)
        or raises ``ValueError`` (top-down estimators need boxes).
        """


def check_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` if it is a non-empty ``(H, W, 3)`` uint8 RGB array, else raise ValueError."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"image must be (H, W, 3) RGB, got shape {image.shape}"
            + (" (a grey image? convert it to RGB first)" if image.ndim == 2 else "")
        )
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (8 bits per channel), got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty: shape {image.shape}")
    return image


def check_boxes(boxes: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Validate person boxes against the image and return them as ``(K, 4)`` float64.

    A box may stick out of the image (crops pad with black), but it must have a positive area
    and overlap the image; otherwise it is a ValueError naming the box.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim == 1 and boxes.shape == (4,):
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (K, 4) x1, y1, x2, y2, got shape {boxes.shape}")
    height, width = image_shape[:2]
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        if not np.all(np.isfinite([x1, y1, x2, y2])):
            raise ValueError(f"box {i} has NaN or inf: {boxes[i].tolist()}")
        if x2 <= x1 or y2 <= y1:
            raise ValueError(f"box {i} has zero or negative area (need x2 > x1, y2 > y1): {boxes[i].tolist()}")
        # Pixel i covers [i - 0.5, i + 0.5]: the image spans [-0.5, W - 0.5] x [-0.5, H - 0.5].
        if x2 <= -0.5 or y2 <= -0.5 or x1 >= width - 0.5 or y1 >= height - 0.5:
            raise ValueError(f"box {i} lies outside the {width}x{height} image: {boxes[i].tolist()}")
    return boxes
