"""Noise synthesis for training and the evaluation-only swap corruption: statistics and contracts."""
import pickle

import numpy as np
import pytest
import torch

from poselifter_core.lifter.normalization import person_scale
from poselifter_core.noise.default_model import build_default_model
from poselifter_core.noise.error_model import ErrorModel
from poselifter_core.noise.synthesis import make_input_noise, sample_errors, swap_limbs_with_jitter
from poselifter_core.skeleton import H36M17

J = 17
MEAN = np.array([0.01, -0.02])
STD = np.array([0.05, 0.1])


def model(gamma=0.8):
    base = build_default_model()
    return ErrorModel(skeleton="h36m17", mean=np.tile(MEAN, (J, 1)), std=np.tile(STD, (J, 1)),
                      gamma=np.full(J, gamma), window=0.8, gaussian_mean=np.tile([0.03, 0.0], (J, 1)),
                      gaussian_std=np.tile([0.2, 0.3], (J, 1)), notes=base.notes)


def clean_poses(batch, seed=0):
    """Random poses whose 2D scale spans two orders of magnitude (10 px to 1000 px)."""
    g = torch.Generator().manual_seed(seed)
    poses = torch.randn(batch, J, 2, generator=g, dtype=torch.float64)
    poses = poses / person_scale(poses)[:, None, None]  # sigma = 1
    scale = torch.where(torch.arange(batch) % 2 == 0, 10.0, 1000.0).double()
    return poses * scale[:, None, None] + 500.0


def normalized(noisy, clean):
    return ((noisy - clean) / person_scale(clean)[:, None, None]).numpy()


def test_paper_code_mode_leaves_outliers_unchanged_and_scales_inliers_by_sigma():
    clean = clean_poses(40_000)
    noisy = make_input_noise("mixture", model(0.8), "paper-code")(clean, torch.Generator().manual_seed(1))
    errors = normalized(noisy, clean)
    unchanged = (noisy == clean).all(dim=2).numpy()
    assert unchanged.mean() == pytest.approx(0.2, abs=0.01)  # 1 - gamma
    for rows in (slice(0, None, 2), slice(1, None, 2)):  # sigma 10 px and 1000 px alike
        inliers = errors[rows][~unchanged[rows]]
        assert np.allclose(inliers.mean(axis=0), MEAN, atol=0.003)
        assert np.allclose(inliers.std(axis=0), STD, rtol=0.02)


def test_mixture_mode_draws_outliers_uniformly_in_the_window():
    clean = clean_poses(40_000)
    noisy = make_input_noise("mixture", model(0.8), "mixture")(clean, torch.Generator().manual_seed(2))
    errors = normalized(noisy, clean)
    assert not (noisy == clean).all(dim=2).any()
    in_window = (np.abs(errors) <= 0.8 + 1e-9).all(axis=2)
    near_mean = (np.abs(errors - MEAN) / STD < 8).all(axis=2)
    assert (in_window | near_mean).all()  # no outlier outside the window
    # Far from the inlier Gaussian (> 6 std on an axis) only outliers remain: their share is
    # (1 - gamma) x the part of the window outside the 6-std box around the mean.
    far = (np.abs(errors - MEAN) / STD > 6).any(axis=2)
    box = np.prod(np.minimum(MEAN + 6 * STD, 0.8) - np.maximum(MEAN - 6 * STD, -0.8)) / 1.6**2
    assert far.mean() == pytest.approx(0.2 * (1 - box), rel=0.05)
    assert np.allclose(errors.reshape(-1, 2).mean(axis=0), 0.8 * MEAN, atol=0.004)  # outliers have mean 0


def test_gaussian_kind_uses_the_single_gaussian_fit():
    clean = clean_poses(20_000)
    errors = normalized(make_input_noise("gaussian", model())(clean, torch.Generator().manual_seed(3)), clean)
    assert np.allclose(errors.reshape(-1, 2).mean(axis=0), [0.03, 0.0], atol=0.003)
    assert np.allclose(errors.reshape(-1, 2).std(axis=0), [0.2, 0.3], rtol=0.01)


def test_none_is_a_copy_and_noise_is_fresh_every_call_and_reproducible():
    clean = clean_poses(8).float()
    copy = make_input_noise("none")(clean, None)
    assert torch.equal(copy, clean) and copy.data_ptr() != clean.data_ptr()
    noise = make_input_noise("mixture", model())
    first, second = noise(clean, torch.Generator().manual_seed(5)), noise(clean, torch.Generator().manual_seed(5))
    assert torch.equal(first, second) and first.dtype == torch.float32
    generator = torch.Generator().manual_seed(5)
    assert not torch.equal(noise(clean, generator), noise(clean, generator))
    assert not torch.equal(noise(clean, None), noise(clean, None))


def test_default_model_and_pickling():
    noise = make_input_noise("mixture")
    assert noise.error_model.skeleton == "h36m17"
    restored = pickle.loads(pickle.dumps(noise))
    clean = clean_poses(4)
    assert torch.equal(noise(clean, torch.Generator().manual_seed(0)), restored(clean, torch.Generator().manual_seed(0)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        make_input_noise("laplace")
    with pytest.raises(ValueError, match="outlier_mode"):
        make_input_noise("mixture", outlier_mode="drop")
    with pytest.raises(ValueError, match="16 joints, the error model"):
        make_input_noise("mixture", model())(torch.zeros(2, 16, 2), None)
    with pytest.raises(ValueError, match=r"\(B, J, 2\)"):
        make_input_noise("mixture", model())(torch.zeros(2, 17, 3), None)
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="generator"):
            make_input_noise("mixture", model())(torch.zeros(2, 17, 2, device="cuda"), torch.Generator())


def test_sample_errors_shape_and_device():
    errors = sample_errors(model(), 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert errors.shape == (5, 17, 2) and errors.dtype == torch.float64


def test_swap_all_pairs_without_jitter_is_the_mirror_permutation():
    clean = clean_poses(6)
    swapped = swap_limbs_with_jitter(clean, H36M17, 1.0, 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(swapped, clean[:, H36M17.flip_index])
    assert torch.equal(swap_limbs_with_jitter(clean, H36M17, 0.0, 0.0), clean)


def test_swap_rate_and_jitter_size():
    clean = clean_poses(20_000)
    out = swap_limbs_with_jitter(clean, H36M17, 0.3, 0.0, torch.Generator().manual_seed(1))
    left, right = np.array(H36M17.flip_pairs).T
    swapped = (out[:, left] == clean[:, right]).all(dim=2)
    assert torch.equal(swapped, (out[:, right] == clean[:, left]).all(dim=2))
    assert swapped.double().mean().item() == pytest.approx(0.3, abs=0.01)
    jittered = swap_limbs_with_jitter(clean, H36M17, 0.0, 0.05, torch.Generator().manual_seed(2))
    assert normalized(jittered, clean).std() == pytest.approx(0.05, rel=0.02)


def test_swap_accepts_numpy_and_checks_arguments():
    clean = clean_poses(3).numpy()
    out = swap_limbs_with_jitter(clean, H36M17, 1.0, 0.0)
    assert isinstance(out, np.ndarray) and np.array_equal(out, clean[:, H36M17.flip_index])
    with pytest.raises(ValueError, match="swap_prob"):
        swap_limbs_with_jitter(clean, H36M17, 1.5, 0.0)
    with pytest.raises(ValueError, match="17"):
        swap_limbs_with_jitter(clean[:, :5], H36M17, 0.5, 0.0)
