"""Synthesising detector-like 2D keypoints from clean ones, for training (section 4.2).

:func:`make_input_noise` builds the corruption the training loop applies to every batch, fresh
each time it is called: noise drawn from an :class:`ErrorModel` in person_scale units and
multiplied by each sample's own 2D scale sigma (eq. 4 of the clean pose), on the batch's device.

Outlier modes of the mixture:

* ``"mixture"``: the model of eq. 9 as written; an outlier joint moves to a uniform random
  offset in the square [-W, W]^2 (times sigma) around its true position.
* ``"paper-code"``: what the authors' training code does; with probability 1 - gamma the joint is
  left exactly where it is, i.e. outliers are not synthesised at all.

:func:`swap_limbs_with_jitter` is a different corruption, meant for evaluation only (the lifter
never sees it in training): left/right confusions plus Gaussian jitter.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..lifter.normalization import person_scale
from ..skeleton import Skeleton
from .error_model import ErrorModel, default_error_model

NOISE_KINDS = ("none", "gaussian", "mixture")
OUTLIER_MODES = ("mixture", "paper-code")


def _check_generator(generator: torch.Generator | None, device: torch.device) -> None:
    if generator is not None and generator.device.type != device.type:
        raise ValueError(f"the generator is on {generator.device} but the keypoints are on {device}; "
                         "create the generator on the keypoints' device")


def sample_errors(model: ErrorModel, num_samples: int, kind: str = "mixture", outlier_mode: str = "mixture",
                  generator: torch.Generator | None = None, device: str | torch.device = "cpu",
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(num_samples, J, 2) errors in person_scale units drawn from ``model``.

    ``kind`` "gaussian" uses the model's single-Gaussian fit, "mixture" its mixture.
    """
    if kind not in ("gaussian", "mixture"):
        raise ValueError(f"kind must be 'gaussian' or 'mixture' to sample errors, got {kind!r}")
    if outlier_mode not in OUTLIER_MODES:
        raise ValueError(f"outlier_mode must be one of {OUTLIER_MODES}, got {outlier_mode!r}")
    device = torch.device(device)
    _check_generator(generator, device)

    def tensor(values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(values, dtype=dtype, device=device)

    shape = (num_samples, model.num_joints, 2)
    standard = torch.randn(shape, generator=generator, device=device, dtype=dtype)
    if kind == "gaussian":
        return tensor(model.gaussian_mean) + tensor(model.gaussian_std) * standard
    inlier_errors = tensor(model.mean) + tensor(model.std) * standard
    draw = torch.rand(shape[:2], generator=generator, device=device, dtype=dtype)
    inlier = (draw < tensor(model.gamma))[..., None]
    if outlier_mode == "paper-code":
        return torch.where(inlier, inlier_errors, torch.zeros_like(inlier_errors))
    uniform = torch.rand(shape, generator=generator, device=device, dtype=dtype)
    return torch.where(inlier, inlier_errors, (2.0 * uniform - 1.0) * model.window)


class InputNoise:
    """Callable (keypoints (B, J, 2) px, generator) -> corrupted copy; see :func:`make_input_noise`.

    A class rather than a closure so that it pickles (data loader workers) and prints usefully.
    """

    def __init__(self, kind: str, error_model: ErrorModel | None, outlier_mode: str) -> None:
        self.kind = kind
        self.error_model = error_model
        self.outlier_mode = outlier_mode

    def __repr__(self) -> str:
        model = "" if self.error_model is None else f", skeleton={self.error_model.skeleton}"
        return f"InputNoise(kind={self.kind!r}, outlier_mode={self.outlier_mode!r}{model})"

    def __call__(self, keypoints: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if keypoints.ndim != 3 or keypoints.shape[2] != 2 or not keypoints.is_floating_point():
            raise ValueError(f"keypoints must be a float (B, J, 2) tensor, got {keypoints.dtype} "
                             f"{tuple(keypoints.shape)}")
        if self.error_model is None:
            return keypoints.clone()
        if keypoints.shape[1] != self.error_model.num_joints:
            raise ValueError(f"keypoints have {keypoints.shape[1]} joints, the error model "
                             f"({self.error_model.skeleton}) has {self.error_model.num_joints}")
        errors = sample_errors(self.error_model, keypoints.shape[0], self.kind, self.outlier_mode, generator,
                               keypoints.device, keypoints.dtype)
        return keypoints + errors * person_scale(keypoints)[:, None, None]


def make_input_noise(kind: str, error_model: ErrorModel | None = None, outlier_mode: str = "mixture"
                     ) -> Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]:
    """The training-time corruption of clean 2D keypoints.

    ``kind``: "none" (a copy of the input), "gaussian" (the model's single-Gaussian fit, the
    baseline of Table 3) or "mixture" (eq. 9, with ``outlier_mode`` "mixture" or "paper-code").
    Without ``error_model`` the package's default model is used. The returned callable draws new
    noise on every call, on the input's device (pass a generator on that device, or None),
    scaled per sample by sigma of the clean pose, without any loop over samples.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"input noise kind must be one of {NOISE_KINDS}, got {kind!r}")
    if outlier_mode not in OUTLIER_MODES:
        raise ValueError(f"outlier_mode must be one of {OUTLIER_MODES}, got {outlier_mode!r}")
    if kind == "none":
        return InputNoise(kind, None, outlier_mode)
    return InputNoise(kind, error_model if error_model is not None else default_error_model(), outlier_mode)


def swap_limbs_with_jitter(keypoints: torch.Tensor | np.ndarray, skeleton: Skeleton, swap_prob: float,
                           jitter_sigma_fraction: float, generator: torch.Generator | None = None
                           ) -> torch.Tensor | np.ndarray:
    """Evaluation-only corruption: left/right swaps plus isotropic Gaussian jitter.

    Each (left, right) joint pair of ``skeleton.flip_pairs`` (hips, knees, ankles, shoulders,
    elbows, wrists for H36M-17) is swapped independently per sample with probability
    ``swap_prob``; then every joint gets N(0, (jitter_sigma_fraction * sigma)^2) noise per axis,
    sigma being the clean pose's 2D scale (eq. 4). Returns the type it was given (a numpy array
    in, a numpy array out; the generator then lives on the CPU).
    """
    if not 0.0 <= swap_prob <= 1.0:
        raise ValueError(f"swap_prob must lie in [0, 1], got {swap_prob}")
    if not jitter_sigma_fraction >= 0.0:
        raise ValueError(f"jitter_sigma_fraction must be >= 0, got {jitter_sigma_fraction}")
    as_numpy = isinstance(keypoints, np.ndarray)
    points = torch.from_numpy(keypoints) if as_numpy else keypoints
    skeleton.check_joint_count(points, "keypoints")
    if points.ndim != 3 or points.shape[2] != 2 or not points.is_floating_point():
        raise ValueError(f"keypoints must be float (B, J, 2), got {points.dtype} {tuple(points.shape)}")
    _check_generator(generator, points.device)
    if not skeleton.flip_pairs:
        raise ValueError(f"skeleton {skeleton.name} has no left/right pairs to swap")

    pairs = torch.as_tensor(skeleton.flip_pairs, device=points.device)  # (P, 2)
    swap = torch.rand(points.shape[0], len(pairs), generator=generator, device=points.device) < swap_prob
    index = torch.arange(points.shape[1], device=points.device).repeat(points.shape[0], 1)  # (B, J)
    index[:, pairs[:, 0]] = torch.where(swap, pairs[:, 1], pairs[:, 0])
    index[:, pairs[:, 1]] = torch.where(swap, pairs[:, 0], pairs[:, 1])
    swapped = torch.gather(points, 1, index[..., None].expand(-1, -1, 2))
    jitter = torch.randn(points.shape, generator=generator, device=points.device, dtype=points.dtype)
    corrupted = swapped + jitter * (jitter_sigma_fraction * person_scale(points))[:, None, None]
    return corrupted.numpy() if as_numpy else corrupted
