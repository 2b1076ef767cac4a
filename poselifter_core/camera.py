"""Pinhole camera geometry: intrinsics, projection, back-projection (lens distortion: :mod:`.distortion`).

Conventions follow the camera optical frame of REP-103: x right, y down, z forward. Pixel
coordinates have their origin at the top-left pixel's centre convention used by ROS CameraInfo.
Array helpers take intrinsics as ``(..., 4)`` arrays ``[fx, fy, cx, cy]`` so batches of samples
with different cameras are handled without Python loops.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

#: Millimetres per metre: the lifter and the mocap work in mm, every output is in metres (REP-103).
MM_PER_M = 1000.0


@dataclass(frozen=True)
class Intrinsics:
    """Focal lengths and principal point in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        validate_intrinsics_array(self.as_array())

    @classmethod
    def from_matrix(cls, K: np.ndarray | list) -> "Intrinsics":
        """Read a 3x3 camera matrix (or the 9-element row-major list of a ROS CameraInfo)."""
        K = np.asarray(K, dtype=np.float64)
        if K.size == 9:
            K = K.reshape(3, 3)
        if K.shape != (3, 3):
            raise ValueError(f"K must be 3x3 (or 9 values), got shape {K.shape}")
        return cls(*(float(v) for v in intrinsics_from_matrices(K)[0]))

    @classmethod
    def from_projection(cls, P: np.ndarray | list) -> "Intrinsics":
        """Read the left 3x3 block of a 3x4 projection matrix (ROS CameraInfo.p, rectified images)."""
        P = np.asarray(P, dtype=np.float64)
        if P.size == 12:
            P = P.reshape(3, 4)
        if P.shape != (3, 4):
            raise ValueError(f"P must be 3x4 (or 12 values), got shape {P.shape}")
        return cls.from_matrix(P[:, :3])

    @classmethod
    @lru_cache(maxsize=32)  # the cascade asks for the same assumed camera every frame
    def from_fov(cls, width: int, height: int, horizontal_fov_deg: float) -> "Intrinsics":
        """A square-pixel camera with the given horizontal field of view, centred principal point."""
        if not 1.0 < horizontal_fov_deg < 179.0:
            raise ValueError(f"horizontal field of view must be in (1, 179) degrees, got {horizontal_fov_deg}")
        f = 0.5 * width / np.tan(np.radians(horizontal_fov_deg) / 2.0)
        return cls(fx=f, fy=f, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0)

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def as_array(self) -> np.ndarray:
        return np.array([self.fx, self.fy, self.cx, self.cy], dtype=np.float64)


def intrinsics_from_matrices(K: np.ndarray) -> np.ndarray:
    """(N, 3, 3) camera matrices -> (N, 4) ``[fx, fy, cx, cy]``: the one check of a camera matrix
    (finite, not all zeros, unskewed upper-triangular pinhole, then :func:`validate_intrinsics_array`)."""
    K = np.asarray(K, dtype=np.float64)
    if K.ndim == 2:
        K = K[None]
    if K.shape[1:] != (3, 3):
        raise ValueError(f"camera matrices must have shape (N, 3, 3), got {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError("camera matrices contain NaN or inf")
    zero = np.flatnonzero(~np.any(K, axis=(1, 2)))
    if zero.size:
        raise ValueError(f"K is all zeros (an uncalibrated CameraInfo?): camera matrix {zero[0]}")
    bad = np.flatnonzero(
        (np.abs(K[:, 0, 1]) > 1e-6 * np.maximum(np.abs(K[:, 0, 0]), 1.0))
        | (K[:, 1, 0] != 0.0)
        | np.any(np.abs(K[:, 2] - [0.0, 0.0, 1.0]) > 1e-9, axis=1)
    )
    if bad.size:
        raise ValueError(f"camera matrix {bad[0]} is not an unskewed pinhole matrix: {K[bad[0]].tolist()}")
    return validate_intrinsics_array(np.stack([K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2]], axis=1))


def validate_intrinsics_array(intrinsics: np.ndarray) -> np.ndarray:
    """Check an (..., 4) intrinsics array: finite values and positive focal lengths (the one
    intrinsics validator: :class:`Intrinsics` and :func:`intrinsics_from_matrices` call it)."""
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    if intrinsics.shape[-1] != 4:
        raise ValueError(f"intrinsics must have shape (..., 4) = [fx, fy, cx, cy], got {intrinsics.shape}")
    if not np.all(np.isfinite(intrinsics)):
        raise ValueError("intrinsics contain NaN or inf")
    if np.any(intrinsics[..., :2] <= 0):
        raise ValueError("focal lengths must be positive")
    return intrinsics


def focal_alpha(intrinsics: Any) -> Any:
    """The paper's alpha = sqrt(fx * fy) (eq. 7) of (..., 4) intrinsics -> (...).

    Array-likes give float64 numpy; a torch tensor stays a tensor (training targets)."""
    if not hasattr(intrinsics, "detach"):
        intrinsics = np.asarray(intrinsics, dtype=np.float64)
    return (intrinsics[..., 0] * intrinsics[..., 1]) ** 0.5


def project(points: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame points (..., J, 3) with intrinsics (..., 4) -> (..., J, 2)."""
    intrinsics = np.asarray(intrinsics, dtype=np.float64)[..., None, :]
    z = points[..., 2]
    if np.any(z <= 0):
        raise ValueError("cannot project points at or behind the camera (z <= 0)")
    u = intrinsics[..., 0] * points[..., 0] / z + intrinsics[..., 2]
    v = intrinsics[..., 1] * points[..., 1] / z + intrinsics[..., 3]
    return np.stack([u, v], axis=-1)


def back_project(pixels: np.ndarray, depth: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """Camera-frame points for pixels (..., 2) at depth z (...) with intrinsics (..., 4) -> (..., 3).

    This is eq. 6 of the PoseLifter paper with separate fx and fy (identical when fx == fy).
    """
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    depth = np.asarray(depth, dtype=np.float64)
    x = (pixels[..., 0] - intrinsics[..., 2]) * depth / intrinsics[..., 0]
    y = (pixels[..., 1] - intrinsics[..., 3]) * depth / intrinsics[..., 1]
    return np.stack([x, y, depth], axis=-1)
