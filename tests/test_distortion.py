"""Lens distortion models against OpenCV (the reference implementation of all three)."""
from __future__ import annotations

import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.distortion import Distortion, distort_points, undistort_points

cv2 = pytest.importorskip("cv2")  # test extra: opencv-python-headless

CAMERA = Intrinsics(800.0, 790.0, 640.0, 360.0)
LENSES = {
    "plumb_bob": Distortion("plumb_bob", (-0.28, 0.07, 0.0008, -0.0005, 0.01)),
    "rational_polynomial": Distortion("rational_polynomial", (0.4, -0.1, 0.001, 0.0005, 0.02, 0.7, -0.05, 0.03)),
    "equidistant": Distortion("equidistant", (-0.02, 0.01, -0.005, 0.001)),
}


def _ideal_pixels() -> np.ndarray:
    return np.random.default_rng(1).uniform([100, 80], [1180, 640], (300, 2))


def _opencv_distort(pixels: np.ndarray, lens: Distortion) -> np.ndarray:
    K, D = CAMERA.matrix, np.array(lens.coeffs)
    rays = np.concatenate([(pixels - [CAMERA.cx, CAMERA.cy]) / [CAMERA.fx, CAMERA.fy], np.ones((len(pixels), 1))], 1)
    rays = rays[:, None, :].astype(np.float64)
    zero = np.zeros(3)
    if lens.model == "equidistant":
        projected, _ = cv2.fisheye.projectPoints(rays, zero, zero, K, D)
    else:
        projected, _ = cv2.projectPoints(rays, zero, zero, K, D)
    return projected.reshape(-1, 2)


def _opencv_undistort(pixels: np.ndarray, lens: Distortion) -> np.ndarray:
    K, D, points = CAMERA.matrix, np.array(lens.coeffs), pixels[:, None, :].astype(np.float64)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)  # OpenCV's default stops after 5
    undistort = cv2.fisheye.undistortPoints if lens.model == "equidistant" else cv2.undistortPoints
    return undistort(points, K, D, P=K, criteria=criteria).reshape(-1, 2)


@pytest.mark.parametrize("model", LENSES)
def test_distortion_matches_opencv(model: str) -> None:
    lens, ideal = LENSES[model], _ideal_pixels()
    distorted = distort_points(ideal, CAMERA, lens)
    assert np.abs(distorted - ideal).max() > 5, "the test lens distorts visibly"
    np.testing.assert_allclose(distorted, _opencv_distort(ideal, lens), atol=1e-6)
    undistorted = undistort_points(distorted, CAMERA, lens)
    np.testing.assert_allclose(undistorted, ideal, atol=1e-3)
    np.testing.assert_allclose(undistorted, _opencv_undistort(distorted, lens), atol=1e-3)


def test_zero_and_missing_distortion_change_nothing() -> None:
    pixels = _ideal_pixels()
    assert np.array_equal(undistort_points(pixels, CAMERA, None), pixels)
    assert np.array_equal(undistort_points(pixels, CAMERA, Distortion("plumb_bob", ())), pixels)


def test_short_coefficient_lists_are_padded_like_opencv() -> None:
    assert Distortion("plumb_bob", (-0.2, 0.05)).coeffs == (-0.2, 0.05, 0.0, 0.0, 0.0)
    assert len(Distortion("rational_polynomial", (0.1,) * 5).coeffs) == 8


@pytest.mark.parametrize("model, coeffs, message", [
    ("kannala_brandt", (0.1,), "unsupported distortion model"),
    ("plumb_bob", (0.1,) * 8, "at most 5"),
    ("equidistant", (0.1, float("nan")), "NaN"),
])
def test_bad_lenses_are_refused(model: str, coeffs: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Distortion(model, coeffs)


def test_points_outside_the_lens_model_become_nan() -> None:
    # Strong barrel distortion folds back beyond r ~ 1.2: a recorded point out there has no preimage.
    lens = Distortion("plumb_bob", (-0.5, 0.0, 0.0, 0.0, 0.0))
    pixels = np.array([[CAMERA.cx + 0.1 * CAMERA.fx, CAMERA.cy], [CAMERA.cx + 3.0 * CAMERA.fx, CAMERA.cy],
                       [np.nan, np.nan]])
    undistorted = undistort_points(pixels, CAMERA, lens)
    assert np.all(np.isfinite(undistorted[0])) and np.all(np.isnan(undistorted[1:]))
