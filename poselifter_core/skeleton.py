"""Skeleton definitions as data: joint names, parents, left/right flip pairs, root.

Two layouts ship with the package:

* ``H36M17``: the Human3.6M 17-joint skeleton the lifter works in (root = pelvis "Hip").
* ``COCO17``: the COCO keypoint layout produced by most 2D detectors (MoveNet among them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    """A named kinematic tree.

    ``parents[i]`` is the index of joint ``i``'s parent, ``-1`` for the root. ``flip_pairs`` lists
    (left, right) index pairs that swap under a horizontal mirror.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    root: int = 0
    _flip_index: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.joint_names)
        if len(self.parents) != n:
            raise ValueError(f"{self.name}: {n} joint names but {len(self.parents)} parents")
        if self.parents[self.root] != -1:
            raise ValueError(f"{self.name}: the root joint must have parent -1")
        index = list(range(n))
        for left, right in self.flip_pairs:
            index[left], index[right] = right, left
        object.__setattr__(self, "_flip_index", tuple(index))

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def flip_index(self) -> np.ndarray:
        """Permutation that swaps every left joint with its right partner."""
        return np.asarray(self._flip_index, dtype=np.int64)

    @property
    def bones(self) -> list[tuple[int, int]]:
        """(parent, child) pairs, one per non-root joint."""
        return [(p, c) for c, p in enumerate(self.parents) if p >= 0]

    def index(self, joint_name: str) -> int:
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise KeyError(f"{self.name} has no joint {joint_name!r}; joints: {self.joint_names}") from None

    def check_joint_count(self, array: np.ndarray, what: str = "keypoints") -> None:
        """Raise a clear error if ``array``'s joint axis (second to last) does not match."""
        if array.ndim < 2 or array.shape[-2] != self.num_joints:
            raise ValueError(
                f"{what}: expected shape (..., {self.num_joints}, D) for skeleton {self.name}, "
                f"got {tuple(array.shape)}"
            )

    def bone_lengths(self, joints: np.ndarray) -> np.ndarray:
        """Length of every bone, shape (..., num_joints - 1), in the joints' unit."""
        parents = [p for p, _ in self.bones]
        children = [c for _, c in self.bones]
        return np.linalg.norm(joints[..., children, :] - joints[..., parents, :], axis=-1)


H36M17 = Skeleton(
    name="h36m17",
    joint_names=(
        "Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax",
        "Neck/Nose", "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
    ),
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
    flip_pairs=((4, 1), (5, 2), (6, 3), (11, 14), (12, 15), (13, 16)),
    root=0,
)

COCO17 = Skeleton(
    name="coco17",
    joint_names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
        "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    # A tree for drawing: nose is the root, shoulders hang off it, hips off the shoulders.
    parents=(-1, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14),
    flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    root=0,
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (H36M17, COCO17)}


def get_skeleton(name: str) -> Skeleton:
    try:
        return SKELETONS[name]
    except KeyError:
        raise KeyError(f"unknown skeleton {name!r}; known: {sorted(SKELETONS)}") from None
