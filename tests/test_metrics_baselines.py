import numpy as np

from poselifter_core.baselines import analytic_root
from poselifter_core.camera import project
from poselifter_core.metrics import auc3d, mpjpe, pa_mpjpe, pck3d, procrustes_align, root_errors

from conftest import REST_POSE


def _rotation(axis: int, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def test_mpjpe_hand_case():
    gt = np.zeros((1, 17, 3))
    gt[0, 1:, 0] = np.arange(1, 17) * 100.0
    pred = gt + [500.0, 0, 0]  # a pure translation is removed by root alignment
    assert mpjpe(pred, gt)[0] == 0.0
    pred = gt.copy()
    pred[0, 5] += [0, 0, 170.0]  # one joint off by 170 mm
    assert np.isclose(mpjpe(pred, gt)[0], 10.0)  # 170 / 17 joints, root included
    assert np.isclose(mpjpe(pred, gt, include_root=False)[0], 170.0 / 16)


def test_pa_mpjpe_removes_similarity_transform():
    gt = REST_POSE[None] - REST_POSE[0]
    pred = 1.3 * gt @ _rotation(1, 40).T + [10.0, -5.0, 30.0]
    assert mpjpe(pred, gt)[0] > 50
    assert pa_mpjpe(pred, gt)[0] < 1e-6


def test_pa_mpjpe_reflection_fix():
    gt = REST_POSE[None] - REST_POSE[0]
    gt = gt + np.random.default_rng(0).normal(0, 40, gt.shape)  # break the symmetry of the rest pose
    mirrored = gt * [-1.0, 1.0, 1.0]
    aligned = procrustes_align(mirrored, gt)
    # the alignment must be a proper rotation: a mirror image cannot be aligned perfectly
    assert pa_mpjpe(mirrored, gt)[0] > 5.0
    p = mirrored - mirrored.mean(axis=1, keepdims=True)
    a = aligned - aligned.mean(axis=1, keepdims=True)
    transform, *_ = np.linalg.lstsq(p[0], a[0], rcond=None)
    assert np.linalg.det(transform) > 0


def test_root_errors_and_pck_auc():
    errors = root_errors(np.array([[30.0, -40.0, 0.0]]), np.zeros((1, 3)))
    assert np.allclose(errors, [[50.0, 30.0, 40.0, 0.0]])
    gt = np.zeros((1, 17, 3))
    pred = gt.copy()
    pred[0, 1:9, 2] = 100.0  # 8 joints at 100 mm, 8 at 200 mm, root exact
    pred[0, 9:, 2] = 200.0
    assert np.isclose(pck3d(pred, gt)[0], 9 / 17)
    # AUC over thresholds 0..150 step 5 (31 thresholds): root counts for all 31, the 100 mm joints for 11
    assert np.isclose(auc3d(pred, gt)[0], (31 + 8 * 11) / (31 * 17))


def test_analytic_root_recovers_depth_under_weak_perspective():
    # a flat pose facing the camera: weak perspective is exact, so the root is recovered exactly
    relative = REST_POSE.copy() - REST_POSE[0]
    relative[:, 2] = 0.0
    relative[:, 1] *= -1  # Y up -> camera y down
    root = np.array([400.0, -200.0, 5200.0])
    intrinsics = np.array([[1000.0, 1010.0, 640.0, 360.0]])
    keypoints = project((root + relative)[None], intrinsics)
    estimate = analytic_root(keypoints, relative[None], intrinsics)
    assert np.allclose(estimate[0], root, atol=1e-6 * 5200)
    # a wrong relative scale moves the depth proportionally
    estimate = analytic_root(keypoints, 1.1 * relative[None], intrinsics)
    assert np.isclose(estimate[0, 2], 1.1 * 5200.0, rtol=1e-6)
