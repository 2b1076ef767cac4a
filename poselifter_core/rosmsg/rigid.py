"""A rigid transform (a TF lookup's rotation and translation) applied to cascade results, for
publishing in a ``target_frame`` other than the image's optical frame."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..cascade import CascadeResult


@dataclass(frozen=True)
class RigidTransform:
    """``p_target = rotation @ p_source + translation`` (metres)."""

    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))

    @classmethod
    def from_quaternion(cls, xyzw: tuple[float, float, float, float],
                        translation: tuple[float, float, float]) -> "RigidTransform":
        """From a geometry_msgs/Transform's rotation (x, y, z, w; normalized here) and translation."""
        q = np.asarray(xyzw, dtype=np.float64)
        norm = np.linalg.norm(q)
        if not np.isfinite(norm) or norm < 1e-9 or not np.all(np.isfinite(translation)):
            raise ValueError(f"not a usable transform: rotation {list(xyzw)}, translation {list(translation)}")
        x, y, z, w = q / norm
        rotation = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                             [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                             [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
        return cls(rotation, np.asarray(translation, dtype=np.float64))

    def apply(self, points: np.ndarray) -> np.ndarray:
        return points @ self.rotation.T + self.translation


def reframe(result: CascadeResult, transform: RigidTransform) -> CascadeResult:
    """The result's 3D joints and roots in the target frame (2D keypoints untouched)."""
    people = [replace(p, joints_m=transform.apply(p.joints_m), root_m=transform.apply(p.root_m),
                      relative_m=p.relative_m @ transform.rotation.T) for p in result.people]
    return replace(result, people=people)
