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

Box overlap alone would also take two different people as one when their boxes overlap that much
(one walking behind the other, a 256 px box over two walkers whose skeleton is the back one's
head on the front one's legs) and each is found by only one pass. So the boxes count only when
the keypoints do not contradict them: the median distance of the joints both score
``MERGE_JOINT_SCORE`` or more must be at most ``MERGE_JOINT_PX`` pixels of the coarser pass's
input (its error is a few of those pixels whatever the person's size; a relative tolerance such as
OKS cannot hold it for small people). With fewer than ``MERGE_MIN_JOINTS`` such joints the boxes
decide alone. A skeleton that joins two people (the back one's head, the front one's legs) agrees
with neither; when the other pass found both it is still dropped, as covered by their joints
together (``BLEND_IOU``, :func:`joints_explained`); when that pass found only one, it stays and
stands for the other.
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
#: Box-overlap merges need the two people's joints to agree: the median distance of the joints both
#: score ``MERGE_JOINT_SCORE`` or more at most this many pixels of the coarser pass's input.
#: Measured on vtest.avi (every 4th frame, 256 px against 384 and 512 px: 691 cross-pass pairs of box
#: IoU >= 0.4) and the OpenCV sample photos (9 pairs), ninth session, docs/benchmarks.md "Two input
#: sizes, merged": the same person 0.4-6.7 px (95th percentile 4.5; photos 0.8-3.5), the 7 pairs
#: above 7 px all a 256 px box whose skeleton joins two walkers (the back one's head on the front
#: one's legs); a different person standing where a copy of the person shifted to box IoU 0.4-0.7
#: would stand is above 7 px for 98 % of the photos' large people and only 7 % of vtest's small ones
#: (at 256 px their neighbour's offset is within the pass's own error).
MERGE_JOINT_PX = 7.0
#: Joint score from which a joint counts in that distance (``cascade.min_joint_score``'s default: observed).
MERGE_JOINT_SCORE = 0.3
#: Fewer joints scored in both than this: the boxes decide alone.
MERGE_MIN_JOINTS = 3
#: A person the joint check keeps apart is still one of another pass's people when the other pass's
#: people whose boxes overlap its own by this much cover its joints: a coarse pass's skeleton that
#: joins two people the other pass found apart (vtest.avi #792 at 256+512: box IoU 0.54 and 0.31 to
#: the two men, its joints 5.8 px from theirs, 9.3 and 9.4 px from each alone).
BLEND_IOU = 0.2


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


def joint_distance(a: Person2D, b: Person2D, min_score: float = MERGE_JOINT_SCORE) -> float:
    """Median image-pixel distance between the joints of ``a`` and ``b`` that both score
    ``min_score`` or more (and have coordinates); NaN with fewer than ``MERGE_MIN_JOINTS``."""
    both = (np.minimum(a.scores, b.scores) >= min_score) & np.isfinite(a.keypoints).all(1) \
        & np.isfinite(b.keypoints).all(1)
    if both.sum() < MERGE_MIN_JOINTS:
        return float("nan")
    return float(np.median(np.linalg.norm(a.keypoints[both] - b.keypoints[both], axis=1)))


def joints_explained(person: Person2D, others: list[Person2D], min_score: float = MERGE_JOINT_SCORE) -> float:
    """Median image-pixel distance from each joint of ``person`` to the nearest of the same joint of
    ``others`` (joints scored ``min_score`` or more in both): small when ``others`` together cover
    its skeleton, as two people cover a skeleton that joins them; NaN with fewer than
    ``MERGE_MIN_JOINTS`` such joints."""
    nearest = np.full(len(person.scores), np.inf)
    for other in others:
        both = (np.minimum(person.scores, other.scores) >= min_score) & np.isfinite(other.keypoints).all(1)
        distance = np.linalg.norm(person.keypoints - other.keypoints, axis=1)
        nearest = np.where(both & (distance < nearest), distance, nearest)
    found = np.isfinite(nearest)
    return float(np.median(nearest[found])) if found.sum() >= MERGE_MIN_JOINTS else float("nan")


def merge_passes(passes: list[list[Person2D]], max_oks: float = DUPLICATE_OKS,
                 min_iou: float = MERGE_IOU, input_pixel: float | None = None,
                 max_joint_px: float = MERGE_JOINT_PX) -> list[Person2D]:
    """The people of several bottom-up passes (each without duplicates, e.g. by
    :func:`drop_duplicates`), best scored first, each person once: going down the scores, a
    person is dropped as the same as a kept one of another pass when their OKS exceeds ``max_oks``
    or their boxes' IoU reaches ``min_iou`` and their :func:`joint_distance` is at most
    ``max_joint_px`` times ``input_pixel`` (image pixels per input pixel of the coarsest pass;
    ``None``: the boxes alone) (the kept one of the highest IoU among those); a kept person stands
    for at most one person of each other pass. Then, with ``input_pixel``, the worst scored first,
    a kept person that stands for no one else is dropped as a blend of another pass's people when
    two or more of them overlap its box by ``BLEND_IOU`` (one of them by ``min_iou``) and together
    cover its joints (:func:`joints_explained` at most that distance) (module docstring)."""
    max_distance = np.inf if input_pixel is None else max_joint_px * input_pixel
    tagged = sorted(((person, k) for k, people in enumerate(passes) for person in people), key=lambda t: -t[0].score)
    kept: list[Person2D] = []
    stands_for: list[set[int]] = []  # per kept person: its own pass and those it took a person of
    origin: list[int] = []  # per kept person: its own pass
    for person, k in tagged:
        free = [i for i, passes_taken in enumerate(stands_for) if k not in passes_taken]
        if free:
            iou = box_iou(np.array([kept[i].box for i in free]), person.box)
            same = [(iou[n], i) for n, i in enumerate(free)
                    if (iou[n] >= min_iou and not joint_distance(person, kept[i]) > max_distance)
                    or keypoint_similarity(person, kept[i]) > max_oks]
            if same:
                stands_for[max(same)[1]].add(k)
                continue
        kept.append(person)
        stands_for.append({k})
        origin.append(k)
    if input_pixel is None:
        return kept
    alive = list(range(len(kept)))
    for i in reversed(range(len(kept))):  # the worst scored first, against those still kept
        if len(stands_for[i]) > 1:
            continue
        for k in {origin[j] for j in alive} - {origin[i]}:
            under = [j for j in alive if origin[j] == k]
            iou = box_iou(np.array([kept[j].box for j in under]), kept[i].box)
            over = [kept[j] for n, j in enumerate(under) if iou[n] >= BLEND_IOU]
            if len(over) > 1 and iou.max() >= min_iou and joints_explained(kept[i], over) <= max_distance:
                alive.remove(i)
                break
    return [kept[i] for i in alive]
