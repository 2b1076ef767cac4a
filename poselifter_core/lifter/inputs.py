"""The lifter's input in numpy, shared by every backend and by the network (docs/lifter_input.md):
focal-normalized rays, the location and scale of the observed joints, and the checks that turn
bad input into a clear error (:func:`prepare_input`).

:func:`rays` and :func:`observed_statistics` are written once for numpy arrays and torch tensors:
the network (torch, traced into ONNX, :mod:`.normalization`) and the decoding (numpy) compute the
same statistics. This module imports no torch (the run-time path on ONNX Runtime uses it, #16).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ..camera import validate_intrinsics_array
from ..skeleton import Skeleton
from .config import LifterConfig

if TYPE_CHECKING:
    import torch

FEATURE_MODES = ("none", "location", "scale", "both")
INPUT_SPACES = ("rays", "pixels")

#: Below this 2D scale (pixels) a pose is degenerate: all observed joints on top of each other.
MIN_SCALE_PX = 1e-3
#: The same floor in focal-normalized units (0.1 px at a 1000 px focal length); only keeps the
#: graph finite, :func:`check_keypoints` rejects such input before it reaches the network.
MIN_SCALE_RAY = 1e-4
#: Fewest observed joints the lifter itself accepts (a scale needs two distinct points); the
#: cascade's rule for people (``CascadeConfig.min_valid_joints``) is stricter.
MIN_OBSERVED_JOINTS = 2

Array = TypeVar("Array", np.ndarray, "torch.Tensor")


def rays(keypoints: Array, intrinsics: Array) -> Array:
    """(..., J, 2) pixels and (..., 4) ``[fx, fy, cx, cy]`` -> (..., J, 2) focal-normalized rays."""
    return (keypoints - intrinsics[..., None, 2:4]) / intrinsics[..., None, 0:2]


def observed_statistics(points: Array, visible: Array) -> tuple[Array, Array]:
    """Location ``mu`` (..., 2) and scale ``sigma`` (...) of (..., J, 2) points over the joints with
    ``visible`` (..., J) = 1 (eqs. 3-4 with weights). Missing points must be finite (e.g. 0)."""
    weights = visible[..., None]
    count = _at_least_one(visible.sum(axis=-1, keepdims=True))  # (..., 1)
    mu = (points * weights).sum(axis=-2) / count
    centred = (points - mu[..., None, :]) * weights
    sigma = ((centred**2).sum(axis=-1).sum(axis=-1) / count[..., 0]) ** 0.5
    return mu, sigma


def _at_least_one(count: Array) -> Array:
    """``count`` clipped below at 1; numpy's ``clip`` method costs microseconds more than
    ``maximum`` on the small arrays of one frame (#16)."""
    return np.maximum(count, 1.0) if isinstance(count, np.ndarray) else count.clip(min=1.0)


def person_scale(keypoints: Array) -> Array:
    """sigma of eq. 4 for (..., J, 2) keypoints with every joint observed."""
    ones = np.ones(keypoints.shape[:-1]) if isinstance(keypoints, np.ndarray) else keypoints.new_ones(keypoints.shape[:-1])
    return observed_statistics(keypoints, ones)[1]


def check_visible(visible: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """A (N, J) float32 0/1 mask; ``None`` means every joint observed."""
    if visible is None:
        return np.ones(shape, dtype=np.float32)
    visible = np.asarray(visible)
    if visible.ndim == 1:
        visible = visible[None]
    if visible.shape != shape:
        raise ValueError(f"visible must have shape {shape} like the keypoints, got {visible.shape}")
    return (visible > 0).astype(np.float32)


def check_keypoints(keypoints: np.ndarray, num_joints: int, visible: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Reject input the lifter cannot use, with a message that says why.

    Raises ``ValueError`` for a wrong joint count, NaN/inf coordinates on an observed joint, fewer
    than :data:`MIN_OBSERVED_JOINTS` observed joints or a degenerate pose (observed joints within
    :data:`MIN_SCALE_PX` of each other). Returns float32 (N, J, 2) keypoints, missing joints set to
    0, and the (N, J) float32 mask.
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.ndim == 2:
        keypoints = keypoints[None]
    if keypoints.ndim != 3 or keypoints.shape[1:] != (num_joints, 2):
        raise ValueError(f"keypoints must have shape (N, {num_joints}, 2), got {tuple(keypoints.shape)}")
    visible = check_visible(visible, keypoints.shape[:2])
    observed = visible > 0
    bad = ~(np.isfinite(keypoints).all(axis=2) | ~observed).all(axis=1)
    if bad.any():
        raise ValueError(f"keypoints of sample(s) {np.flatnonzero(bad)[:10].tolist()} contain NaN or inf")
    keypoints = np.where(observed[..., None], keypoints, np.float32(0.0))
    few = observed.sum(axis=1) < MIN_OBSERVED_JOINTS
    if few.any():
        raise ValueError(f"sample(s) {np.flatnonzero(few)[:10].tolist()} have fewer than {MIN_OBSERVED_JOINTS} "
                         "observed joints")
    degenerate = observed_statistics(keypoints.astype(np.float64), visible)[1] < MIN_SCALE_PX
    if degenerate.any():
        raise ValueError(
            f"degenerate 2D pose in sample(s) {np.flatnonzero(degenerate)[:10].tolist()}: "
            f"all observed joints coincide (2D scale below {MIN_SCALE_PX} px)"
        )
    return keypoints, visible


@dataclass(frozen=True)
class LifterInput:
    """A batch the lifter can run as it is: float32 (N, J, 2) pixel ``keypoints`` with missing
    joints set to 0, (N, 4) float32 ``intrinsics`` and the (N, J) float32 0/1 ``visible`` mask.

    :func:`prepare_input` makes one from anything, with every check. A caller whose own gates
    already guarantee what those checks test (the cascade) builds it directly, so a frame is not
    validated twice (#16, lift-stage overhead)."""

    keypoints: np.ndarray
    intrinsics: np.ndarray
    visible: np.ndarray

    def __len__(self) -> int:
        return len(self.keypoints)


def prepare_input(keypoints: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray | None, config: LifterConfig,
                  skeleton: Skeleton) -> LifterInput:
    """Checked float32 (N, J, 2) keypoints (missing joints 0), (N, 4) intrinsics and (N, J) mask.

    ``visible`` None means every joint observed. A model without the mask input (written before
    #18) refuses missing joints with ``ValueError`` ("model takes no missing joints").
    """
    keypoints, visible = check_keypoints(keypoints, skeleton.num_joints, visible)
    if not config.takes_mask and (visible < 1).any():
        raise ValueError("model takes no missing joints (a pixel-space lifter from before the visibility mask)")
    intrinsics = validate_intrinsics_array(intrinsics)
    intrinsics = np.broadcast_to(intrinsics, (len(keypoints), 4)) if intrinsics.ndim == 1 else intrinsics
    if len(intrinsics) != len(keypoints):
        raise ValueError(f"{len(keypoints)} poses but {len(intrinsics)} intrinsics")
    return LifterInput(keypoints, np.ascontiguousarray(intrinsics, dtype=np.float32), visible)
