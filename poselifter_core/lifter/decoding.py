"""The one decoding of the lifter's raw output into camera-frame poses (docs/lifter_input.md).

Every backend (PyTorch, ONNX Runtime, TensorRT), evaluation and training validation call
:func:`decode` on the network's raw output, in numpy, so they agree exactly.

Root depth ``Z`` from ``raw[0]`` (``LifterConfig.depth_output``):

* ``log_size``: ``raw[0] = ln(Z[m] * sigma)`` with ``sigma`` the scale of the observed joints'
  focal-normalized rays (:func:`.normalization.observed_statistics`), so ``Z = exp(raw[0]) / sigma``.
  ``Z * sigma`` is a metric body size, nearly constant whatever the distance or the camera; in log
  space the loss is a relative depth error and ``Z`` is positive by construction.
* ``canonical`` (checkpoints before #18, paper eq. 7): ``raw[0] = Z[m] / sqrt(fx fy) * f0``.
* ``metres`` (Table 6 ablation): ``raw[0] = Z[m]``.

Root X, Y: with the pelvis observed, eq. 6 (``X = r_x Z``, ``Y = r_y Z`` with the pelvis ray
``r``). With the pelvis missing, least squares over the observed joints: placing the predicted
root-relative body ``P_i`` at ``R = (X, Y, Z)``, joint i projects to ``(X + P_ix) / (Z + P_iz)``,
so with ``Z`` fixed each observed joint gives ``X = r_ix (Z + P_iz) - P_ix``; the least-squares
``X`` is their mean (``Y`` likewise). It is exact for an exact pose and is the root that best
reprojects the predicted body onto what was seen.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..camera import MM_PER_M, focal_alpha
from ..skeleton import Skeleton
from .config import LifterConfig
from .inputs import MIN_SCALE_RAY, LifterInput, observed_statistics, rays


@dataclass
class LiftResult:
    """Per-sample results in camera-frame millimetres (x right, y down, z forward)."""

    relative: np.ndarray  # (N, J, 3) root-relative joints
    root: np.ndarray  # (N, 3) absolute root
    absolute: np.ndarray  # (N, J, 3)
    canonical_depth: np.ndarray  # (N,) root depth / sqrt(fx fy), mm per pixel of focal length

    @classmethod
    def empty(cls, num_joints: int) -> "LiftResult":
        return cls(np.zeros((0, num_joints, 3), np.float32), np.zeros((0, 3), np.float32),
                   np.zeros((0, num_joints, 3), np.float32), np.zeros(0, np.float32))


class Lifter(Protocol):
    """Anything that lifts like ``inference.TorchLifter`` (e.g. ``runtime.LifterRuntime`` on any backend)."""

    config: LifterConfig

    def lift(self, keypoints: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray | None = None) -> LiftResult: ...

    def lift_input(self, batch: LifterInput) -> LiftResult: ...


def root_depth_mm(encoded: np.ndarray, ray: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray,
                  config: LifterConfig) -> np.ndarray:
    """(N,) root depth in mm from the depth output ``raw[:, 0]``; ``ray``: the (N, J, 2) input rays."""
    encoded = np.asarray(encoded, dtype=np.float64)
    if config.depth_output == "log_size":
        sigma = observed_statistics(ray, visible)[1]
        return MM_PER_M * np.exp(encoded) / np.maximum(sigma, MIN_SCALE_RAY)
    if config.depth_output == "canonical":
        return encoded * MM_PER_M / config.f0 * focal_alpha(intrinsics)
    return encoded * MM_PER_M


def place_root(relative_mm: np.ndarray, root_z_mm: np.ndarray, ray: np.ndarray, visible: np.ndarray,
               root: int) -> np.ndarray:
    """(N, 3) absolute root from the (N, J, 2) input rays: eq. 6 on the root's ray if observed,
    else least squares (module docstring)."""
    count = len(visible)
    pelvis_seen = visible[:, root:root + 1] > 0
    weights = np.where(pelvis_seen, np.arange(visible.shape[1]) == root, visible)  # seen: its ray alone, eq. 6
    depth = root_z_mm[:, None] + relative_mm[..., 2]  # (N, J)
    candidates = ray * depth[..., None] - relative_mm[..., :2]  # (N, J, 2): X, Y each joint implies
    # np.add.reduce: the same sums as ndarray.sum without its Python wrapper (this runs every frame, #16)
    seen = np.maximum(np.add.reduce(weights, axis=1, keepdims=True), 1.0)
    placed = np.empty((count, 3))
    placed[:, :2] = np.add.reduce(candidates * weights[..., None], axis=1) / seen
    placed[:, 2] = root_z_mm
    return placed


def decode(raw: np.ndarray, keypoints: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray,
           config: LifterConfig, skeleton: Skeleton) -> LiftResult:
    """Raw (N, 3J - 2) network output + its input (pixels, (N, 4) intrinsics, (N, J) mask) -> poses in mm.
    Missing joints' coordinates are not used (NaN or inf there count as 0)."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    keypoints = np.where(np.isfinite(keypoints), keypoints, 0.0)
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    visible = np.asarray(visible, dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64)
    ray = rays(keypoints, intrinsics)
    relative = insert_root(raw[:, 1:].reshape(len(raw), -1, 3) * MM_PER_M, skeleton.root)
    root_z = root_depth_mm(raw[:, 0], ray, intrinsics, visible, config)
    root = place_root(relative, root_z, ray, visible, skeleton.root)
    relative, root = relative.astype(np.float32), root.astype(np.float32)
    return LiftResult(relative, root, root[:, None, :] + relative, (root_z / focal_alpha(intrinsics)).astype(np.float32))


def insert_root(non_root: np.ndarray, root: int) -> np.ndarray:
    """(N, J-1, 3) -> (N, J, 3) with a zero row at the root index."""
    joints = np.zeros((non_root.shape[0], non_root.shape[1] + 1, non_root.shape[2]), dtype=non_root.dtype)
    joints[:, :root] = non_root[:, :root]
    joints[:, root + 1:] = non_root[:, root:]
    return joints
