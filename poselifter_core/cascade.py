"""Image -> absolute 3D people (paper section 4, Figure 4).

image (+ person boxes) -> 2D stage -> COCO-17 -> H36M-17 -> PoseLifter (one batch for all people)
-> canonical root depth + relative pose -> absolute pose with the focal length.

Outputs are in metres in the camera optical frame (x right, y down, z forward; REP-103), as a
robot consumer expects. People whose 2D pose cannot be trusted are skipped and counted, never
lifted into a silently wrong 3D pose:

* person score below ``min_person_score``;
* fewer than ``min_valid_joints`` joints with a score of at least ``min_joint_score``, or any
  joint without coordinates at all.

A lifted person's low-score joints keep ``valid = False`` so consumers can ignore those 3D joints.
Without known intrinsics, a camera with ``default_hfov_deg`` is assumed: the canonical depth is
still meaningful, the metric pose is flagged ``metric_depth = False``.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .camera import Intrinsics
from .lifter.inference import Lifter
from .lifter.normalization import MIN_SCALE_PX, person_scale
from .pose2d.base import Person2D, Pose2DEstimator, check_image
from .pose2d.layout import LayoutConversion, to_h36m17

MM_PER_M = 1000.0


@dataclass
class CascadeConfig:
    min_person_score: float = 0.2
    min_joint_score: float = 0.3
    min_valid_joints: int = 13
    default_hfov_deg: float = 60.0
    head_ratio: float = 0.85
    hip_width_scale: float = 1.0


@dataclass
class Person3D:
    keypoints_2d: np.ndarray  # (17, 2) H36M-17 pixels
    scores: np.ndarray  # (17,)
    valid: np.ndarray  # (17,) bool: joint score >= min_joint_score
    box: np.ndarray  # (4,) x1, y1, x2, y2
    score: float
    joints_m: np.ndarray  # (17, 3) absolute, camera optical frame
    root_m: np.ndarray  # (3,)
    relative_m: np.ndarray  # (17, 3) root-relative
    canonical_depth: float  # root depth / sqrt(fx fy), metres per pixel of focal length
    metric_depth: bool  # False when the focal length was assumed
    id: str = ""  # detection / track id of the input person ("" when none)


@dataclass
class CascadeResult:
    people: list[Person3D]
    intrinsics: Intrinsics
    intrinsics_assumed: bool
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    timings_ms: dict[str, float] = field(default_factory=dict)


class Pose3DEstimator:
    """The cascade. Without a 2D ``estimator`` it only lifts given 2D people (:meth:`lift_people`)."""

    def __init__(self, estimator: Pose2DEstimator | None, lifter: Lifter, config: CascadeConfig = CascadeConfig()) -> None:
        self.estimator = estimator
        self.lifter = lifter
        self.config = config
        self.layout = LayoutConversion(config.min_joint_score, config.head_ratio, config.hip_width_scale)

    def process(self, image: np.ndarray, intrinsics: Intrinsics | None = None, boxes: np.ndarray | None = None,
                box_ids: list[str] | None = None) -> CascadeResult:
        """Detect (or use ``boxes``), lift everyone in one batch, return absolute 3D people.

        ``box_ids`` (one per box) become the people's ``id`` so results can be traced to detections.
        """
        if self.estimator is None:
            raise ValueError("this cascade has no 2D stage: it lifts given 2D people only (lift_people)")
        image = check_image(image)
        if box_ids is not None and (boxes is None or len(box_ids) != len(boxes)):
            raise ValueError("box_ids needs boxes and exactly one id per box")
        started = time.perf_counter()
        people = self.estimator.estimate(image, boxes)
        for person, box_id in zip(people, box_ids or ()):
            person.id = box_id
        detected = time.perf_counter()
        height, width = image.shape[:2]
        result = self.lift_people(people, intrinsics, (width, height))
        result.timings_ms["pose2d"] = 1000 * (detected - started)
        return result

    def lift_people(self, people: list[Person2D], intrinsics: Intrinsics | None,
                    image_size: tuple[int, int]) -> CascadeResult:
        """Lift 2D people from any source (the 2D stage, or external keypoints)."""
        started = time.perf_counter()
        assumed = intrinsics is None
        if intrinsics is None:
            intrinsics = Intrinsics.from_fov(image_size[0], image_size[1], self.config.default_hfov_deg)
        kept, skipped = self._select(people)
        result = CascadeResult([], intrinsics, assumed, skipped)
        if kept:
            keypoints = np.stack([p.keypoints for p, _ in kept])
            lifted = self.lifter.lift(keypoints, intrinsics.as_array())
            alpha_mm = MM_PER_M * np.sqrt(intrinsics.fx * intrinsics.fy)
            for i, (person, valid) in enumerate(kept):
                result.people.append(Person3D(
                    keypoints_2d=person.keypoints, scores=person.scores, valid=valid, box=person.box,
                    score=person.score, joints_m=lifted.absolute[i] / MM_PER_M, root_m=lifted.root[i] / MM_PER_M,
                    relative_m=lifted.relative[i] / MM_PER_M,
                    canonical_depth=float(lifted.root[i, 2] / alpha_mm), metric_depth=not assumed, id=person.id))
        result.timings_ms["lift"] = 1000 * (time.perf_counter() - started)
        return result

    def _select(self, people: list[Person2D]) -> tuple[list[tuple[Person2D, np.ndarray]], Counter]:
        kept, skipped = [], Counter()
        for person in people:
            converted, valid = to_h36m17(person, self.layout)
            if person.score < self.config.min_person_score:
                skipped["low person score"] += 1
            elif not np.all(np.isfinite(converted.keypoints)):
                skipped["joint without coordinates"] += 1
            elif valid.sum() < self.config.min_valid_joints:
                skipped["too few confident joints"] += 1
            elif person_scale(converted.keypoints) < max(MIN_SCALE_PX, 1.0):
                skipped["degenerate 2D pose"] += 1
            else:
                kept.append((converted, valid))
        return kept, skipped
