"""Fitting the error model: the single-Gaussian baseline and the Gaussian + uniform mixture (EM).

All joints are fitted at once on (J, N) arrays; no Python loop runs over samples or joints in
the iterations. Inputs are errors in person_scale units, shape (N, J, 2), and an optional
(N, J) validity mask (a joint that was not detected or not labelled is left out of its fit).

EM as in section 4.2 of the paper: start from a robust single Gaussian (median and
0.7413 x interquartile range, which equals the standard deviation for Gaussian data) and
gamma = 0.9; alternate responsibilities (E-step) and weighted moments (M-step) until a joint's
mean NLL per sample improves by less than ``tol`` or ``max_iter`` is reached. The outlier
density is the constant 1 / (2 W)^2 for every error, also for the rare errors outside the
window (as in the authors' analysis code); this keeps the NLL finite for misses larger than W.

Fallbacks: a joint with fewer than ``min_samples`` valid errors gets no outlier component
(gamma = 1, mixture = the single Gaussian, ``fit = "gaussian-fallback"``): too few samples
cannot separate outliers from inliers. Fewer than two valid errors is an error. Standard
deviations are floored at ``MIN_STD`` (quantised or identical errors would otherwise give a zero
variance and an infinite likelihood); the floored M-step is still the constrained maximum, so
the NLL stays non-increasing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .error_model import DEFAULT_WINDOW, ErrorModel

MIN_STD = 1e-4
#: 0.7413 = 1 / (2 * 0.6745): interquartile range -> standard deviation of a Gaussian.
IQR_TO_STD = 0.7413
LOG_2PI = math.log(2.0 * math.pi)
LOG_FLOOR = 700.0
ROBUST_INIT_SAMPLES = 200_000


@dataclass(frozen=True)
class GaussianFit:
    """Per joint: mean (J, 2), std (J, 2), mean NLL per sample (J,), valid sample count (J,)."""

    mean: np.ndarray
    std: np.ndarray
    nll: np.ndarray
    num_samples: np.ndarray


@dataclass(frozen=True)
class MixtureFit:
    """Per joint mixture parameters and diagnostics.

    ``nll_history`` is (iterations + 1, J): the mean NLL before the first M-step and after each;
    a joint that has converged keeps its parameters, so its later entries repeat.
    """

    mean: np.ndarray
    std: np.ndarray
    gamma: np.ndarray
    nll: np.ndarray
    nll_history: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    fallback: np.ndarray
    num_samples: np.ndarray


@dataclass
class _Data:
    """Errors arranged for batched matrix products: features (J, N, 4) = [ex, ey, ex^2, ey^2].

    Invalid samples have all-zero features and ``weight`` 0; ``weight`` is ``None`` when every
    sample is valid (saves a pass over the data per iteration).
    """

    features: torch.Tensor
    weight: torch.Tensor | None  # (J, N)
    count: torch.Tensor  # (J,) number of valid samples

    def weighted(self, values: torch.Tensor) -> torch.Tensor:
        return values if self.weight is None else values * self.weight

    def total(self, values: torch.Tensor) -> torch.Tensor:
        """Sum over valid samples of (J, N) values -> (J,)."""
        return self.weighted(values).sum(dim=1)


def _check(errors: np.ndarray, valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim != 3 or errors.shape[2] != 2:
        raise ValueError(f"errors must have shape (N, J, 2), got {errors.shape}")
    finite = np.isfinite(errors).all(axis=2)
    if valid is None:
        valid = finite
    else:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != errors.shape[:2]:
            raise ValueError(f"valid mask must have shape {errors.shape[:2]}, got {valid.shape}")
        valid = valid & finite
    counts = valid.sum(axis=0)
    if (counts < 2).any():
        raise ValueError(f"joint(s) {np.flatnonzero(counts < 2).tolist()} have fewer than 2 valid errors; "
                         "cannot fit an error model")
    return errors, valid


def robust_gaussian(errors: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Median and 0.7413 x IQR per joint and axis (J, 2): the EM start, insensitive to outliers.

    Above ``ROBUST_INIT_SAMPLES`` samples every k-th sample is used: a start value needs no more
    precision (0.3 % for the median of 200 000 samples) and the quantiles dominate the run time.
    """
    return _robust(*_check(errors, valid))


def _robust(errors: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    quartiles = np.empty((3, errors.shape[1], 2))
    for j in range(errors.shape[1]):  # joints have different valid samples; 17 cheap calls
        samples = errors[valid[:, j], j]
        samples = samples[:: -(-len(samples) // ROBUST_INIT_SAMPLES)]
        quartiles[:, j] = np.percentile(samples, [25, 50, 75], axis=0)
    q25, q50, q75 = quartiles
    return q50, np.maximum(IQR_TO_STD * (q75 - q25), MIN_STD)


def _prepare(errors: np.ndarray, valid: np.ndarray, offset: np.ndarray, device: str | torch.device) -> _Data:
    num_samples, num_joints, _ = errors.shape
    source = torch.as_tensor(errors, device=device).permute(1, 0, 2)  # (J, N, 2) view
    features = torch.empty(num_joints, num_samples, 4, dtype=torch.float64, device=device)
    torch.sub(source, torch.as_tensor(offset, device=device)[:, None, :], out=features[..., :2])
    if valid.all():
        weight = None
    else:
        weight = torch.as_tensor(valid.T.copy(), dtype=torch.float64, device=device)
        features[..., :2] *= weight[..., None]  # also turns NaN of missing detections into 0
        features[..., :2].nan_to_num_(0.0)
    torch.square(features[..., :2], out=features[..., 2:])
    count = torch.as_tensor(valid.sum(axis=0), dtype=torch.float64, device=device)
    return _Data(features, weight, count)


def _moments(data: _Data, weight: torch.Tensor | None, min_std: float
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weighted mean and std (J, 2) and total weight (J,); ``weight`` None = the valid samples."""
    if weight is None:
        sums, total = data.features.sum(dim=1), data.count
    else:
        sums, total = torch.bmm(weight[:, None, :], data.features)[:, 0, :], weight.sum(dim=1)
    mean = sums[:, :2] / total[:, None]
    var = sums[:, 2:] / total[:, None] - mean.square()
    return mean, var.clamp_min(min_std**2).sqrt(), total


def _gaussian_log_density(data: _Data, mean: torch.Tensor, std: torch.Tensor, shift: torch.Tensor,
                          out: torch.Tensor | None = None) -> torch.Tensor:
    """log N(e; mean, diag(std^2)) + shift (J,) for every (joint, sample): one batched product.

    ``out``, a (J, N, 1) buffer reused across EM iterations, avoids allocating (and the kernel
    zeroing) hundreds of MB per iteration, which tripled the iteration time at 1M x 17.
    """
    inv_var = std.pow(-2)  # (J, 2)
    # -0.5 * sum_k (e_k - m_k)^2 / s_k^2, expanded to be linear in the features [e, e^2].
    coef = torch.cat([mean * inv_var, -0.5 * inv_var], dim=1)  # (J, 4)
    const = -0.5 * (mean.square() * inv_var).sum(dim=1) - std.log().sum(dim=1) - LOG_2PI  # (J,)
    return torch.bmm(data.features, coef[:, :, None], out=out)[:, :, 0].add_((const + shift)[:, None])


def fit_gaussian(errors: np.ndarray, valid: np.ndarray | None = None, min_std: float = MIN_STD,
                 device: str | torch.device = "cpu") -> GaussianFit:
    """Maximum-likelihood single Gaussian (diagonal covariance) per joint: the baseline."""
    errors, valid = _check(errors, valid)
    data = _prepare(errors, valid, np.zeros((errors.shape[1], 2)), device)
    mean, std, count = _moments(data, None, min_std)
    nll = -data.total(_gaussian_log_density(data, mean, std, torch.zeros_like(count))) / count
    return GaussianFit(mean.cpu().numpy(), std.cpu().numpy(), nll.cpu().numpy(), valid.sum(axis=0))


def fit_mixture(errors: np.ndarray, valid: np.ndarray | None = None, window: float = DEFAULT_WINDOW,
                gamma_init: float = 0.9, tol: float = 1e-7, max_iter: int = 500, min_samples: int = 50,
                min_std: float = MIN_STD, device: str | torch.device = "cpu") -> MixtureFit:
    """EM fit of eq. 9 per joint (see the module docstring for initialisation and fallbacks).

    ``tol`` is on the mean NLL per sample (person_scale units). ``window`` is the half-width W
    of the outlier square; it is fixed, not fitted, as in the paper.
    """
    if not 0.0 < gamma_init < 1.0:
        raise ValueError(f"gamma_init must lie in (0, 1), got {gamma_init}")
    if window <= 0 or tol < 0 or max_iter < 0:
        raise ValueError(f"need window > 0, tol >= 0, max_iter >= 0; got {window}, {tol}, {max_iter}")
    errors, valid = _check(errors, valid)
    median, robust_std = _robust(errors, valid)
    data = _prepare(errors, valid, median, device)
    num_joints = errors.shape[1]
    fallback = torch.as_tensor(valid.sum(axis=0) < min_samples, device=device)
    log_uniform_density = -2.0 * math.log(2.0 * window)

    gaussian_mean, gaussian_std, _ = _moments(data, None, min_std)
    mean = torch.where(fallback[:, None], gaussian_mean, torch.zeros_like(gaussian_mean))
    std = torch.where(fallback[:, None], gaussian_std, torch.as_tensor(robust_std, device=device))
    gamma = torch.where(fallback, 1.0, gamma_init).to(torch.float64)
    ratio_buffer = torch.empty(num_joints, len(errors), 1, dtype=torch.float64, device=device)
    density_buffer = torch.empty(num_joints, len(errors), dtype=torch.float64, device=device)
    zero = torch.zeros((), dtype=torch.float64, device=device)

    def e_step() -> tuple[torch.Tensor, torch.Tensor]:
        """Responsibilities of the Gaussian (J, N) and mean NLL (J,) at the current parameters."""
        # log(gamma) and log(1 - gamma) are floored at -LOG_FLOOR so that gamma = 1 (fallback,
        # all-inlier data) and gamma = 0 stay finite; e^-700 changes no density representably.
        log_outlier = torch.log1p(-gamma).clamp_min(-LOG_FLOOR) + log_uniform_density
        shift = gamma.log().clamp_min(-LOG_FLOOR) - log_outlier
        log_ratio = _gaussian_log_density(data, mean, std, shift, out=ratio_buffer)  # log(inlier/outlier)
        # log p(e) = log_outlier + log(1 + exp(log_ratio))
        nll = -(log_outlier + data.total(torch.logaddexp(log_ratio, zero, out=density_buffer)) / data.count)
        return data.weighted(log_ratio.sigmoid_()), nll

    responsibility, nll = e_step()
    history = [nll]
    active = ~fallback
    iterations = torch.zeros(num_joints, dtype=torch.int64, device=device)
    for _ in range(max_iter):
        if not bool(active.any()):
            break
        new_mean, new_std, total = _moments(data, responsibility, min_std)
        # A Gaussian that lost all its weight keeps its parameters; its term is zero anyway.
        update = active & (total > 1e-12 * data.count)
        mean = torch.where(update[:, None], new_mean, mean)
        std = torch.where(update[:, None], new_std, std)
        gamma = torch.where(active, total / data.count, gamma)
        iterations += active.long()
        responsibility, new_nll = e_step()
        active = active & (nll - new_nll >= tol)
        nll = new_nll
        history.append(nll)

    offset = torch.as_tensor(median, device=device)
    return MixtureFit(
        mean=(mean + offset).cpu().numpy(),
        std=std.cpu().numpy(),
        gamma=gamma.cpu().numpy(),
        nll=nll.cpu().numpy(),
        nll_history=torch.stack(history).cpu().numpy(),
        iterations=iterations.cpu().numpy(),
        converged=(~active).cpu().numpy(),
        fallback=fallback.cpu().numpy(),
        num_samples=valid.sum(axis=0),
    )


def fit_error_model(errors: np.ndarray, skeleton: str, valid: np.ndarray | None = None,
                    window: float = DEFAULT_WINDOW, notes: str = "", **em_options) -> ErrorModel:
    """Both fits of the errors, packed as an :class:`ErrorModel` (``em_options`` go to EM)."""
    gaussian = fit_gaussian(errors, valid, min_std=em_options.get("min_std", MIN_STD),
                            device=em_options.get("device", "cpu"))
    mixture = fit_mixture(errors, valid, window=window, **em_options)
    return ErrorModel(
        skeleton=skeleton,
        mean=mixture.mean,
        std=mixture.std,
        gamma=mixture.gamma,
        window=window,
        gaussian_mean=gaussian.mean,
        gaussian_std=gaussian.std,
        nll_mixture=mixture.nll,
        nll_gaussian=gaussian.nll,
        num_samples=gaussian.num_samples,
        fit=tuple("gaussian-fallback" if f else "em" for f in mixture.fallback),
        notes=notes,
    )
