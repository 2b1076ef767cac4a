"""One person reported twice by a bottom-up 2D stage: found by keypoint similarity, the better
scored kept.

MoveNet MultiPose suppresses duplicates itself at its native 256 px input, but at larger inputs
it sometimes reports one person twice, with nearly the same keypoints and different boxes (on
the OpenCV sample photos at 512 px: the man in ``basketball2.png`` and the player in
``messi5.jpg``, box IoU 0.66 and 0.48). Box overlap cannot tell these from two people close
together; the keypoints can. The measure is COCO's object keypoint similarity (OKS), each
joint's term ``exp(-d^2 / (2 area (2 sigma)^2))`` with COCO's per-joint ``sigma`` and the smaller
box's area, averaged with weights the smaller of the two joint scores (so the joints both
detections are sure of count most). The duplicates above score 0.992 and 0.995; two different
people, even overlapping pedestrians on vtest.avi, score at most 0.31 (docs/benchmarks.md, #18).
"""
from __future__ import annotations

import numpy as np

from .base import Person2D

#: COCO keypoint sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).
COCO_OKS_SIGMAS = np.array([0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                            0.107, 0.107, 0.087, 0.087, 0.089, 0.089])
#: Score-weighted OKS above which two detections are one person.
DUPLICATE_OKS = 0.8


def keypoint_similarity(a: Person2D, b: Person2D) -> float:
    """Score-weighted OKS of two COCO-17 detections (module docstring); 0 when no joint has a
    score or coordinates in both."""
    areas = [max((p.box[2] - p.box[0]) * (p.box[3] - p.box[1]), 1e-9) for p in (a, b)]
    weights = np.minimum(a.scores, b.scores) * (np.isfinite(a.keypoints).all(1) & np.isfinite(b.keypoints).all(1))
    if not weights.sum() > 0:
        return 0.0
    squared = np.nan_to_num(np.sum((a.keypoints - b.keypoints) ** 2, axis=1), nan=np.inf)
    terms = np.exp(-squared / (2 * min(areas) * (2 * COCO_OKS_SIGMAS) ** 2))
    return float(np.sum(weights * terms) / np.sum(weights))


def drop_duplicates(people: list[Person2D], max_oks: float = DUPLICATE_OKS) -> list[Person2D]:
    """``people`` (best scored first) without any that is more similar than ``max_oks`` to a
    better-scored one kept."""
    kept: list[Person2D] = []
    for person in people:
        if all(keypoint_similarity(person, other) <= max_oks for other in kept):
            kept.append(person)
    return kept
