"""Lens distortion of ROS CameraInfo (``distortion_model`` + ``D``), to undistort 2D keypoints.

The lifter's geometry (eqs. 1-7, docs/lifter_input.md) assumes an ideal pinhole camera, so
keypoints found on a raw image (``image_raw``) are undistorted with K and D before lifting.
Three models, as ROS camera drivers and OpenCV define them (``x, y`` normalized image
coordinates ``((u - cx) / fx, (v - cy) / fy)``, ``r2 = x^2 + y^2``):

* ``plumb_bob`` (OpenCV's 5-parameter model): D = k1, k2, p1, p2, k3;
* ``rational_polynomial`` (OpenCV's 8-parameter model): D = k1, k2, p1, p2, k3, k4, k5, k6, radial
  factor ``(1 + k1 r2 + k2 r2^2 + k3 r2^3) / (1 + k4 r2 + k5 r2^2 + k6 r2^3)``;
* ``equidistant`` (OpenCV's fisheye model): D = k1, k2, k3, k4 on the angle ``theta = atan(r)``,
  ``theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)``.

Fewer coefficients than a model has are padded with zeros (as OpenCV does). Undistortion is
iterative; a point where it does not converge (far outside the calibrated field of view) comes
back as NaN, so the caller can skip that person instead of lifting a wrong pose.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import Intrinsics

#: Number of coefficients of each supported model (``CameraInfo.distortion_model`` names).
MODEL_COEFFICIENTS = {"plumb_bob": 5, "rational_polynomial": 8, "equidistant": 4}
DISTORTION_MODELS = tuple(MODEL_COEFFICIENTS)
#: Largest re-distortion error of an accepted undistorted point, in normalized coordinates
#: (1e-6 is a thousandth of a pixel at a 1000 px focal length).
CONVERGENCE_TOLERANCE = 1e-6
MAX_ITERATIONS = 50


@dataclass(frozen=True)
class Distortion:
    """A distortion model and its coefficients (padded to the model's count)."""

    model: str
    coeffs: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.model not in MODEL_COEFFICIENTS:
            raise ValueError(f"unsupported distortion model {self.model!r}; supported: {', '.join(DISTORTION_MODELS)}")
        coeffs = np.asarray(self.coeffs, dtype=np.float64).ravel()
        count = MODEL_COEFFICIENTS[self.model]
        if coeffs.size > count:
            raise ValueError(f"{self.model} takes at most {count} coefficients, got {coeffs.size}")
        if not np.all(np.isfinite(coeffs)):
            raise ValueError("distortion coefficients contain NaN or inf")
        object.__setattr__(self, "coeffs", tuple(float(c) for c in np.pad(coeffs, (0, count - coeffs.size))))

    @property
    def is_zero(self) -> bool:
        return not any(self.coeffs)


def distort_normalized(xy: np.ndarray, distortion: Distortion) -> np.ndarray:
    """Ideal normalized coordinates (..., 2) -> distorted normalized coordinates."""
    x, y = xy[..., 0], xy[..., 1]
    if distortion.model == "equidistant":
        k1, k2, k3, k4 = distortion.coeffs
        r = np.hypot(x, y)
        theta = np.arctan(r)
        t2 = theta * theta
        theta_d = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))
        scale = np.divide(theta_d, r, out=np.ones_like(r), where=r > 1e-12)
        return np.stack([x * scale, y * scale], axis=-1)
    radial, dx, dy = _radial_tangential(x, y, distortion)
    return np.stack([x * radial + dx, y * radial + dy], axis=-1)


def undistort_normalized(xy_d: np.ndarray, distortion: Distortion) -> np.ndarray:
    """Invert :func:`distort_normalized`; NaN where the iteration does not converge."""
    xy_d = np.asarray(xy_d, dtype=np.float64)
    if distortion.is_zero:
        return xy_d.copy()
    with np.errstate(all="ignore"):
        xy = _undistort_equidistant(xy_d, distortion) if distortion.model == "equidistant" \
            else _undistort_fixed_point(xy_d, distortion)
        error = np.linalg.norm(distort_normalized(xy, distortion) - xy_d, axis=-1)
    xy[~(error <= CONVERGENCE_TOLERANCE)] = np.nan
    return xy


def distort_points(pixels: np.ndarray, intrinsics: Intrinsics, distortion: Distortion) -> np.ndarray:
    """Ideal pixels (..., 2) -> the pixels a camera with this lens records."""
    return _to_pixels(distort_normalized(_normalized(pixels, intrinsics), distortion), intrinsics)


def undistort_points(pixels: np.ndarray, intrinsics: Intrinsics, distortion: Distortion | None) -> np.ndarray:
    """Recorded pixels (..., 2) -> ideal pinhole pixels of the same K (as OpenCV's
    ``undistortPoints(src, K, D, P=K)``); NaN stays NaN, non-convergence gives NaN."""
    pixels = np.asarray(pixels, dtype=np.float64)
    if distortion is None or distortion.is_zero:
        return pixels.copy()
    return _to_pixels(undistort_normalized(_normalized(pixels, intrinsics), distortion), intrinsics)


def _normalized(pixels: np.ndarray, k: Intrinsics) -> np.ndarray:
    pixels = np.asarray(pixels, dtype=np.float64)
    return np.stack([(pixels[..., 0] - k.cx) / k.fx, (pixels[..., 1] - k.cy) / k.fy], axis=-1)


def _to_pixels(xy: np.ndarray, k: Intrinsics) -> np.ndarray:
    return np.stack([xy[..., 0] * k.fx + k.cx, xy[..., 1] * k.fy + k.cy], axis=-1)


def _radial_tangential(x: np.ndarray, y: np.ndarray, distortion: Distortion
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radial factor and tangential offsets of plumb_bob / rational_polynomial."""
    k1, k2, p1, p2, k3, *rational = distortion.coeffs
    k4, k5, k6 = rational or (0.0, 0.0, 0.0)
    r2 = x * x + y * y
    radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return radial, dx, dy


def _undistort_fixed_point(xy_d: np.ndarray, distortion: Distortion) -> np.ndarray:
    """OpenCV's undistortPoints iteration: x = (x_d - tangential(x)) / radial(x)."""
    xd, yd = xy_d[..., 0], xy_d[..., 1]
    x, y = xd.copy(), yd.copy()
    for _ in range(MAX_ITERATIONS):
        radial, dx, dy = _radial_tangential(x, y, distortion)
        x, y = (xd - dx) / radial, (yd - dy) / radial
    return np.stack([x, y], axis=-1)


def _undistort_equidistant(xy_d: np.ndarray, distortion: Distortion) -> np.ndarray:
    """Newton's method on theta_d(theta), then r = tan(theta) along the same direction."""
    k1, k2, k3, k4 = distortion.coeffs
    theta_d = np.hypot(xy_d[..., 0], xy_d[..., 1])
    theta = theta_d.copy()
    for _ in range(MAX_ITERATIONS):
        t2 = theta * theta
        value = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)))) - theta_d
        slope = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + t2 * 9 * k4)))
        theta = theta - value / slope
    theta[(theta < 0) | (theta >= np.pi / 2)] = np.nan  # behind or beside the camera
    scale = np.divide(np.tan(theta), theta_d, out=np.ones_like(theta_d), where=theta_d > 1e-12)
    return xy_d * scale[..., None]
