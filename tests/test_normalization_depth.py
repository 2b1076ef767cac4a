import numpy as np
import pytest
import torch

from poselifter_core.camera import project
from poselifter_core.data.flip import flip_samples
from poselifter_core.lifter.decoding import decode
from poselifter_core.lifter.loss import lifter_targets, poselifter_loss
from poselifter_core.lifter.model import LifterConfig, PoseLifter
from poselifter_core.lifter.normalization import (
    InputNormalization,
    check_keypoints,
    observed_statistics,
    person_scale,
    rays,
)
from poselifter_core.skeleton import H36M17


def test_normalization_matches_hand_computed_values():
    # Two joints at (110, 60) and (130, 60) with principal point (100, 50):
    # p' = (10, 10), (30, 10); u = (20, 10); sigma = sqrt((10^2 + 10^2) / 2) = 10; p^ = (-1, 0), (1, 0)
    layer = InputNormalization(num_joints=2, features="both", input_space="pixels", location_unit_px=1000, scale_unit_px=100)
    keypoints = torch.tensor([[[110.0, 60.0], [130.0, 60.0]]])
    intrinsics = torch.tensor([[500.0, 500.0, 100.0, 50.0]])
    out = layer(keypoints, intrinsics)[0].tolist()
    assert np.allclose(out, [-1, 0, 1, 0, 0.020, 0.010, 0.1])
    assert layer.out_features == 7


def test_ray_normalization_matches_hand_computed_values_and_ignores_masked_joints():
    # Rays (110-100)/500, (60-50)/500 = (0.02, 0.02) and (0.06, 0.02); mu = (0.04, 0.02); sigma = 0.02.
    # A third joint, masked, sits anywhere (even NaN): nothing changes but its mask entry.
    layer = InputNormalization(num_joints=3, features="both", input_space="rays")
    intrinsics = torch.tensor([[500.0, 500.0, 100.0, 50.0]])
    visible = torch.tensor([[1.0, 1.0, 0.0]])
    for hidden in (0.0, 1e4, float("nan")):
        keypoints = torch.tensor([[[110.0, 60.0], [130.0, 60.0], [hidden, hidden]]])
        out = layer(keypoints, intrinsics, visible)[0].tolist()
        assert np.allclose(out, [-1, 0, 1, 0, 0, 0, 1, 1, 0, 0.04, 0.02, np.log(0.02)], atol=1e-6)
    assert layer.out_features == 12
    mu, sigma = observed_statistics(rays(np.array([[[110.0, 60.0], [130.0, 60.0], [7e3, -5.0]]]), intrinsics.numpy()),
                                    visible.numpy())
    assert np.allclose(mu, [[0.04, 0.02]]) and np.allclose(sigma, [0.02])


def test_rays_make_the_input_resolution_independent():
    # The same scene at 640 px and at 3840 px with fx scaled: identical network input (#13 row 2).
    layer = InputNormalization(17, input_space="rays")
    kp = torch.rand(2, 17, 2) * torch.tensor([640.0, 480.0])
    k = torch.tensor([[500.0, 500.0, 319.5, 239.5]] * 2)
    scale = 3840 / 640
    big = layer((kp + 0.5) * scale - 0.5, torch.tensor([[500.0 * scale, 500.0 * scale, 1919.5, 1439.5]] * 2))
    assert torch.allclose(layer(kp, k), big, atol=1e-4)


@pytest.mark.parametrize("space, features, size", [("pixels", "none", 4), ("pixels", "location", 6), ("pixels", "scale", 5),
                                                   ("pixels", "both", 7), ("rays", "none", 6), ("rays", "both", 9)])
def test_feature_ablations(space, features, size):
    layer = InputNormalization(2, features, space)
    out = layer(torch.tensor([[[110.0, 60.0], [130.0, 60.0]]]), torch.tensor([[500.0, 500.0, 100.0, 50.0]]))
    assert out.shape == (1, size) == (1, layer.out_features)


def test_person_scale_numpy_and_torch_agree():
    kp = np.random.default_rng(0).normal(size=(5, 17, 2)) * 40
    assert np.allclose(person_scale(kp), person_scale(torch.tensor(kp)).numpy())


def test_check_keypoints_errors():
    good = np.random.default_rng(0).normal(size=(3, 17, 2)) * 50 + 300
    assert check_keypoints(good, 17)[0].shape == (3, 17, 2)
    assert check_keypoints(good[0], 17)[0].shape == (1, 17, 2)
    bad = good.copy()
    bad[1, 4, 0] = np.nan
    with pytest.raises(ValueError, match=r"sample\(s\) \[1\] contain NaN"):
        check_keypoints(bad, 17)
    visible = np.ones((3, 17))
    visible[1, 4] = 0  # a missing joint may hold NaN; it comes back as 0
    keypoints, mask = check_keypoints(bad, 17, visible)
    assert keypoints[1, 4].tolist() == [0.0, 0.0] and mask[1, 4] == 0 and np.isfinite(keypoints).all()
    with pytest.raises(ValueError, match="fewer than 2 observed"):
        check_keypoints(good, 17, np.eye(17)[:3])
    with pytest.raises(ValueError, match="degenerate"):
        check_keypoints(np.full((1, 17, 2), 5.0), 17)
    with pytest.raises(ValueError, match=r"shape \(N, 17, 2\)"):
        check_keypoints(good[:, :16], 17)


@pytest.mark.parametrize("depth_output", ["log_size", "canonical", "metres"])
@pytest.mark.parametrize("fx, fy", [(300.0, 300.0), (1500.0, 1480.0), (4200.0, 4300.0)])
def test_targets_and_decoding_are_inverse(depth_output, fx, fy):
    config = LifterConfig(width=32, depth_output=depth_output)
    rng = np.random.default_rng(3)
    joints = torch.tensor(rng.uniform([-800, -800, 2500], [800, 800, 6000], (4, 17, 3)), dtype=torch.float32)
    intr = torch.tensor([[fx, fy, 640.0, 360.0]] * 4)
    keypoints = torch.tensor(project(joints.numpy().astype(float), intr.numpy()), dtype=torch.float32)
    visible = torch.ones(4, 17)
    visible[1, :8] = 0  # pelvis hidden: least-squares root
    visible[2, 10:] = 0
    target = lifter_targets(joints, keypoints, intr, visible, config, root=0)
    assert target.shape == (4, 3 * 17 - 2)
    out = decode(target.numpy(), keypoints.numpy(), intr.numpy(), visible.numpy(), config, H36M17)
    assert np.allclose(out.absolute, joints.numpy(), atol=0.5)
    assert np.allclose(out.canonical_depth, joints[:, 0, 2].numpy() / np.sqrt(fx * fy), rtol=1e-5)


def test_loss_terms():
    target = torch.rand(4, 49)
    loss, depth_term, pose_term = poselifter_loss(target, target, pose_weight=2.0)
    assert loss.item() == 0.0
    shifted = target.clone()
    shifted[:, 0] += 0.5
    shifted[:, 1:4] += 0.1
    loss, depth_term, pose_term = poselifter_loss(shifted, target, pose_weight=2.0)
    assert np.isclose(depth_term.item(), 0.5) and np.isclose(pose_term.item(), 0.3, atol=1e-6)
    assert np.isclose(loss.item(), 0.5 + 2.0 * 0.3, atol=1e-6)


def test_least_squares_root_is_the_best_reprojection():
    # A predicted body that is off by a few cm: the root placed from the observed joints reprojects
    # them better than any nearby root.
    rng = np.random.default_rng(5)
    joints = rng.uniform([-500, -800, 3500], [500, 800, 4500], (1, 17, 3))
    intr = np.array([[1000.0, 1000.0, 640.0, 360.0]])
    keypoints = project(joints, intr)
    visible = np.ones((1, 17))
    visible[0, :7] = 0
    relative = joints - joints[:, :1] + rng.normal(0, 30, (1, 17, 3))
    relative[:, 0] = 0
    config = LifterConfig(depth_output="metres")
    raw = np.concatenate([[joints[0, 0, 2] / 1000], np.delete(relative[0], 0, axis=0).ravel() / 1000])[None]
    out = decode(raw, keypoints, intr, visible, config, H36M17)

    def reprojection(root):
        seen = visible[0] > 0
        return ((project((root + relative[0])[None], intr)[0] - keypoints[0])[seen] ** 2).sum()

    best = reprojection(out.root[0].astype(float))
    for step in ([20, 0, 0], [-20, 0, 0], [0, 20, 0], [0, -20, 0]):
        assert reprojection(out.root[0] + np.array(step, float)) > best


def test_network_shape_and_width():
    model = PoseLifter(LifterConfig(width=64)).eval()
    out = model(torch.rand(3, 17, 2) * 500, torch.tensor([[1000.0, 1000.0, 320.0, 240.0]] * 3))
    assert out.shape == (3, 49)
    assert model.input_layer.out_features == 64 and len(model.blocks) == 2
    assert model.input_layer.in_features == 3 * 17 + 3


def test_flip_is_consistent_in_2d_and_3d():
    rng = np.random.default_rng(4)
    joints = rng.uniform([-800, -800, 2500], [800, 800, 6000], (6, 17, 3))
    intr = np.array([[900.0, 900.0, 611.0, 355.0]] * 6)
    keypoints = project(joints, intr)
    kp_t, j_t, i_t = (torch.tensor(a, dtype=torch.float64) for a in (keypoints, joints, intr))
    mask = torch.tensor([True, False, True, False, True, True])
    visible = torch.ones(6, 17, dtype=torch.bool)
    visible[0, H36M17.index("RWrist")] = False
    kp_f, j_f, v_f = flip_samples(kp_t, j_t, i_t, torch.tensor(H36M17.flip_index), mask, visible)
    assert not v_f[0, H36M17.index("LWrist")] and v_f[0, H36M17.index("RWrist")]
    # flipped 3D still projects onto flipped 2D with the same intrinsics
    assert np.allclose(project(j_f.numpy(), intr), kp_f.numpy())
    assert torch.equal(kp_f[1], kp_t[1]) and torch.equal(j_f[3], j_t[3])
    # left wrist of the flipped pose is the mirrored right wrist of the original
    lw, rw = H36M17.index("LWrist"), H36M17.index("RWrist")
    assert np.isclose(j_f[0, lw, 0].item(), -joints[0, rw, 0])
    assert np.isclose(kp_f[0, lw, 0].item(), 2 * 611.0 - keypoints[0, rw, 0])
    # flipping twice is the identity
    kp_ff, j_ff, v_ff = flip_samples(kp_f, j_f, i_t, torch.tensor(H36M17.flip_index), mask, v_f)
    assert torch.allclose(kp_ff, kp_t) and torch.allclose(j_ff, j_t) and torch.equal(v_ff, visible)
