"""The floor fitted under a fixed camera from the people it lifted (docs/benchmarks.md, #18,
"Fitting the mount from a video"): one figure, ``docs/figures/floor_fit_vtest.png``.

Left: the standing ankles seen from above, on the fitted floor (metres along the floor from the
point under the camera: across the view and away from the camera), those on the floor and the
others. Right: each ankle's depth against the depth at which its ray meets the fitted plane (log
ratio), the spread the fit works with.

    poselifter infer /usr/share/doc/opencv-doc/examples/data/vtest.avi --fov 60 --no-video -o runs/vtest_fov
    python benchmarks/floor_fit_figure.py runs/vtest_fov [--out docs/figures/floor_fit_vtest.png]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from poselifter_core.cli.fit_floor import read_people, results_file  # noqa: E402
from poselifter_core.floor import ANKLE_HEIGHT_M, ANKLES  # noqa: E402
from poselifter_core.floor_fit import LOG_TOLERANCE, fit_floor, lowest_ankles  # noqa: E402


def floor_axes(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors along the floor: across the view (the camera's x, flattened) and away from it."""
    across = np.array([1.0, 0.0, 0.0]) - up[0] * up
    across /= np.linalg.norm(across)
    return across, np.cross(across, up) * -1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", help="infer's output folder or results file")
    parser.add_argument("--out", default="docs/figures/floor_fit_vtest.png")
    args = parser.parse_args()
    path = results_file(args.results)
    joints, valid, groups, _, _ = read_people(path)
    ankles, rows = lowest_ankles(joints, valid, ANKLES)
    fit = fit_floor(ankles, groups[rows])
    w = -fit.up / (fit.camera_height_m - ANKLE_HEIGHT_M)  # the ankles' plane, w . p = 1 (floor_fit)
    log_ratio = np.log(np.clip(ankles @ w, 1e-9, None))
    on = np.abs(log_ratio) <= LOG_TOLERANCE
    across, away = floor_axes(fit.up)
    x, y = ankles @ across, ankles @ away

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    left.scatter(x[on], y[on], s=4, c="tab:blue", label=f"on the floor ({on.sum()})")
    left.scatter(x[~on], y[~on], s=8, c="tab:red", marker="x", label=f"off it ({(~on).sum()})")
    left.scatter([0], [0], marker="^", s=80, c="k", label="under the camera")
    left.set_xlabel("across the view (m)")
    left.set_ylabel("away from the camera, along the floor (m)")
    left.set_aspect("equal")
    left.legend(loc="lower right", fontsize=8)
    left.set_title(f"{path.parent.name}: standing ankles from above", fontsize=10)
    right.hist(log_ratio[np.abs(log_ratio) < 0.6], bins=60, color="tab:blue")
    for edge in (-LOG_TOLERANCE, LOG_TOLERANCE):
        right.axvline(edge, color="k", lw=0.8, ls="--")
    right.set_xlabel("log(depth / depth where the ray meets the floor)")
    right.set_ylabel("ankles")
    right.set_title(f"height {fit.camera_height_m:.2f} m, pitch {fit.camera_pitch_deg:.1f}°, "
                    f"roll {fit.camera_roll_deg:.1f}°", fontsize=10)
    figure.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=80)
    Image.open(out).convert("RGB").quantize(256).save(out)  # the size rule for committed figures
    print(f"written: {out} ({out.stat().st_size // 1024} kB); {on.sum()} of {len(ankles)} ankles on the floor")


if __name__ == "__main__":
    main()
