"""EM and single-Gaussian fits of the 2D error model: known answers on synthetic errors."""
import math

import numpy as np
import pytest

from poselifter_core.noise.em import MIN_STD, fit_error_model, fit_gaussian, fit_mixture, robust_gaussian

WINDOW = 0.8


def synthetic_mixture(gammas, mean, std, num_samples, seed=0, window=WINDOW):
    """Errors (N, J, 2) drawn from eq. 9: Gaussian inliers, uniform outliers in the window."""
    rng = np.random.default_rng(seed)
    gammas = np.asarray(gammas, dtype=float)
    shape = (num_samples, len(gammas), 2)
    inlier = rng.random(shape[:2]) < gammas
    gaussian = mean + std * rng.standard_normal(shape)
    uniform = rng.uniform(-window, window, shape)
    return np.where(inlier[..., None], gaussian, uniform)


def mixture_nll(errors, mean, std, gamma, window):
    """Mean NLL per sample of eq. 9/10 for one joint, written out independently of em.py."""
    z = (errors - mean) / std
    gauss = np.exp(-0.5 * (z**2).sum(axis=1)) / (2 * math.pi * std[0] * std[1])
    return -np.mean(np.log(gamma * gauss + (1 - gamma) / (2 * window) ** 2))


GAMMAS = (0.7, 0.85, 0.95, 1.0)
MEAN = np.array([[0.02, -0.01], [0.0, 0.03], [-0.04, 0.0], [0.01, 0.01]])
STD = np.array([[0.05, 0.08], [0.04, 0.04], [0.07, 0.05], [0.03, 0.06]])


@pytest.fixture(scope="module")
def recovered():
    errors = synthetic_mixture(GAMMAS, MEAN, STD, 20_000, seed=1)
    return errors, fit_mixture(errors, window=WINDOW), fit_gaussian(errors)


def test_em_recovers_parameters_for_several_gammas(recovered):
    _, fit, _ = recovered
    assert np.all(np.abs(fit.gamma - GAMMAS) < 0.02), fit.gamma
    assert np.all(np.abs(fit.std / STD - 1) < 0.03), fit.std / STD
    assert np.all(np.abs(fit.mean - MEAN) < 0.03 * STD), (fit.mean - MEAN) / STD
    assert fit.converged.all() and not fit.fallback.any()


def test_all_inlier_data_gives_gamma_near_one(recovered):
    _, fit, gaussian = recovered
    assert fit.gamma[3] > 0.99
    # Without outliers the mixture and the single Gaussian agree.
    assert np.allclose(fit.std[3], gaussian.std[3], rtol=0.02)


def test_nll_never_increases(recovered):
    _, fit, _ = recovered
    steps = np.diff(fit.nll_history, axis=0)
    assert (steps <= 1e-12).all(), steps.max()
    assert (fit.nll_history[-1] < fit.nll_history[0]).all()
    assert np.array_equal(fit.nll, fit.nll_history[-1])


def test_reported_nll_matches_eq_10(recovered):
    errors, fit, _ = recovered
    for j in range(len(GAMMAS)):
        expected = mixture_nll(errors[:, j], fit.mean[j], fit.std[j], fit.gamma[j], WINDOW)
        assert fit.nll[j] == pytest.approx(expected, rel=1e-9)


def test_mixture_beats_single_gaussian_on_mixture_data(recovered):
    _, fit, gaussian = recovered
    assert (fit.nll[:3] < gaussian.nll[:3] - 0.1).all(), (fit.nll, gaussian.nll)
    # The single Gaussian is inflated by the outliers (paper, Figure 5).
    assert (gaussian.std[:3] > 1.5 * STD[:3]).all()


def test_single_gaussian_known_answer():
    errors = np.array([[[-1.0, 2.0]], [[1.0, 4.0]], [[-1.0, 2.0]], [[1.0, 4.0]]])
    fit = fit_gaussian(errors)
    assert np.allclose(fit.mean, [[0.0, 3.0]]) and np.allclose(fit.std, [[1.0, 1.0]])
    assert fit.nll[0] == pytest.approx(math.log(2 * math.pi) + 1.0)


def test_robust_start_ignores_outliers():
    rng = np.random.default_rng(2)
    errors = rng.normal(0.0, 0.1, (10_000, 1, 2))
    errors[:1000] = 50.0  # 10 % gross outliers
    median, std = robust_gaussian(errors)
    assert np.all(np.abs(median) < 0.02) and np.all(np.abs(std / 0.1 - 1.0) < 0.2)


def test_iteration_cap_is_respected():
    errors = synthetic_mixture([0.8], MEAN[:1], STD[:1], 5000, seed=3)
    fit = fit_mixture(errors, window=WINDOW, tol=0.0, max_iter=3)
    assert fit.iterations.tolist() == [3] and fit.nll_history.shape == (4, 1)
    assert not fit.converged[0]


def test_few_samples_fall_back_to_a_single_gaussian():
    errors = synthetic_mixture([0.8, 0.8], MEAN[:2], STD[:2], 2000, seed=4)
    valid = np.ones(errors.shape[:2], dtype=bool)
    valid[30:, 1] = False  # joint 1: 30 samples, below min_samples
    fit = fit_mixture(errors, valid, window=WINDOW, min_samples=50)
    gaussian = fit_gaussian(errors, valid)
    assert fit.fallback.tolist() == [False, True] and fit.iterations[1] == 0
    assert fit.gamma[1] == 1.0
    assert np.allclose(fit.mean[1], gaussian.mean[1]) and np.allclose(fit.std[1], gaussian.std[1])
    assert fit.nll[1] == pytest.approx(gaussian.nll[1], rel=1e-9)


def test_fewer_than_two_samples_is_an_error():
    errors = np.zeros((10, 2, 2))
    valid = np.ones((10, 2), dtype=bool)
    valid[1:, 1] = False
    with pytest.raises(ValueError, match=r"joint\(s\) \[1\]"):
        fit_mixture(errors, valid)


def test_masked_and_missing_samples_are_left_out():
    errors = synthetic_mixture([0.8, 0.9], MEAN[:2], STD[:2], 4000, seed=5)
    corrupted = errors.copy()
    valid = np.ones(errors.shape[:2], dtype=bool)
    valid[::3, 0] = False
    corrupted[::3, 0] = 100.0  # masked garbage
    corrupted[1::5, 1] = np.nan  # missing detections
    fit = fit_mixture(corrupted, valid, window=WINDOW)
    alone0 = fit_mixture(errors[valid[:, 0], :1], window=WINDOW)
    alone1 = fit_mixture(errors[np.isfinite(corrupted[:, 1, 0]), 1:], window=WINDOW)
    for j, alone in ((0, alone0), (1, alone1)):
        assert fit.num_samples[j] == alone.num_samples[0]
        assert np.allclose(fit.std[j], alone.std[0], rtol=1e-9)
        assert fit.gamma[j] == pytest.approx(alone.gamma[0], rel=1e-9)


def test_identical_errors_hit_the_std_floor_not_infinity():
    errors = np.zeros((500, 1, 2))
    errors[:50] = np.random.default_rng(6).uniform(-WINDOW, WINDOW, (50, 1, 2))
    fit = fit_mixture(errors, window=WINDOW)
    assert np.all(fit.std == MIN_STD) and np.isfinite(fit.nll).all()
    assert fit.gamma[0] == pytest.approx(0.9, abs=0.01)


def test_fit_error_model_packs_both_fits():
    errors = synthetic_mixture([0.85] * 17, np.zeros((17, 2)), np.full((17, 2), 0.05), 3000, seed=7)
    model = fit_error_model(errors, "h36m17", window=WINDOW)
    assert model.fit == ("em",) * 17 and model.num_samples.tolist() == [3000] * 17
    assert (model.nll_mixture < model.nll_gaussian).all()
    assert (model.gaussian_std > model.std).all()


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        fit_mixture(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="gamma_init"):
        fit_mixture(np.zeros((10, 1, 2)), gamma_init=1.0)
