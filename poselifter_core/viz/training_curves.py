"""Loss and validation curves of a training run, from its metrics.csv."""
from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_training_curves(metrics_csv: str | Path, output_png: str | Path) -> Path:
    with Path(metrics_csv).open() as stream:
        rows = list(csv.DictReader(stream))
    if not rows:
        raise ValueError(f"{metrics_csv} has no rows")
    epochs = [int(r["epoch"]) for r in rows]
    panels = [("loss (eq. 8)", ["train_loss", "val_loss"]), ("loss terms", ["train_depth_l1", "train_pose_l1"]),
              ("validation error (mm)", ["val_mpjpe_mm", "val_mrpe_mm"])]
    panels = [(title, [k for k in keys if k in rows[0]]) for title, keys in panels]
    panels = [(title, keys) for title, keys in panels if keys]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.5), squeeze=False)
    for ax, (title, keys) in zip(axes[0], panels):
        for key in keys:
            ax.plot(epochs, [float(r[key]) for r in rows], marker=".", label=key)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    output_png = Path(output_png)
    fig.savefig(output_png, dpi=100)
    plt.close(fig)
    return output_png
