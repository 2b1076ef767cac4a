"""Training-time missing joints: the patterns a robot's 2D stage really produces.

On top of the rig's border cut (:mod:`.rig`), each batch gets fresh missing joints:

* ``low score``: each joint the 2D stage reports directly is missing with its own rate. The
  default rates were measured with the shipped MoveNet on OpenCV's ``vtest.avi`` (every 10th of
  the first 800 frames, 147 people with person score >= 0.2, joint score threshold 0.3): wrists
  35-40%, elbows 12-28%, knees and feet 7-14%, shoulders, hips and ears 1-3%. ``low_score_scale``
  multiplies them.
* occlusion patterns, for ``occlusion_probability`` of the samples, one of (``pattern_weights``):
  ``limbs`` (one to four limbs lose their distal one to three joints: an arm behind the body, a
  leg behind furniture), ``lower_body`` (knees and feet, half of the time the hips too: behind a
  table or cut by the image's bottom edge), ``upper_body`` (head, neck and arms: the camera sees
  the legs only).

Derived joints follow their sources (:func:`..visibility.derive_visibility`); a sample whose new
mask fails the lifting minimum (:class:`..visibility.VisibilityRule`) keeps the rig's mask.

:func:`missing_masks` makes deterministic masks with a given number of missing joints for
evaluation (``poselifter evaluate --partial-bodies``, the shipped model's check set).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..skeleton import H36M17
from ..visibility import DERIVED_FROM, VisibilityRule, derive_visibility
from .pose_set import PoseSet

#: Per-joint miss rates of the shipped MoveNet on vtest.avi (module docstring), H36M-17 joints
#: the 2D stage gives directly; derived joints (Hip, Spine, Thorax, Head) follow their sources.
MOVENET_MISS_RATES = {
    "RHip": 0.014, "RKnee": 0.075, "RFoot": 0.075, "LHip": 0.007, "LKnee": 0.136, "LFoot": 0.116,
    "Neck/Nose": 0.014, "LShoulder": 0.014, "LElbow": 0.122, "LWrist": 0.395,
    "RShoulder": 0.034, "RElbow": 0.279, "RWrist": 0.347,
}
PATTERNS = ("limbs", "lower_body", "upper_body")
_J = H36M17.index
#: limbs from the trunk outwards
LIMBS = ((_J("RHip"), _J("RKnee"), _J("RFoot")), (_J("LHip"), _J("LKnee"), _J("LFoot")),
         (_J("LShoulder"), _J("LElbow"), _J("LWrist")), (_J("RShoulder"), _J("RElbow"), _J("RWrist")))
LOWER_LEGS = tuple(_J(n) for n in ("RKnee", "RFoot", "LKnee", "LFoot"))
HIPS = (_J("RHip"), _J("LHip"))
UPPER_BODY = tuple(_J(n) for n in ("Neck/Nose", "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"))


@dataclass
class MissingnessConfig:
    low_score_scale: float = 1.0  # multiplies low_score_rates; 0 disables
    low_score_rates: dict[str, float] = field(default_factory=lambda: dict(MOVENET_MISS_RATES))
    occlusion_probability: float = 0.3  # share of samples with an occlusion pattern
    pattern_weights: dict[str, float] = field(default_factory=lambda: {"limbs": 0.5, "lower_body": 0.3, "upper_body": 0.2})
    min_joints: int = 5  # the lifting minimum (as the cascade's default)
    min_torso_joints: int = 2

    def __post_init__(self) -> None:
        unknown = (set(self.pattern_weights) - set(PATTERNS)) | (set(self.low_score_rates) - set(H36M17.joint_names))
        if unknown:
            raise ValueError(f"unknown pattern or joint name(s) {sorted(unknown)}; patterns {PATTERNS}")


class Missingness:
    """Callable (B, J) bool mask -> (B, J) bool mask with fresh missing joints (module docstring)."""

    def __init__(self, config: MissingnessConfig, device: torch.device | str = "cpu") -> None:
        self.config = config
        rates = torch.zeros(H36M17.num_joints, device=device)
        for name, rate in config.low_score_rates.items():
            rates[_J(name)] = rate * config.low_score_scale
        self.rates = rates
        weights = torch.tensor([config.pattern_weights.get(p, 0.0) for p in PATTERNS], device=device)
        self.weights = weights / weights.sum() if weights.sum() > 0 else weights
        self.rule = VisibilityRule(config.min_joints, config.min_torso_joints)

    def __call__(self, visible: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        batch, joints = visible.shape
        device = visible.device

        def rand(*shape: int) -> torch.Tensor:
            return torch.rand(shape, generator=generator, device=device)

        drop = rand(batch, joints) < self.rates
        if self.config.occlusion_probability > 0 and self.weights.sum() > 0:
            occluded = rand(batch) < self.config.occlusion_probability
            pattern = torch.multinomial(self.weights, batch, replacement=True, generator=generator)
            drop |= (occluded & (pattern == 0))[:, None] & self._limbs(batch, rand)
            lower = torch.zeros(batch, joints, dtype=torch.bool, device=device)
            lower[:, list(LOWER_LEGS)] = True
            lower[:, list(HIPS)] = (rand(batch) < 0.5)[:, None]
            drop |= (occluded & (pattern == 1))[:, None] & lower
            upper = torch.zeros(joints, dtype=torch.bool, device=device)
            upper[list(UPPER_BODY)] = True
            drop |= (occluded & (pattern == 2))[:, None] & upper
        before = derive_visibility(visible)
        after = derive_visibility(visible & ~drop)
        return torch.where(self.rule.passes(after)[:, None], after, before)

    @staticmethod
    def _limbs(batch: int, rand) -> torch.Tensor:  # noqa: ANN001
        """(B, J) drops: one random limb always, each other limb with probability 1/4, each losing
        its distal 1-3 joints."""
        device = rand(1).device
        chosen = rand(batch, len(LIMBS)) < 0.25
        chosen[torch.arange(batch, device=device), (rand(batch) * len(LIMBS)).long().clamp_max(len(LIMBS) - 1)] = True
        length = 1 + (rand(batch, len(LIMBS)) * 3).long().clamp_max(2)  # 1..3 joints from the distal end
        drop = torch.zeros(batch, H36M17.num_joints, dtype=torch.bool, device=device)
        for limb, joints in enumerate(LIMBS):
            for position, joint in enumerate(joints):  # position 0 proximal .. 2 distal
                drop[:, joint] = chosen[:, limb] & (position >= 3 - length[:, limb])
        return drop


MISSING_PATTERNS = ("limbs", "lower body", "image border")
#: joints the 2D stage reports itself (the others are derived from them, see .visibility)
DIRECT_JOINTS = tuple(j for j in range(H36M17.num_joints) if j not in DERIVED_FROM)
#: evaluation order of the limbs pattern: forearms and lower legs, hand or foot first; then the neck and trunk
_LOWER_LIMBS = ((_J("RFoot"), _J("RKnee")), (_J("LFoot"), _J("LKnee")), (_J("LWrist"), _J("LElbow")),
          (_J("RWrist"), _J("RElbow")))
_AFTER_LIMBS = (_J("Neck/Nose"), _J("RShoulder"), _J("LHip"), _J("LShoulder"), _J("RHip"))
#: behind a table: feet, knees, hips, then hands and forearms
_LOWER_BODY = tuple(_J(n) for n in ("RFoot", "LFoot", "RKnee", "LKnee", "RHip", "LHip", "RWrist", "LWrist",
                                    "RElbow", "LElbow", "Neck/Nose", "RShoulder", "LShoulder"))


def missing_masks(data: PoseSet, count: int, pattern: str, seed: int = 0) -> np.ndarray:
    """(N, 17) bool masks with ``count`` of the 2D stage's joints missing per sample, by ``pattern``:
    ``limbs`` (forearms and lower legs, hand or foot first, limbs in random order; then the neck and
    the trunk joints), ``lower body`` (feet, knees, hips, then hands), ``image border`` (the joints
    nearest one random image side). Derived joints follow their sources."""
    if pattern not in MISSING_PATTERNS:
        raise ValueError(f"pattern must be one of {MISSING_PATTERNS}, got {pattern!r}")
    rng = np.random.default_rng(seed)
    n = len(data)
    visible = np.ones((n, H36M17.num_joints), dtype=bool)
    rows = np.arange(n)[:, None]
    if pattern == "limbs":
        order = np.stack([np.concatenate([*(_LOWER_LIMBS[i] for i in rng.permutation(4)), _AFTER_LIMBS])
                          for _ in range(n)])
    elif pattern == "lower body":
        order = np.broadcast_to(np.array(_LOWER_BODY), (n, len(_LOWER_BODY)))
    else:
        direct = np.array(DIRECT_JOINTS)
        side = rng.integers(4, size=n)  # 0 left, 1 right, 2 top, 3 bottom
        axis = np.where(side < 2, 0, 1)[:, None, None]
        coordinate = np.take_along_axis(data.keypoints_2d[:, direct, :], axis, axis=2)[..., 0]  # (N, 13)
        outward = np.where(np.isin(side, (0, 2))[:, None], -coordinate, coordinate)
        order = direct[np.argsort(-outward, axis=1, kind="stable")]
    visible[rows, order[:, :count]] = False
    return derive_visibility(visible)
