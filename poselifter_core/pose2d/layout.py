"""COCO-17 keypoints -> the Human3.6M-17 joints the lifter works in, with per-joint scores.

The lifter is trained on H36M-17 joints derived from a CMU mocap skeleton (see
``docs/keypoint_layouts.md``): Hip = mid(LeftUpLeg, RightUpLeg), Thorax = mid-shoulders,
Spine = mid(Hip, Thorax), Neck/Nose = the CMU Head joint (the top of the neck, about ear
height), Head = the head's end site (the crown). The COCO-derived joints below are defined to
be the same points as closely as COCO's keypoints allow:

==========  ===============================================  ==============================
H36M joint  from COCO                                        score
==========  ===============================================  ==============================
Hip         mid(left_hip, right_hip)                         min of the two hips
R/LHip      right_hip / left_hip (optionally pulled toward   the hip's own
            Hip by ``hip_width_scale``)
R/LKnee     right_knee / left_knee                           its own
R/LFoot     right_ankle / left_ankle                         its own
Spine       mid(Hip, Thorax)                                 min of the four hips/shoulders
Thorax      mid(left_shoulder, right_shoulder)               min of the two shoulders
Neck/Nose   mid(left_ear, right_ear); if one ear is below    min of the ears (or the one
            ``min_score``, the other ear alone               ear used)
Head        Neck/Nose + head_ratio * (Neck/Nose - Thorax)    min of Neck/Nose and Thorax
L/RShoulder left_shoulder / right_shoulder                   its own
L/RElbow    left_elbow / right_elbow                         its own
L/RWrist    left_wrist / right_wrist                         its own
==========  ===============================================  ==============================

A derived joint is only as trustworthy as its worst source, hence the min. Every conversion
returns a validity mask (score >= ``min_score``); callers must not use an invalid joint's
coordinates as if they were measured.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..skeleton import COCO17, H36M17
from .base import Person2D

# (H36M joint, COCO joint) pairs copied one to one.
_DIRECT = {
    "RHip": "right_hip", "RKnee": "right_knee", "RFoot": "right_ankle",
    "LHip": "left_hip", "LKnee": "left_knee", "LFoot": "left_ankle",
    "LShoulder": "left_shoulder", "LElbow": "left_elbow", "LWrist": "left_wrist",
    "RShoulder": "right_shoulder", "RElbow": "right_elbow", "RWrist": "right_wrist",
}
# The same as index arrays, and the indices of the derived joints' sources and targets: the
# conversion runs once per person per frame, so it does no name lookups (#16, lift-stage cost).
_DIRECT_H36M = np.array([H36M17.index(name) for name in _DIRECT])
_DIRECT_COCO = np.array([COCO17.index(name) for name in _DIRECT.values()])
_C = {name: COCO17.index(name) for name in ("left_hip", "right_hip", "left_shoulder", "right_shoulder", "left_ear",
                                             "right_ear")}
_H = {name: H36M17.index(name) for name in ("Hip", "LHip", "RHip", "Thorax", "Spine", "Neck/Nose", "Head")}


@dataclass(frozen=True)
class LayoutConversion:
    """Settings of the COCO-17 -> H36M-17 conversion.

    ``head_ratio``: crown distance above Neck/Nose as a fraction of the Thorax -> Neck/Nose
    distance; 0.85 is the mean over the shipped CMU clips (0.80 to 0.91 per subject), where the
    crown lies on the neck's line to within a few degrees. ``hip_width_scale``: 1 keeps COCO's
    hip keypoints; below 1 pulls them toward the pelvis centre (CMU hips are narrower than the
    hips COCO annotators mark; see the docs). ``min_score``: joints below it are flagged invalid.
    """

    min_score: float = 0.3
    head_ratio: float = 0.85
    hip_width_scale: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        if self.head_ratio < 0 or self.hip_width_scale <= 0:
            raise ValueError(
                f"head_ratio must be >= 0 and hip_width_scale > 0, got {self.head_ratio}, {self.hip_width_scale}"
            )


def coco17_to_h36m17(
    keypoints: np.ndarray, scores: np.ndarray, settings: LayoutConversion = LayoutConversion()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert ``(..., 17, 2)`` COCO keypoints and ``(..., 17)`` scores to H36M-17.

    Returns ``(keypoints, scores, valid)`` with shapes ``(..., 17, 2)``, ``(..., 17)`` and a
    bool ``(..., 17)`` mask ``scores >= settings.min_score`` (NaN coordinates are never valid).
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    COCO17.check_joint_count(keypoints, "COCO keypoints")
    if keypoints.shape[-1] != 2 or scores.shape != keypoints.shape[:-1]:
        raise ValueError(f"expected keypoints (..., 17, 2) and scores (..., 17), got {keypoints.shape}, {scores.shape}")

    def c(name: str) -> tuple[np.ndarray, np.ndarray]:
        i = _C[name]
        return keypoints[..., i, :], scores[..., i]

    out = np.empty(keypoints.shape, dtype=np.float64)
    out_scores = np.empty(scores.shape, dtype=np.float64)

    def put(name: str, point: np.ndarray, score: np.ndarray) -> None:
        i = _H[name]
        out[..., i, :] = point
        out_scores[..., i] = score

    out[..., _DIRECT_H36M, :] = keypoints[..., _DIRECT_COCO, :]
    out_scores[..., _DIRECT_H36M] = scores[..., _DIRECT_COCO]

    (lhip, lhip_s), (rhip, rhip_s) = c("left_hip"), c("right_hip")
    pelvis, pelvis_s = (lhip + rhip) / 2.0, np.minimum(lhip_s, rhip_s)
    put("Hip", pelvis, pelvis_s)
    k = settings.hip_width_scale
    if k != 1.0:  # 1 keeps COCO's hips, already copied
        put("LHip", pelvis + k * (lhip - pelvis), lhip_s)
        put("RHip", pelvis + k * (rhip - pelvis), rhip_s)

    (lsh, lsh_s), (rsh, rsh_s) = c("left_shoulder"), c("right_shoulder")
    thorax, thorax_s = (lsh + rsh) / 2.0, np.minimum(lsh_s, rsh_s)
    put("Thorax", thorax, thorax_s)
    put("Spine", (pelvis + thorax) / 2.0, np.minimum(pelvis_s, thorax_s))

    (lear, lear_s), (rear, rear_s) = c("left_ear"), c("right_ear")
    both = np.minimum(lear_s, rear_s) >= settings.min_score
    better_is_left = (lear_s >= rear_s)[..., None]
    one_ear = np.where(better_is_left, lear, rear)
    neck = np.where(both[..., None], (lear + rear) / 2.0, one_ear)
    neck_s = np.where(both, np.minimum(lear_s, rear_s), np.maximum(lear_s, rear_s))
    put("Neck/Nose", neck, neck_s)
    put("Head", neck + settings.head_ratio * (neck - thorax), np.minimum(neck_s, thorax_s))

    valid = (out_scores >= settings.min_score) & np.all(np.isfinite(out), axis=-1)
    return out, out_scores, valid


def to_h36m17(person: Person2D, settings: LayoutConversion = LayoutConversion()) -> tuple[Person2D, np.ndarray]:
    """A :class:`Person2D` in H36M-17 layout plus its ``(17,)`` validity mask.

    H36M-17 input passes through (scores are only re-checked against ``min_score``).
    """
    if person.skeleton == H36M17:
        return person, person.valid(settings.min_score)
    if person.skeleton != COCO17:
        raise ValueError(f"no conversion from {person.skeleton.name} to {H36M17.name}; known: {COCO17.name}")
    keypoints, scores, valid = coco17_to_h36m17(person.keypoints, person.scores, settings)
    return Person2D(keypoints, scores, person.box, person.score, H36M17, person.id), valid


def to_h36m17_all(people: list[Person2D], settings: LayoutConversion = LayoutConversion()
                  ) -> list[tuple[Person2D, np.ndarray]]:
    """:func:`to_h36m17` of every person, the COCO-17 ones converted in one call (the cascade
    does this per frame: one vectorised conversion instead of one per person)."""
    coco = [i for i, person in enumerate(people) if person.skeleton == COCO17]
    out: list[tuple[Person2D, np.ndarray] | None] = [None] * len(people)
    if coco:
        keypoints, scores, valid = coco17_to_h36m17(np.stack([people[i].keypoints for i in coco]),
                                                    np.stack([people[i].scores for i in coco]), settings)
        for k, i in enumerate(coco):
            person = people[i]
            out[i] = (Person2D(keypoints[k], scores[k], person.box, person.score, H36M17, person.id), valid[k])
    for i, person in enumerate(people):
        if out[i] is None:
            out[i] = to_h36m17(person, settings)
    return out  # type: ignore[return-value]
