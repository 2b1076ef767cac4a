"""Fitting-speed benchmark of the 2D error model: ``poselifter benchmark error-model-fit [--samples N]``.

Draws N error samples per joint from the default model (17 joints, mixture, uniform outliers),
times the single-Gaussian fit and the EM fit, and reports how well EM recovered the parameters.
Kept out of the test suite: at 1M samples it needs about 1.7 GB of memory and seconds of CPU.
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np
import torch

from ..noise.em import fit_gaussian, fit_mixture
from ..noise.error_model import default_error_model
from ..noise.synthesis import sample_errors


def fit_speed_report(samples: int = 1_000_000, repeats: int = 3, seed: int = 0) -> str:
    """Time both fits on ``samples`` error samples per joint (best of ``repeats``) and check what EM recovered."""
    model = default_error_model()
    generator = torch.Generator().manual_seed(seed)
    errors = sample_errors(model, samples, "mixture", "mixture", generator, dtype=torch.float64).numpy()
    lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
             f"torch {torch.__version__} ({torch.get_num_threads()} threads)",
             f"data: {errors.shape[0]} samples x {errors.shape[1]} joints x 2 axes (float64)"]
    gaussian_times, mixture_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        fit_gaussian(errors)
        gaussian_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        fit = fit_mixture(errors, window=model.window)
        mixture_times.append(time.perf_counter() - start)
    lines += [f"single Gaussian fit: {min(gaussian_times):.2f} s (best of {repeats})",
              f"mixture EM fit:      {min(mixture_times):.2f} s (best of {repeats}), "
              f"iterations per joint {fit.iterations.min()}-{fit.iterations.max()}, all converged: {fit.converged.all()}",
              f"recovery: max |gamma error| {np.abs(fit.gamma - model.gamma).max():.4f}, "
              f"max |std / true - 1| {np.abs(fit.std / model.std - 1).max():.4f}, "
              f"max |mean error| / std {np.abs((fit.mean - model.mean) / model.std).max():.4f}"]
    return "\n".join(lines)
