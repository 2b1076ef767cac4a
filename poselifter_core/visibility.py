"""Which H36M-17 joints are observed: the derived joints' rule and the minimum to lift a person.

Several H36M-17 joints are not keypoints of the 2D stage but derived from COCO joints
(:mod:`.pose2d.layout`): Hip from both hips, Thorax from both shoulders, Spine from Hip and Thorax,
Head from Neck/Nose and Thorax. A derived joint is observed only when all its sources are
(:func:`derive_visibility`); the rig and the training missingness apply the same rule, so the
lifter is trained on the masks the cascade produces.

The minimum to lift (:class:`VisibilityRule`): at least ``min_joints`` observed joints of which at
least ``min_torso_joints`` are shoulders or hips. Location and scale (eqs. 3-4) come from the
observed joints; two torso joints span a near-rigid segment of the trunk (shoulder width, hip
width, or a shoulder-hip diagonal), which fixes the person's 2D scale to within the torso's
proportions, and three more joints make the scale statistic robust to one outlier and tell the
network which way the body extends. Defaults 5 and 2; both are settings of the cascade.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from .skeleton import H36M17

if TYPE_CHECKING:
    import torch

Mask = TypeVar("Mask", np.ndarray, "torch.Tensor")

_J = H36M17.index
#: derived joint -> the joints it is computed from (pose2d.layout)
DERIVED_FROM = {
    _J("Hip"): (_J("LHip"), _J("RHip")),
    _J("Thorax"): (_J("LShoulder"), _J("RShoulder")),
    _J("Spine"): (_J("Hip"), _J("Thorax")),
    _J("Head"): (_J("Neck/Nose"), _J("Thorax")),
}
TORSO_JOINTS = tuple(_J(n) for n in ("LShoulder", "RShoulder", "LHip", "RHip"))
_TORSO_INDEX = np.array(TORSO_JOINTS)  # numpy and torch masks both take it as an index


def derive_visibility(visible: Mask) -> Mask:
    """(..., 17) bool mask with each derived joint observed only if its sources are (in order)."""
    out = visible.copy() if isinstance(visible, np.ndarray) else visible.clone()
    for joint, sources in DERIVED_FROM.items():
        out[..., joint] = out[..., joint] & out[..., sources[0]] & out[..., sources[1]]
    return out


@dataclass(frozen=True)
class VisibilityRule:
    """The minimum of observed joints for a person to be lifted (module docstring)."""

    min_joints: int = 5
    min_torso_joints: int = 2

    def __post_init__(self) -> None:
        if not 2 <= self.min_joints <= H36M17.num_joints or not 0 <= self.min_torso_joints <= len(TORSO_JOINTS):
            raise ValueError(f"min_joints must be in [2, 17] and min_torso_joints in [0, 4], got "
                             f"{self.min_joints}, {self.min_torso_joints}")

    @property
    def reasons(self) -> tuple[str, str]:
        """The skip reasons of the two checks, in the order of :meth:`failures`."""
        return (f"fewer than {self.min_joints} observed joints",
                f"fewer than {self.min_torso_joints} of shoulders and hips observed")

    def failures(self, visible: Mask) -> tuple[Mask, Mask]:
        """(...) bool each: which of the (..., 17) bool masks have too few observed joints, and
        which too few observed shoulders and hips."""
        return visible.sum(-1) < self.min_joints, visible[..., _TORSO_INDEX].sum(-1) < self.min_torso_joints

    def passes(self, visible: Mask) -> Mask:
        """(...) bool: which of the (..., 17) bool masks are enough to lift."""
        too_few, too_few_torso = self.failures(visible)
        return ~(too_few | too_few_torso)
