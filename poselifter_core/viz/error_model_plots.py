"""Figures of the 2D error model (the paper's Figure 5 and summaries), written as PNG files.

Per joint and axis: the histogram of the errors (person_scale units) with the single-Gaussian
fit (dashed) and the mixture (solid) overlaid. The mixture's marginal along one axis is
gamma N(x; mu, s^2) + (1 - gamma) / (2 W) on [-W, W] (the uniform square's marginal).
"""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from ..noise.error_model import ErrorModel  # noqa: E402
from ..skeleton import get_skeleton  # noqa: E402

AXES = ("x", "y")


def gaussian_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (np.sqrt(2.0 * np.pi) * std)


def mixture_marginal_pdf(x: np.ndarray, model: ErrorModel, joint: int, axis: int) -> np.ndarray:
    """Density of one coordinate of joint ``joint``'s error under the mixture."""
    gamma = model.gamma[joint]
    inside = np.abs(x) <= model.window
    return (gamma * gaussian_pdf(x, model.mean[joint, axis], model.std[joint, axis])
            + (1.0 - gamma) * inside / (2.0 * model.window))


def default_half_range(model: ErrorModel, joint: int) -> float:
    """Plot range: six inlier standard deviations, at most the outlier window."""
    return float(min(model.window, 6.0 * model.std[joint].max()))


def _file_name(index: int, name: str, axis: str) -> str:
    return f"{index:02d}_{re.sub(r'[^A-Za-z0-9]+', '_', name)}_{axis}.png"


def _draw(ax: plt.Axes, values: np.ndarray, model: ErrorModel, joint: int, axis: int, half_range: float,
          bins: int, legend: bool) -> None:
    edges = np.linspace(-half_range, half_range, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    # Density over all samples, also those outside the plotted range, so the curves match.
    density = counts / (max(len(values), 1) * np.diff(edges))
    ax.stairs(density, edges, fill=True, color="#9ecae1", label="errors")
    x = np.linspace(-half_range, half_range, 600)
    ax.plot(x, gaussian_pdf(x, model.gaussian_mean[joint, axis], model.gaussian_std[joint, axis]), "--",
            color="#31a354", lw=1.5, label="single Gaussian")
    ax.plot(x, mixture_marginal_pdf(x, model, joint, axis), "-", color="#de2d26", lw=1.5,
            label=f"mixture (gamma {model.gamma[joint]:.3f})")
    ax.set_xlim(-half_range, half_range)
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(fontsize=8)


def write_joint_plots(errors: np.ndarray, valid: np.ndarray, model: ErrorModel, out_dir: str | Path,
                      bins: int = 100, half_range: float | None = None) -> list[Path]:
    """One PNG per joint and axis (Figure 5 analogue); returns the paths written."""
    names = get_skeleton(model.skeleton).joint_names
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    fig, ax = plt.subplots(figsize=(5, 3.6))
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.91)  # fixed: tight_layout is slow
    for j, name in enumerate(names):
        for axis, axis_name in enumerate(AXES):
            ax.clear()
            _draw(ax, errors[valid[:, j], j, axis], model, j, axis,
                  half_range or default_half_range(model, j), bins, legend=True)
            ax.set_xlabel(f"error in {axis_name} / sigma (person scale, eq. 4)")
            ax.set_ylabel("probability density")
            ax.set_title(f"{name} ({axis_name}), n = {int(valid[:, j].sum())}")
            path = out_dir / _file_name(j, name, axis_name)
            fig.savefig(path, dpi=100)
            written.append(path)
    plt.close(fig)
    return written


def write_summary_histograms(errors: np.ndarray, valid: np.ndarray, model: ErrorModel, path: str | Path,
                             bins: int = 60, half_range: float | None = None) -> Path:
    """All joints and axes in one grid, log density so the outlier plateau shows."""
    names = get_skeleton(model.skeleton).joint_names
    panels = [(j, axis) for j in range(len(names)) for axis in range(2)]
    columns = 6
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 2.3 * rows))
    for ax, (j, axis) in zip(axes.flat, panels):
        _draw(ax, errors[valid[:, j], j, axis], model, j, axis, half_range or model.window, bins, legend=False)
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-3)
        ax.set_title(f"{names[j]} {AXES[axis]}  g={model.gamma[j]:.2f}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, ["errors", "single Gaussian", "mixture"], loc="lower right", fontsize=10)
    fig.suptitle("2D error per joint and axis (units: sigma of eq. 4); log density")
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.04, top=0.93, hspace=0.45, wspace=0.25)
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_parameter_summary(model: ErrorModel, path: str | Path) -> Path:
    """Per-joint inlier std (mixture vs single Gaussian) and outlier fraction 1 - gamma."""
    names = get_skeleton(model.skeleton).joint_names
    index = np.arange(len(names))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    width = 0.2
    for k, (values, label, color) in enumerate((
        (model.std[:, 0], "mixture std x", "#de2d26"), (model.std[:, 1], "mixture std y", "#fc9272"),
        (model.gaussian_std[:, 0], "single Gaussian std x", "#31a354"),
        (model.gaussian_std[:, 1], "single Gaussian std y", "#a1d99b"),
    )):
        top.bar(index + (k - 1.5) * width, values, width, label=label, color=color)
    top.set_ylabel("std / sigma")
    top.legend(fontsize=8, ncol=2)
    top.grid(True, axis="y", alpha=0.3)
    bottom.bar(index, 1.0 - model.gamma, 0.6, color="#3182bd")
    bottom.set_ylabel("outlier fraction 1 - gamma")
    bottom.grid(True, axis="y", alpha=0.3)
    bottom.set_xticks(index, names, rotation=45, ha="right")
    fig.suptitle(f"Error model ({model.skeleton}, window +-{model.window} sigma)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
