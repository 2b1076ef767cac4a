"""Fitting-speed benchmark: ``python -m poselifter_core.noise.benchmark [--samples N]``.

Draws N error samples per joint from the default model (17 joints, mixture, uniform outliers),
times the single-Gaussian fit and the EM fit, and reports how well EM recovered the parameters.
Kept out of the test suite: at 1M samples it needs about 1.7 GB of memory and seconds of CPU.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from .em import fit_gaussian, fit_mixture
from .error_model import default_error_model
from .synthesis import sample_errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000, help="error samples per joint")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (the best is reported)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    model = default_error_model()
    generator = torch.Generator().manual_seed(args.seed)
    errors = sample_errors(model, args.samples, "mixture", "mixture", generator, dtype=torch.float64).numpy()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"data: {errors.shape[0]} samples x {errors.shape[1]} joints x 2 axes (float64)")

    gaussian_times, mixture_times = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fit_gaussian(errors)
        gaussian_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        fit = fit_mixture(errors, window=model.window)
        mixture_times.append(time.perf_counter() - start)
    print(f"single Gaussian fit: {min(gaussian_times):.2f} s (best of {args.repeats})")
    print(f"mixture EM fit:      {min(mixture_times):.2f} s (best of {args.repeats}), "
          f"iterations per joint {fit.iterations.min()}-{fit.iterations.max()}, all converged: {fit.converged.all()}")
    print(f"recovery: max |gamma error| {np.abs(fit.gamma - model.gamma).max():.4f}, "
          f"max |std / true - 1| {np.abs(fit.std / model.std - 1).max():.4f}, "
          f"max |mean error| / std {np.abs((fit.mean - model.mean) / model.std).max():.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
