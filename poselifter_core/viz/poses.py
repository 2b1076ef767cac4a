"""Pictures of cascade results: 2D skeletons drawn on the image, a top view of the people and
their tracks, and a 3D view of all people. Tracked people have their track's colour everywhere.

:func:`draw_2d` (every video frame, the node's debug image) and :func:`draw_top_view` (every
video frame) draw with OpenCV; matplotlib is imported only by :func:`plot_3d`.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..camera import project
from ..cascade import CascadeResult, Person3D
from ..data.rig import TRAINED_DISTANCE_M
from ..skeleton import H36M17
from ..tracking import COASTING
from ..tracking.colours import person_colour


def _rgb255(person: Person3D, index: int) -> tuple[int, int, int]:
    """The person's track colour (or a colour by position when untracked), 0-255."""
    return tuple(round(255 * c) for c in person_colour(person.track_id, index))  # type: ignore[return-value]


def _name(person: Person3D, index: int) -> str:
    """``id t3`` for a tracked person, ``#0`` (position in the frame) otherwise."""
    return f"id {person.track_id}" if person.track_id else f"#{index}"


def _side_colour(base: tuple[int, int, int], joint: int) -> tuple[int, int, int]:
    """Left limbs lighter, right limbs darker, so a mirrored pose is visible."""
    name = H36M17.joint_names[joint]
    factor = 1.35 if name.startswith("L") else 0.7 if name.startswith("R") else 1.0
    return tuple(int(min(255, c * factor)) for c in base)  # type: ignore[return-value]


#: Fractional bits of the coordinates given to OpenCV's drawing (sub-pixel positions).
_SHIFT = 2


def _point(xy: np.ndarray) -> tuple[int, int]:
    return int(round(xy[0] * (1 << _SHIFT))), int(round(xy[1] * (1 << _SHIFT)))


#: Colour of the people located by their head only (skipped, no skeleton).
HEAD_ONLY_RGB = (160, 160, 160)


def draw_2d(image: np.ndarray, result: CascadeResult) -> np.ndarray:
    """A copy of the RGB image with each person's box, bones and joints: observed joints filled at
    their 2D keypoints, inferred ones hollow where the lifter put them (thin bones); people located
    by their head only in grey: a thin box, a dot at the head and its depth interval."""
    canvas = image.copy()
    width = max(2, round(max(image.shape[:2]) / 320))
    for skipped in result.head_only:
        box, head = skipped.box, skipped.head
        cv2.rectangle(canvas, _point(box[:2]), _point(box[2:]), HEAD_ONLY_RGB, 1, cv2.LINE_8, _SHIFT)
        low, high = head.depth_range_m
        cv2.putText(canvas, f"head only z={head.position_m[2]:.2f} m ({low:.2f}-{high:.2f})",
                    (int(box[0]) + 3, int(box[1]) + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, HEAD_ONLY_RGB, 1, cv2.LINE_AA)
        centre = project(head.position_m[None], result.intrinsics.as_array())[0]
        cv2.circle(canvas, _point(centre), (width + 2) << _SHIFT, HEAD_ONLY_RGB, -1, cv2.LINE_AA, _SHIFT)
    for i, person in enumerate(result.people):
        if person.track_state == COASTING:  # not in this image: nothing to draw on it
            continue
        colour = _rgb255(person, i)
        box = person.box
        cv2.rectangle(canvas, _point(box[:2]), _point(box[2:]), colour, width, cv2.LINE_8, _SHIFT)
        label = f"{_name(person, i)} z={person.root_m[2]:.2f} m" + ("" if person.metric_depth else " (assumed focal)")
        cv2.putText(canvas, label, (int(box[0]) + 3, int(box[1]) + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1,
                    cv2.LINE_AA)
        # an inferred joint is drawn where the lifter put it (its 3D joint projected), hollow, with thin bones
        in_front = person.joints_m[:, 2] > 1e-3
        safe = np.where(in_front[:, None], person.joints_m, [0.0, 0.0, 1.0])
        lifted = project(safe, result.intrinsics.as_array())
        points = np.where((person.valid | ~in_front)[:, None], person.keypoints_2d, lifted)
        for parent, child in H36M17.bones:
            thickness = width if person.valid[parent] and person.valid[child] else 1
            cv2.line(canvas, _point(points[parent]), _point(points[child]), _side_colour(colour, child), thickness,
                     cv2.LINE_AA, _SHIFT)
        for j, xy in enumerate(points):
            joint_colour = _side_colour(colour, j)
            cv2.circle(canvas, _point(xy), (width + 1) << _SHIFT, joint_colour, -1 if person.valid[j] else 1,
                       cv2.LINE_AA, _SHIFT)
    return canvas


def plot_3d(result: CascadeResult, path: str | Path, title: str = "") -> Path:
    """All people in camera coordinates (metres), seen from above-behind the camera."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    for i, person in enumerate(result.people):
        colour = np.array(person_colour(person.track_id, i))
        joints = person.joints_m
        for parent, child in H36M17.bones:
            # plot x right, z forward (depth), -y up so the picture is upright
            ax.plot(*[[joints[parent, k] * s, joints[child, k] * s] for k, s in ((0, 1), (2, 1), (1, -1))],
                    color=np.clip(colour * (1.3 if H36M17.joint_names[child].startswith("L") else 1.0), 0, 1))
        ax.text(joints[10, 0], joints[10, 2], -joints[10, 1], _name(person, i), color=colour)
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


def draw_top_view(result: CascadeResult, height: int, range_m: float = TRAINED_DISTANCE_M[1]) -> np.ndarray:
    """A square ``height`` x ``height`` RGB bird's-eye view of the camera frame (x right, z up the
    picture, camera at the bottom centre, ``range_m`` deep: by default as far as the lifter is
    trained to place people): each person's skeleton seen from above, its id, and its root trail;
    a coasting track hollow; a person located by the head only as a grey dot on a grey line (its
    depth interval along the ray). A person beyond ``range_m`` (the gates accept up to
    ``plausibility.max_depth_m``) is a ring where their bearing leaves the view (its far edge, or
    a side edge for a wide bearing), labelled with their depth (a head-only one: a grey ring), so
    the scale stays fixed over a video and nobody beyond the range is drawn off the picture."""
    canvas = np.full((height, height, 3), 250, np.uint8)
    scale = (height - 20) / range_m
    half_width_m = (height / 2 - 8) / scale  # a ring 8 px from the side edges stays whole

    def pixel(x: float, z: float) -> tuple[int, int]:
        return _point(np.array([height / 2 + x * scale, height - 10 - z * scale]))

    def at_edge(x: float, z: float) -> tuple[int, int]:
        """Where the bearing of ``(x, z)``, beyond ``range_m``, leaves the view (far or side edge)."""
        along = min(range_m / z, half_width_m / abs(x)) if x else range_m / z
        return pixel(x * along, z * along)

    centre = pixel(0.0, 0.0)
    for metres in range(2, int(range_m) + 1, 2):  # range rings every 2 m
        radius = int(round(metres * scale * (1 << _SHIFT)))
        cv2.ellipse(canvas, centre, (radius, radius), 0, 180, 360, (215, 215, 215), 1, cv2.LINE_AA, _SHIFT)
        cv2.putText(canvas, f"{metres} m", (height // 2 + 3, int(height - 10 - metres * scale) + 10),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, (160, 160, 160), 1, cv2.LINE_AA)
    cv2.fillPoly(canvas, [np.array([pixel(-0.2, 0.0), pixel(0.2, 0.0), pixel(0.0, 0.35)])], (0, 0, 0), cv2.LINE_AA,
                 _SHIFT)
    for i, person in enumerate(result.people):
        colour = _rgb255(person, i)
        if person.root_m[2] > range_m:  # on the bearing, where it leaves the view (far or side edge)
            x, z = person.root_m[[0, 2]]
            edge = at_edge(x, z)
            cv2.circle(canvas, edge, 5 << _SHIFT, colour, 2, cv2.LINE_AA, _SHIFT)
            label = f"{_name(person, i)} {z:.0f} m"
            (text_width, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
            left = edge[0] // (1 << _SHIFT) + 7
            left = left if left + text_width < height else left - 14 - text_width  # beside the ring, inside
            cv2.putText(canvas, label, (left, edge[1] // (1 << _SHIFT) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        colour, 1, cv2.LINE_AA)
            continue
        if person.root_trail_m is not None and len(person.root_trail_m) > 1:
            trail = np.array([pixel(p[0], p[2]) for p in person.root_trail_m])
            cv2.polylines(canvas, [trail], False, colour, 2, cv2.LINE_AA, _SHIFT)
        for parent, child in H36M17.bones:
            a, b = person.joints_m[parent], person.joints_m[child]
            cv2.line(canvas, pixel(a[0], a[2]), pixel(b[0], b[2]), colour, 2, cv2.LINE_AA, _SHIFT)
        root = pixel(person.root_m[0], person.root_m[2])
        cv2.circle(canvas, root, 4 << _SHIFT, colour, 1 if person.track_state == COASTING else -1, cv2.LINE_AA, _SHIFT)
        cv2.putText(canvas, _name(person, i), (root[0] // (1 << _SHIFT) + 6, root[1] // (1 << _SHIFT) - 6),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
    for skipped in result.head_only:  # grey: the depth interval along the ray, a dot at the estimate
        head = skipped.head.position_m
        near, far = (head * (z / head[2]) for z in skipped.head.depth_range_m)
        cv2.line(canvas, pixel(near[0], near[2]), pixel(far[0], far[2]), HEAD_ONLY_RGB, 2, cv2.LINE_AA, _SHIFT)
        if head[2] > range_m:  # a ring where its bearing leaves the view, as a lifted person's
            cv2.circle(canvas, at_edge(head[0], head[2]), 5 << _SHIFT, HEAD_ONLY_RGB, 2, cv2.LINE_AA, _SHIFT)
        else:
            cv2.circle(canvas, pixel(head[0], head[2]), 4 << _SHIFT, HEAD_ONLY_RGB, -1, cv2.LINE_AA, _SHIFT)
    return canvas
