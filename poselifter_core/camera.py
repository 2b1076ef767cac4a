"""Pinhole camera geometry: intrinsics, projection, back-projection, plumb_bob distortion.

Conventions follow the camera optical frame of REP-103: x right, y down, z forward. Pixel
coordinates have their origin at the top-left pixel's centre convention used by ROS CameraInfo.
Array helpers take intrinsics as ``(..., 4)`` arrays ``[fx, fy, cx, cy]`` so batches of samples
with different cameras are handled without Python loops.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Focal lengths and principal point in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        values = np.array([self.fx, self.fy, self.cx, self.cy], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"camera intrinsics must be finite, got {values.tolist()}")
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")

    @classmethod
    def from_matrix(cls, K: np.ndarray | list) -> "Intrinsics":
        """Read a 3x3 camera matrix (or the 9-element row-major list of a ROS CameraInfo)."""
        K = np.asarray(K, dtype=np.float64)
        if K.size == 9:
            K = K.reshape(3, 3)
        if K.shape != (3, 3):
            raise ValueError(f"K must be 3x3 (or 9 values), got shape {K.shape}")
        if not np.all(np.isfinite(K)):
            raise ValueError("K contains NaN or inf")
        if not np.any(K):
            raise ValueError("K is all zeros (an uncalibrated CameraInfo?)")
        if abs(K[0, 1]) > 1e-6 * max(abs(K[0, 0]), 1.0):
            raise ValueError(f"skewed cameras are not supported (K[0,1] = {K[0, 1]})")
        if not np.allclose(K[2], [0.0, 0.0, 1.0]) or K[1, 0] != 0.0:
            raise ValueError(f"K is not an upper-triangular pinhole matrix: {K.tolist()}")
        return cls(fx=float(K[0, 0]), fy=float(K[1, 1]), cx=float(K[0, 2]), cy=float(K[1, 2]))

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
    """(N, 3, 3) camera matrices -> (N, 4) ``[fx, fy, cx, cy]``, validated like :meth:`Intrinsics.from_matrix`."""
    K = np.asarray(K, dtype=np.float64)
    if K.ndim == 2:
        K = K[None]
    if K.shape[1:] != (3, 3):
        raise ValueError(f"camera matrices must have shape (N, 3, 3), got {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError("camera matrices contain NaN or inf")
    bad = np.flatnonzero(
        (np.abs(K[:, 0, 1]) > 1e-6 * np.maximum(np.abs(K[:, 0, 0]), 1.0))
        | (K[:, 1, 0] != 0.0)
        | np.any(np.abs(K[:, 2] - [0.0, 0.0, 1.0]) > 1e-9, axis=1)
    )
    if bad.size:
        raise ValueError(f"camera matrix {bad[0]} is not an unskewed pinhole matrix: {K[bad[0]].tolist()}")
    return validate_intrinsics_array(np.stack([K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2]], axis=1))


def validate_intrinsics_array(intrinsics: np.ndarray) -> np.ndarray:
    """Check an (..., 4) intrinsics array: finite values and positive focal lengths."""
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    if intrinsics.shape[-1] != 4:
        raise ValueError(f"intrinsics must have shape (..., 4) = [fx, fy, cx, cy], got {intrinsics.shape}")
    if not np.all(np.isfinite(intrinsics)):
        raise ValueError("intrinsics contain NaN or inf")
    if np.any(intrinsics[..., :2] <= 0):
        raise ValueError("focal lengths must be positive")
    return intrinsics


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


def distort_points(pixels: np.ndarray, intrinsics: Intrinsics, coeffs: np.ndarray) -> np.ndarray:
    """Apply the plumb_bob (OpenCV 5-parameter k1, k2, p1, p2, k3) model to ideal pixels."""
    k1, k2, p1, p2, k3 = _plumb_bob(coeffs)
    x = (pixels[..., 0] - intrinsics.cx) / intrinsics.fx
    y = (pixels[..., 1] - intrinsics.cy) / intrinsics.fy
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd * intrinsics.fx + intrinsics.cx, yd * intrinsics.fy + intrinsics.cy], axis=-1)


def undistort_points(
    pixels: np.ndarray, intrinsics: Intrinsics, coeffs: np.ndarray, iterations: int = 20
) -> np.ndarray:
    """Invert :func:`distort_points` by fixed-point iteration (as OpenCV's undistortPoints does).

    Lift undistorted keypoints: the lifter's geometry (eqs. 1-7) assumes an ideal pinhole camera.
    """
    k1, k2, p1, p2, k3 = _plumb_bob(coeffs)
    if not np.any([k1, k2, p1, p2, k3]):
        return np.array(pixels, dtype=np.float64, copy=True)
    xd = (pixels[..., 0] - intrinsics.cx) / intrinsics.fx
    yd = (pixels[..., 1] - intrinsics.cy) / intrinsics.fy
    x, y = xd.copy(), yd.copy()
    for _ in range(iterations):
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
        dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        x = (xd - dx) / radial
        y = (yd - dy) / radial
    return np.stack([x * intrinsics.fx + intrinsics.cx, y * intrinsics.fy + intrinsics.cy], axis=-1)


def _plumb_bob(coeffs: np.ndarray) -> tuple[float, float, float, float, float]:
    c = np.zeros(5)
    coeffs = np.asarray(coeffs, dtype=np.float64).ravel()
    if coeffs.size > 5:
        raise ValueError(f"plumb_bob takes at most 5 coefficients (k1, k2, p1, p2, k3), got {coeffs.size}")
    if not np.all(np.isfinite(coeffs)):
        raise ValueError("distortion coefficients contain NaN or inf")
    c[: coeffs.size] = coeffs
    return tuple(float(v) for v in c)  # type: ignore[return-value]
