"""Shared machinery of top-down estimators: crop each person box, predict, map keypoints back.

As in the paper (section 4): the box is grown to the network input's aspect ratio (and by a
context ``padding``), cropped and resized to the input size with a uniform scale, the network
predicts keypoints in the crop, and the crop's exact inverse puts them back in image pixels.
"""
from __future__ import annotations

from abc import abstractmethod

import numpy as np

from ..skeleton import Skeleton
from .base import Person2D, Pose2DEstimator, check_boxes, check_image
from .transforms import CropTransform


class TopDownEstimator(Pose2DEstimator):
    """A :class:`Pose2DEstimator` that needs person boxes and runs on one crop per box."""

    def __init__(self, skeleton: Skeleton, input_size: tuple[int, int], padding: float = 1.25) -> None:
        if padding <= 0:
            raise ValueError(f"crop padding must be positive, got {padding}")
        self.skeleton = skeleton
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.padding = float(padding)

    @abstractmethod
    def predict_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the network on ``(N, H, W, 3)`` uint8 RGB crops.

        Returns keypoints ``(N, J, 2)`` in crop pixels, keypoint scores ``(N, J)`` in [0, 1] and
        person scores ``(N,)``.
        """

    def crop_transforms(self, boxes: np.ndarray) -> list[CropTransform]:
        return [CropTransform.from_box(box, self.input_size, self.padding) for box in boxes]

    def estimate(self, image: np.ndarray, boxes: np.ndarray | None = None) -> list[Person2D]:
        check_image(image)
        if boxes is None:
            raise ValueError(f"{type(self).__name__} is a top-down estimator: it needs person boxes")
        boxes = check_boxes(boxes, image.shape)
        if len(boxes) == 0:
            return []
        transforms = self.crop_transforms(boxes)
        crops = np.stack([t.apply(image) for t in transforms])
        keypoints, scores, person_scores = self.predict_crops(crops)
        return [
            Person2D(t.to_input(keypoints[i]), scores[i], boxes[i], float(person_scores[i]), self.skeleton)
            for i, t in enumerate(transforms)
        ]
