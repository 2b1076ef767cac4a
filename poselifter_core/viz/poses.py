"""Pictures of cascade results: 2D skeletons drawn on the image, and a 3D view of all people."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from ..cascade import CascadeResult  # noqa: E402
from ..skeleton import H36M17  # noqa: E402

PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240)]


def _side_colour(base: tuple[int, int, int], joint: int) -> tuple[int, int, int]:
    """Left limbs lighter, right limbs darker, so a mirrored pose is visible."""
    name = H36M17.joint_names[joint]
    factor = 1.35 if name.startswith("L") else 0.7 if name.startswith("R") else 1.0
    return tuple(int(min(255, c * factor)) for c in base)  # type: ignore[return-value]


def draw_2d(image: np.ndarray, result: CascadeResult) -> np.ndarray:
    """The RGB image with each person's box, bones and joints (invalid joints hollow)."""
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    width = max(2, round(max(image.shape[:2]) / 320))
    for i, person in enumerate(result.people):
        colour = PALETTE[i % len(PALETTE)]
        draw.rectangle(person.box.tolist(), outline=colour, width=width)
        label = f"#{i} z={person.root_m[2]:.2f} m" + ("" if person.metric_depth else " (assumed focal)")
        draw.text((person.box[0] + 3, person.box[1] + 2), label, fill=colour)
        for parent, child in H36M17.bones:
            a, b = person.keypoints_2d[parent], person.keypoints_2d[child]
            draw.line([tuple(a), tuple(b)], fill=_side_colour(colour, child), width=width)
        for j, (x, y) in enumerate(person.keypoints_2d):
            r = width + 1
            fill = _side_colour(colour, j) if person.valid[j] else None
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=_side_colour(colour, j))
    return np.asarray(canvas)


def plot_3d(result: CascadeResult, path: str | Path, title: str = "") -> Path:
    """All people in camera coordinates (metres), seen from above-behind the camera."""
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    for i, person in enumerate(result.people):
        colour = np.array(PALETTE[i % len(PALETTE)]) / 255
        joints = person.joints_m
        for parent, child in H36M17.bones:
            # plot x right, z forward (depth), -y up so the picture is upright
            ax.plot(*[[joints[parent, k] * s, joints[child, k] * s] for k, s in ((0, 1), (2, 1), (1, -1))],
                    color=np.clip(colour * (1.3 if H36M17.joint_names[child].startswith("L") else 1.0), 0, 1))
        ax.text(joints[10, 0], joints[10, 2], -joints[10, 1], f"#{i}", color=colour)
    ax.scatter([0], [0], [0], marker="^", color="k")
    ax.text(0, 0, 0, "camera")
    ax.set_xlabel("x (m, right)")
    ax.set_ylabel("z (m, forward)")
    ax.set_zlabel("-y (m, up)")
    if result.people:
        pts = np.concatenate([p.joints_m for p in result.people])
        span = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 2]), np.ptp(pts[:, 1]), 2.0) / 2
        centre = (pts[:, 0].mean(), pts[:, 2].mean() / 2, -pts[:, 1].mean())
        ax.set_xlim(centre[0] - span, centre[0] + span)
        ax.set_ylim(0, max(pts[:, 2].max() * 1.1, 1.0))
        ax.set_zlim(centre[2] - span, centre[2] + span)
    ax.view_init(elev=20, azim=-60)
    ax.set_title(title or f"{len(result.people)} people, camera frame")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
