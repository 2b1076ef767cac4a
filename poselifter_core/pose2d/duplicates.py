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

Passes at two input sizes (``cascade.pose2d_extra_size``) report the same person with keypoints
that differ by the coarser pass's precision, a few of its input pixels: on vtest.avi's small
pedestrians the OKS of one person found at 256 and at 384 or 512 px is 0.60-0.64 in the median
and at most 0.8 for 84-91 % of them (down to 0.19), so the OKS rule alone keeps most of them
twice; different people reach 0.54. Their boxes agree: :func:`merge_passes` also takes two
people of different passes whose boxes overlap by IoU ``MERGE_IOU`` or more as one (within a
pass, MoveNet's own suppression keeps the IoU of different people's boxes at 0.40 or less on
vtest.avi), and each person kept stands for at most one of each other pass, so one box over two
people cannot swallow both (docs/benchmarks.md, #18, "Two input sizes, merged").
"""
from __future__ import annotations

import numpy as np

from .base import Person2D

#: COCO keypoint sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).
COCO_OKS_SIGMAS = np.array([0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                            0.107, 0.107, 0.087, 0.087, 0.089, 0.089])
#: Score-weighted OKS above which two detections are one person.
DUPLICATE_OKS = 0.8
#: Box IoU from which two people of different bottom-up passes are one person.
MERGE_IOU = 0.4


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


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``a`` ``(N, 4)`` with one box ``b`` ``(4,)``, x1, y1, x2, y2."""
    ix = np.clip(np.minimum(a[:, 2], b[2]) - np.maximum(a[:, 0], b[0]), 0, None)
    iy = np.clip(np.minimum(a[:, 3], b[3]) - np.maximum(a[:, 1], b[1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / np.maximum(area_a + area_b - inter, 1e-12)


def merge_passes(passes: list[list[Person2D]], max_oks: float = DUPLICATE_OKS,
                 min_iou: float = MERGE_IOU) -> list[Person2D]:
    """The people of several bottom-up passes (each without duplicates, e.g. by
    :func:`drop_duplicates`), best scored first, each person once: going down the scores, a
    person is dropped as the same as a kept one of another pass when their OKS exceeds ``max_oks``
    or their boxes' IoU reaches ``min_iou`` (the kept one of the highest IoU among those); a kept
    person stands for at most one person of each other pass (module docstring)."""
    tagged = sorted(((person, k) for k, people in enumerate(passes) for person in people), key=lambda t: -t[0].score)
    kept: list[Person2D] = []
    stands_for: list[set[int]] = []  # per kept person: its own pass and those it took a person of
    for person, k in tagged:
        free = [i for i, passes_taken in enumerate(stands_for) if k not in passes_taken]
        if free:
            iou = box_iou(np.array([kept[i].box for i in free]), person.box)
            same = [(iou[n], i) for n, i in enumerate(free)
                    if iou[n] >= min_iou or keypoint_similarity(person, kept[i]) > max_oks]
            if same:
                stands_for[max(same)[1]].add(k)
                continue
        kept.append(person)
        stands_for.append({k})
    return kept
