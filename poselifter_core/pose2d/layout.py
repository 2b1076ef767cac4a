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

from dataclasses import dataclass, field

import numpy as np

from ..skeleton import COCO17, H36M17
from .base import Person2D

#: The default ``head_ratio`` (``cascade.head_ratio``; every other default reads this one). 0.85 is
#: the mean (per frame) Neck/Nose -> Head over Thorax -> Neck/Nose length ratio of the four CMU
#: clips the conversion was designed on (``data/open_mocap/cmu4_h36m17_world_mm.npz``: subjects 01
#: and 131, both in the test split now; 0.80-0.91 per clip), not of the shipped training set. On the
#: shipped set's train split the ratio as the rule uses it (:func:`fit_head_ratio`: the crown's
#: least-squares position along the Thorax -> Neck/Nose line) is 0.71 in 3D (0.58-0.84 per subject)
#: and 0.74 in the rig's 2D projections; the mean length ratio is 0.76. 0.85 stays: on the
#: validation split the shipped lifter fed the rule's crown has a lower MRPE with 0.85 than with
#: 0.74 (1087 vs 1128 mm on exact 2D, 1089 vs 1125 mm on mixture-noised 2D), MPJPE 0.4 mm lower or
#: equal, PA-MPJPE within 0.2 mm (docs/benchmarks.md "What the keypoint-layout mismatch costs").
#: The longer head makes the person larger in 2D, which offsets part of the lifter's too-far root
#: depth there; it does not place the crown better.
HEAD_RATIO = 0.85

# (H36M joint, COCO joint) pairs copied one to one.
_DIRECT = {
    "RHip": "right_hip", "RKnee": "right_knee", "RFoot": "right_ankle",
    "LHip": "left_hip", "LKnee": "left_knee", "LFoot": "left_ankle",
    "LShoulder": "left_shoulder", "LElbow": "left_elbow", "LWrist": "left_wrist",
    "RShoulder": "right_shoulder", "RElbow": "right_elbow", "RWrist": "right_wrist",
}
# The conversion runs once per frame on every person (#16, lift-stage cost), so it is a lookup
# table: each H36M joint is a weighted sum of at most _SOURCES COCO joints (padded with a zero
# point) and its score the min of at most _SOURCES scores (padded by repeating one). The neck
# depends on which ears are seen, so the tables are indexed by [both ears seen, left ear better].
_SOURCES = 4
_ZERO_POINT = COCO17.num_joints  # index of the zero point appended to the COCO joints
_BETTER_EAR, _WORSE_EAR = COCO17.num_joints, COCO17.num_joints + 1  # the two ear scores appended to the COCO scores
_LEFT_EAR, _RIGHT_EAR = COCO17.index("left_ear"), COCO17.index("right_ear")
#: [both ears seen][left ear better] -> which ears make the neck (a NaN score is never better)
_EAR_CHOICES = (("right", "left"), ("both", "both"))

Weights = dict[str, float]


def _mix(a: Weights, b: Weights, weight_a: float, weight_b: float) -> Weights:
    """``weight_a * a + weight_b * b``; a source with weight 0 stays listed, so a NaN there still
    makes the joint NaN, as the formula it stands for does."""
    return {joint: weight_a * a.get(joint, 0.0) + weight_b * b.get(joint, 0.0) for joint in {**a, **b}}


def _definitions(ears: str, settings: LayoutConversion) -> dict[str, tuple[Weights, tuple[str, ...]]]:
    """Each H36M joint as (COCO joint -> weight, the scores whose min is its score) for one ear
    choice: the module docstring's table. Score names may be "better_ear" / "worse_ear"."""
    pelvis, thorax = {"left_hip": 0.5, "right_hip": 0.5}, {"left_shoulder": 0.5, "right_shoulder": 0.5}
    neck = {"both": {"left_ear": 0.5, "right_ear": 0.5}, "left": {"left_ear": 1.0}, "right": {"right_ear": 1.0}}[ears]
    neck_score = "worse_ear" if ears == "both" else "better_ear"
    joints = {h36m: ({coco: 1.0}, (coco,)) for h36m, coco in _DIRECT.items()}
    k = settings.hip_width_scale
    if k != 1.0:  # 1 keeps COCO's hips
        joints["LHip"] = (_mix(pelvis, {"left_hip": 1.0}, 1.0 - k, k), ("left_hip",))
        joints["RHip"] = (_mix(pelvis, {"right_hip": 1.0}, 1.0 - k, k), ("right_hip",))
    shoulders, hips = ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")
    joints["Hip"] = (pelvis, hips)
    joints["Thorax"] = (thorax, shoulders)
    joints["Spine"] = (_mix(pelvis, thorax, 0.5, 0.5), hips + shoulders)
    joints["Neck/Nose"] = (neck, (neck_score,))
    joints["Head"] = (_mix(neck, thorax, 1.0 + settings.head_ratio, -settings.head_ratio), (neck_score, *shoulders))
    return joints


def _tables(settings: LayoutConversion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(2, 2, _SOURCES, 17) point sources, their weights and score sources, indexed like _EAR_CHOICES."""
    score_index = {**{name: COCO17.index(name) for name in COCO17.joint_names},
                   "better_ear": _BETTER_EAR, "worse_ear": _WORSE_EAR}
    sources = np.full((2, 2, _SOURCES, H36M17.num_joints), _ZERO_POINT)
    weights = np.zeros(sources.shape)
    score_sources = np.zeros(sources.shape, dtype=np.int64)
    for both, left_better in np.ndindex(2, 2):
        for name, (point, scores) in _definitions(_EAR_CHOICES[both][left_better], settings).items():
            j = H36M17.index(name)
            sources[both, left_better, :len(point), j] = [COCO17.index(coco) for coco in point]
            weights[both, left_better, :len(point), j] = list(point.values())
            score_sources[both, left_better, :, j] = [score_index[scores[min(i, len(scores) - 1)]]
                                                      for i in range(_SOURCES)]
    return sources, weights, score_sources


@dataclass(frozen=True)
class LayoutConversion:
    """Settings of the COCO-17 -> H36M-17 conversion.

    ``head_ratio``: crown distance above Neck/Nose as a fraction of the Thorax -> Neck/Nose
    distance (default :data:`HEAD_RATIO`, where its value comes from). ``hip_width_scale``: 1 keeps COCO's
    hip keypoints; below 1 pulls them toward the pelvis centre (CMU hips are narrower than the
    hips COCO annotators mark; see the docs). ``min_score``: joints below it are flagged invalid.
    """

    min_score: float = 0.3
    head_ratio: float = HEAD_RATIO
    hip_width_scale: float = 1.0
    tables: tuple[np.ndarray, np.ndarray, np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        if self.head_ratio < 0 or self.hip_width_scale <= 0:
            raise ValueError(
                f"head_ratio must be >= 0 and hip_width_scale > 0, got {self.head_ratio}, {self.hip_width_scale}"
            )
        object.__setattr__(self, "tables", _tables(self))


def fit_head_ratio(joints: np.ndarray) -> float:
    """The ``head_ratio`` that places the crown of ``(N, 17, D)`` H36M-17 poses (2D pixels or 3D mm)
    best by the conversion's rule, Head = Neck/Nose + r (Neck/Nose - Thorax): the least-squares r,
    each pose first divided by its own size (root-relative RMS) so that near and far poses weigh the
    same. A crown off the neck's line counts only by its component along the line, which is why this
    is smaller than the ratio of the two lengths when the head is tilted. Poses with a non-finite
    Head, Neck/Nose or Thorax, or a zero Thorax -> Neck/Nose, are left out."""
    joints = np.asarray(joints, dtype=np.float64)
    H36M17.check_joint_count(joints, "joints")
    head, neck, thorax = (H36M17.index(n) for n in ("Head", "Neck/Nose", "Thorax"))
    size = np.sqrt(np.nanmean(np.sum((joints - joints[:, H36M17.root:H36M17.root + 1]) ** 2, axis=-1), axis=-1))
    crown, line = (joints[:, head] - joints[:, neck]), (joints[:, neck] - joints[:, thorax])
    along, length = np.sum(crown * line, axis=-1) / size**2, np.sum(line * line, axis=-1) / size**2
    keep = np.isfinite(along) & np.isfinite(length) & (length > 0)
    if not keep.any():
        raise ValueError("no pose with a finite Head, Neck/Nose and Thorax and a Thorax -> Neck/Nose length")
    return float(along[keep].sum() / length[keep].sum())


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
    lead = scores.shape[:-1]
    scores = scores.reshape(-1, COCO17.num_joints)
    points = np.zeros((len(scores), COCO17.num_joints + 1, 2))  # + the zero point
    points[:, :COCO17.num_joints] = keypoints.reshape(-1, COCO17.num_joints, 2)
    left, right = scores[:, _LEFT_EAR], scores[:, _RIGHT_EAR]
    worse, better = np.minimum(left, right), np.maximum(left, right)
    ears = (worse >= settings.min_score).astype(np.intp), (left >= right).astype(np.intp)  # _EAR_CHOICES' indices
    sources, weights, score_sources = (table[ears] for table in settings.tables)  # (N, _SOURCES, 17) each
    people = np.arange(len(scores))[:, None, None]
    out = _fold(np.add, points[people, sources] * weights[..., None])
    out_scores = _fold(np.minimum, np.concatenate([scores, better[:, None], worse[:, None]], axis=1)[people, score_sources])
    valid = (out_scores >= settings.min_score) & np.isfinite(out[..., 0]) & np.isfinite(out[..., 1])
    shape = lead + (H36M17.num_joints,)
    return out.reshape(*shape, 2), out_scores.reshape(shape), valid.reshape(shape)


def _fold(ufunc: np.ufunc, terms: np.ndarray) -> np.ndarray:
    """``ufunc`` over axis 1 of a small (N, K, ...) array, as K - 1 calls (a reduction over a
    middle axis of a tiny array costs several times more)."""
    out = terms[:, 0]
    for k in range(1, terms.shape[1]):
        out = ufunc(out, terms[:, k])
    return out


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


def to_h36m17_batch(people: list[Person2D], settings: LayoutConversion = LayoutConversion()
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`to_h36m17` of a frame's people as arrays: ``(N, 17, 2)`` keypoints, ``(N, 17)``
    scores and the ``(N, 17)`` validity mask, the COCO-17 people converted in one call (the
    cascade does this per frame: one vectorised conversion, no per-person objects)."""
    unknown = {p.skeleton.name for p in people if p.skeleton != COCO17 and p.skeleton != H36M17}
    if unknown:
        raise ValueError(f"no conversion from {', '.join(sorted(unknown))} to {H36M17.name}; known: {COCO17.name}")
    keypoints = np.array([p.keypoints for p in people]).reshape(-1, H36M17.num_joints, 2)
    scores = np.array([p.scores for p in people]).reshape(-1, H36M17.num_joints)
    coco = [p.skeleton == COCO17 for p in people]
    if all(coco):
        return coco17_to_h36m17(keypoints, scores, settings)
    valid = (scores >= settings.min_score) & np.isfinite(keypoints).all(axis=-1)  # H36M-17: Person2D.valid
    if any(coco):
        keypoints[coco], scores[coco], valid[coco] = coco17_to_h36m17(keypoints[coco], scores[coco], settings)
    return keypoints, scores, valid
