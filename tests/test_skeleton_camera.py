import numpy as np
import pytest

from poselifter_core.camera import Intrinsics, back_project, focal_alpha, intrinsics_from_matrices, project
from poselifter_core.infer import CameraSpec
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


@pytest.mark.parametrize("spec, message", [
    (dict(fy=500.0), r"--fy needs --fx"),
    (dict(cx=320.0, cy=240.0), r"--cx/--cy need --fx"),
    (dict(hfov_deg=60.0, cy=240.0), r"--cy needs --fx"),
    (dict(fx=500.0, hfov_deg=60.0), "either --fx or --fov"),
])
def test_camera_spec_rejects_partial_or_conflicting_values(spec, message):
    with pytest.raises(ValueError, match=message):
        CameraSpec(**spec)


def test_camera_spec_completes_fx_and_falls_back_to_a_field_of_view():
    assert CameraSpec(fx=500.0, cy=100.0).intrinsics(641, 481) == Intrinsics(500.0, 500.0, 320.0, 100.0)
    assert CameraSpec(hfov_deg=90.0).intrinsics(640, 480) == Intrinsics.from_fov(640, 480, 90.0)
    assert CameraSpec().intrinsics(640, 480) is None


def test_focal_alpha_is_the_geometric_mean_of_the_focal_lengths():
    np.testing.assert_allclose(focal_alpha(np.array([[400.0, 900.0, 1.0, 2.0], [500.0, 500.0, 0.0, 0.0]])), [600.0, 500.0])
