import numpy as np
import pytest

from poselifter_core.camera import (Intrinsics, back_project, distort_points, intrinsics_from_matrices, project,
                                    undistort_points)
from poselifter_core.skeleton import COCO17, H36M17, get_skeleton


def test_h36m_skeleton_data():
    assert H36M17.num_joints == 17 and H36M17.root == 0 and H36M17.joint_names[0] == "Hip"
    flip = H36M17.flip_index
    assert np.array_equal(flip[flip], np.arange(17))  # an involution
    for left, right in H36M17.flip_pairs:
        assert H36M17.joint_names[left][0] == "L" and H36M17.joint_names[right][0] == "R"
    assert len(H36M17.bones) == 16
    assert get_skeleton("coco17") is COCO17
    with pytest.raises(KeyError, match="unknown skeleton"):
        get_skeleton("nope")


def test_wrong_joint_count_error():
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 17, D\)"):
        H36M17.check_joint_count(np.zeros((4, 16, 2)))


@pytest.mark.parametrize("K, message", [
    (np.zeros((3, 3)), "all zeros"),
    (np.array([[500, 0, 320], [0, -500, 240], [0, 0, 1.0]]), "positive"),
    (np.array([[500, 0, 320], [0, 500, np.nan], [0, 0, 1.0]]), "NaN"),
    (np.array([[500, 3, 320], [0, 500, 240], [0, 0, 1.0]]), "skew"),
    (np.array([[500, 0, 320], [0, 500, 240], [0, 0, 2.0]]), "pinhole"),
    (np.eye(4), "3x3"),
])
def test_bad_camera_matrix_is_rejected(K, message):
    with pytest.raises(ValueError, match=message):
        Intrinsics.from_matrix(K)


def test_matrix_and_projection_matrix_readers():
    K = [600.0, 0, 320.5, 0, 610.0, 240.5, 0, 0, 1]
    cam = Intrinsics.from_matrix(K)
    assert (cam.fx, cam.fy, cam.cx, cam.cy) == (600.0, 610.0, 320.5, 240.5)
    P = np.array([[600.0, 0, 320.5, -30.0], [0, 610.0, 240.5, 0], [0, 0, 1, 0]])
    assert Intrinsics.from_projection(P) == cam
    batch = intrinsics_from_matrices(np.stack([cam.matrix, cam.matrix]))
    assert batch.shape == (2, 4) and np.allclose(batch[1], cam.as_array())
    with pytest.raises(ValueError, match="not an unskewed pinhole"):
        intrinsics_from_matrices(np.stack([cam.matrix, np.eye(3) * [[1, 1, 1], [1, 1, 1], [1, 1, 2]]]))


def test_projection_and_back_projection_round_trip():
    rng = np.random.default_rng(0)
    points = rng.uniform([-2000, -1500, 1000], [2000, 1500, 9000], (50, 17, 3))
    intr = np.array([900.0, 880.0, 640.0, 360.0])
    pixels = project(points, intr)
    assert np.allclose(pixels[0, 0], [900 * points[0, 0, 0] / points[0, 0, 2] + 640, 880 * points[0, 0, 1] / points[0, 0, 2] + 360])
    assert np.allclose(back_project(pixels, points[..., 2], intr), points)
    with pytest.raises(ValueError, match="behind the camera"):
        project(np.array([[[0.0, 0.0, -1.0]]]), intr)


def test_fov_intrinsics():
    cam = Intrinsics.from_fov(640, 480, 90.0)
    assert np.isclose(cam.fx, 320.0) and cam.cx == 319.5


def test_plumb_bob_undistort_inverts_distort():
    cam = Intrinsics(800, 800, 640, 360)
    coeffs = np.array([-0.28, 0.07, 0.0008, -0.0005, 0.0])
    ideal = np.random.default_rng(1).uniform([100, 80], [1180, 640], (200, 2))
    distorted = distort_points(ideal, cam, coeffs)
    assert np.abs(distorted - ideal).max() > 5  # the distortion is real
    assert np.allclose(undistort_points(distorted, cam, coeffs), ideal, atol=1e-3)
    assert np.array_equal(undistort_points(ideal, cam, np.zeros(5)), ideal)
    with pytest.raises(ValueError, match="at most 5"):
        undistort_points(ideal, cam, np.zeros(8))
