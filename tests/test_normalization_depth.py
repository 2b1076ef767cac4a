import numpy as np
import pytest
import torch

from poselifter_core.data.flip import flip_samples
from poselifter_core.camera import project
from poselifter_core.lifter.canonical_depth import absolute_root, decode_root_depth, encode_root_depth
from poselifter_core.lifter.loss import lifter_targets, poselifter_loss
from poselifter_core.lifter.model import LifterConfig, PoseLifter
from poselifter_core.lifter.normalization import InputNormalization, check_keypoints, person_scale
from poselifter_core.skeleton import H36M17


def test_normalization_matches_hand_computed_values():
    # Two joints at (110, 60) and (130, 60) with principal point (100, 50):
    # p' = (10, 10), (30, 10); u = (20, 10); sigma = sqrt((10^2 + 10^2) / 2) = 10; p^ = (-1, 0), (1, 0)
    layer = InputNormalization(num_joints=2, features="both", location_unit_px=1000, scale_unit_px=100)
    keypoints = torch.tensor([[[110.0, 60.0], [130.0, 60.0]]])
    intrinsics = torch.tensor([[500.0, 500.0, 100.0, 50.0]])
    out = layer(keypoints, intrinsics)[0].tolist()
    assert np.allclose(out, [-1, 0, 1, 0, 0.020, 0.010, 0.1])
    assert layer.out_features == 7


@pytest.mark.parametrize("features, size", [("none", 4), ("location", 6), ("scale", 5), ("both", 7)])
def test_feature_ablations(features, size):
    layer = InputNormalization(2, features)
    out = layer(torch.tensor([[[110.0, 60.0], [130.0, 60.0]]]), torch.tensor([[500.0, 500.0, 100.0, 50.0]]))
    assert out.shape == (1, size) == (1, layer.out_features)


def test_person_scale_numpy_and_torch_agree():
    kp = np.random.default_rng(0).normal(size=(5, 17, 2)) * 40
    assert np.allclose(person_scale(kp), person_scale(torch.tensor(kp)).numpy())


def test_check_keypoints_errors():
    good = np.random.default_rng(0).normal(size=(3, 17, 2)) * 50 + 300
    assert check_keypoints(good, 17).shape == (3, 17, 2)
    assert check_keypoints(good[0], 17).shape == (1, 17, 2)
    bad = good.copy()
    bad[1, 4, 0] = np.nan
    with pytest.raises(ValueError, match=r"sample\(s\) \[1\] contain NaN"):
        check_keypoints(bad, 17)
    with pytest.raises(ValueError, match="degenerate"):
        check_keypoints(np.full((1, 17, 2), 5.0), 17)
    with pytest.raises(ValueError, match=r"shape \(N, 17, 2\)"):
        check_keypoints(good[:, :16], 17)


@pytest.mark.parametrize("fx, fy", [(300.0, 300.0), (1000.0, 1000.0), (1500.0, 1480.0), (4200.0, 4300.0)])
def test_canonical_depth_round_trip_any_focal(fx, fy):
    intr = torch.tensor([[fx, fy, 640.0, 360.0]])
    z = torch.tensor([3456.0])
    encoded = encode_root_depth(z, intr, f0=1000.0)
    assert torch.allclose(encoded, z / np.sqrt(fx * fy) * 1000.0 / 1000.0)
    assert torch.allclose(decode_root_depth(encoded, intr, 1000.0), z)
    assert torch.allclose(decode_root_depth(encode_root_depth(z, intr, 1000.0, False), intr, 1000.0, False), z)
    root = torch.tensor([[250.0, -120.0, 3456.0]])
    pixels = torch.tensor(project(root.numpy()[:, None], intr.numpy())[:, 0], dtype=torch.float32)
    assert torch.allclose(absolute_root(pixels, z, intr), root, atol=1e-3)


def test_targets_and_decoding_are_inverse():
    config = LifterConfig(width=32)
    model = PoseLifter(config)
    rng = np.random.default_rng(3)
    joints = torch.tensor(rng.uniform([-800, -800, 2500], [800, 800, 6000], (4, 17, 3)), dtype=torch.float32)
    intr = torch.tensor([[1100.0, 1100.0, 640.0, 360.0]] * 4)
    keypoints = torch.tensor(project(joints.numpy().astype(float), intr.numpy()), dtype=torch.float32)
    target = lifter_targets(joints, intr, config, root=0)
    assert target.shape == (4, 3 * 17 - 2)
    out = model.decode(target, keypoints, intr)
    assert torch.allclose(out.absolute, joints, atol=0.5)
    assert torch.allclose(out.canonical_depth, joints[:, 0, 2] / 1100.0)
    loss, depth_term, pose_term = poselifter_loss(target, target, pose_weight=2.0)
    assert loss.item() == 0.0
    shifted = target.clone()
    shifted[:, 0] += 0.5
    shifted[:, 1:4] += 0.1
    loss, depth_term, pose_term = poselifter_loss(shifted, target, pose_weight=2.0)
    assert np.isclose(depth_term.item(), 0.5) and np.isclose(pose_term.item(), 0.3, atol=1e-6)
    assert np.isclose(loss.item(), 0.5 + 2.0 * 0.3, atol=1e-6)


def test_network_shape_and_width():
    model = PoseLifter(LifterConfig(width=64)).eval()
    out = model(torch.rand(3, 17, 2) * 500, torch.tensor([[1000.0, 1000.0, 320.0, 240.0]] * 3))
    assert out.shape == (3, 49)
    assert model.input_layer.out_features == 64 and len(model.blocks) == 2
    assert model.input_layer.in_features == 37


def test_flip_is_consistent_in_2d_and_3d():
    rng = np.random.default_rng(4)
    joints = rng.uniform([-800, -800, 2500], [800, 800, 6000], (6, 17, 3))
    intr = np.array([[900.0, 900.0, 611.0, 355.0]] * 6)
    keypoints = project(joints, intr)
    kp_t, j_t, i_t = (torch.tensor(a, dtype=torch.float64) for a in (keypoints, joints, intr))
    mask = torch.tensor([True, False, True, False, True, True])
    kp_f, j_f = flip_samples(kp_t, j_t, i_t, torch.tensor(H36M17.flip_index), mask)
    # flipped 3D still projects onto flipped 2D with the same intrinsics
    assert np.allclose(project(j_f.numpy(), intr), kp_f.numpy())
    assert torch.equal(kp_f[1], kp_t[1]) and torch.equal(j_f[3], j_t[3])
    # left wrist of the flipped pose is the mirrored right wrist of the original
    lw, rw = H36M17.index("LWrist"), H36M17.index("RWrist")
    assert np.isclose(j_f[0, lw, 0].item(), -joints[0, rw, 0])
    assert np.isclose(kp_f[0, lw, 0].item(), 2 * 611.0 - keypoints[0, rw, 0])
    # flipping twice is the identity
    kp_ff, j_ff = flip_samples(kp_f, j_f, i_t, torch.tensor(H36M17.flip_index), mask)
    assert torch.allclose(kp_ff, kp_t) and torch.allclose(j_ff, j_t)
