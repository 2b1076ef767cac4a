"""Pictures of cascade results: 2D skeletons drawn on the image, a top view of the people and
their tracks, and a 3D view of all people. Tracked people have their track's colour everywhere.

:func:`draw_2d` (every video frame, the node's debug image) and :func:`draw_top_view` (every
video frame) draw with OpenCV; matplotlib is imported only by :func:`plot_3d`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..camera import project
from ..cascade import CascadeResult, Person3D
from ..data.rig import TRAINED_DISTANCE_M
from ..floor import FloorPlane
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


def level_rotation(floor: FloorPlane) -> np.ndarray:
    """(3, 3) rotation from the camera optical frame to the camera's levelled frame on ``floor``:
    the same origin, x right and z forward along the floor, y down along gravity (the camera's
    pitch and roll undone), so ``rotation @ p`` of a standing person is upright and its x, z are
    the person's place on the floor seen from above."""
    up = np.asarray(floor.up, dtype=np.float64)
    up = up / np.linalg.norm(up)
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up  # the optical axis along the floor
    if np.linalg.norm(forward) < 1e-6:  # looking straight down: the image's up is forward
        forward = np.array([0.0, -1.0, 0.0]) + up[1] * up
    forward = forward / np.linalg.norm(forward)
    down = -up
    return np.stack([np.cross(down, forward), down, forward])


def _levelled(points: np.ndarray, rotation: np.ndarray | None) -> np.ndarray:
    return points if rotation is None else np.asarray(points, dtype=np.float64) @ rotation.T


def plot_3d(result: CascadeResult, path: str | Path, title: str = "", floor: FloorPlane | None = None) -> Path:
    """All people in camera coordinates (metres), seen from above-behind the camera; with the
    camera's ``floor`` (a known mount), in the camera's levelled frame (:func:`level_rotation`)
    with the height above the floor up, so that standing people are upright on a flat floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rotation = None if floor is None else level_rotation(floor)
    # plotted: x right, z forward (depth), and up: -y, or the height above the floor
    lift = 0.0 if floor is None else float(floor.height_m)
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    for i, person in enumerate(result.people):
        colour = np.array(person_colour(person.track_id, i))
        joints = _levelled(person.joints_m, rotation)
        for parent, child in H36M17.bones:
            ax.plot(*[[joints[parent, k] * s + lift * (k == 1), joints[child, k] * s + lift * (k == 1)]
                      for k, s in ((0, 1), (2, 1), (1, -1))],
                    color=np.clip(colour * (1.3 if H36M17.joint_names[child].startswith("L") else 1.0), 0, 1))
        ax.text(joints[10, 0], joints[10, 2], lift - joints[10, 1], _name(person, i), color=colour)
    ax.scatter([0], [0], [lift], marker="^", color="k")
    ax.text(0, 0, lift, "camera")
    ax.set_xlabel("x (m, right)")
    ax.set_ylabel("z (m, forward)" if floor is None else "z (m, forward along the floor)")
    ax.set_zlabel("-y (m, camera up)" if floor is None else "height above the floor (m)")
    if result.people:
        pts = np.concatenate([_levelled(p.joints_m, rotation) for p in result.people]) - [0.0, lift, 0.0]
        span = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 2]), np.ptp(pts[:, 1]), 2.0) / 2
        # the middle of the range, not the mean: everyone inside (the mean left a far-off person out)
        centre = ((pts[:, 0].min() + pts[:, 0].max()) / 2, 0.0, -(pts[:, 1].min() + pts[:, 1].max()) / 2)
        ax.set_xlim(centre[0] - span, centre[0] + span)
        ax.set_ylim(0, max(pts[:, 2].max() * 1.1, 1.0))
        if floor is None:
            ax.set_zlim(centre[2] - span, centre[2] + span)
        else:  # from the floor to the camera (or the highest joint)
            ax.set_zlim(0.0, max(lift, -pts[:, 1].min(), 2.0) * 1.05)
    if floor is not None and result.people:  # the floor under the people
        (x0, x1), (z1,) = ax.get_xlim(), [ax.get_ylim()[1]]
        ax.plot_surface(np.array([[x0, x1], [x0, x1]]), np.array([[0.0, 0.0], [z1, z1]]), np.zeros((2, 2)),
                        color=(0.5, 0.5, 0.5), alpha=0.15, shade=False)
    ax.view_init(elev=20, azim=-60)
    ax.set_title(title or f"{len(result.people)} people, camera frame")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@dataclass(frozen=True)
class TopViewFrame:
    """Where camera-frame ground positions ``(x, z)`` fall on a square ``height`` x ``height`` top
    view ``range_m`` deep: the camera at the bottom centre, x right, z up the picture, one scale in
    both directions (so the view is about 27 degrees wide either side of the optical axis)."""

    height: int
    range_m: float

    #: Pixels kept between a marker ring's centre and the side edges, so the ring stays whole.
    EDGE_PX = 8

    @property
    def scale(self) -> float:
        """Pixels per metre."""
        return (self.height - 20) / self.range_m

    @property
    def half_width_m(self) -> float:
        return (self.height / 2 - self.EDGE_PX) / self.scale

    def pixel(self, x: float, z: float) -> np.ndarray:
        return np.array([self.height / 2 + x * self.scale, self.height - 10 - z * self.scale])

    def place(self, x: float, z: float) -> tuple[np.ndarray, bool]:
        """The pixel of ``(x, z)`` and True when it is in the view; otherwise where its bearing
        leaves the view (the far edge, or a side edge for a bearing wider than the view's) and
        False."""
        if z <= self.range_m and abs(x) <= self.half_width_m:
            return self.pixel(x, z), True
        along = min(self.range_m / z if z > 0 else np.inf, self.half_width_m / abs(x) if x else np.inf)
        return self.pixel(x * along, z * along), False


def _label(canvas: np.ndarray, text: str, at: np.ndarray, colour: tuple[int, int, int], dy: int) -> None:
    """``text`` right of the pixel ``at`` (``dy`` below it), or left of it where it would leave the picture."""
    (text_width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    left = int(at[0]) + 7
    left = left if left + text_width < canvas.shape[1] else int(at[0]) - 7 - text_width
    cv2.putText(canvas, text, (left, int(at[1]) + dy), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)


def draw_top_view(result: CascadeResult, height: int, range_m: float = TRAINED_DISTANCE_M[1],
                  floor: FloorPlane | None = None) -> np.ndarray:
    """A square ``height`` x ``height`` RGB bird's-eye view of the camera frame (:class:`TopViewFrame`:
    ``range_m`` deep, by default as far as the lifter is trained to place people): each person's
    skeleton seen from above, its id, and its root trail; a coasting track hollow; a person located
    by the head only as a grey dot on a grey line (its depth interval along the ray). A person
    outside the view (beyond ``range_m``, the gates accepting up to ``plausibility.max_depth_m``,
    or on a bearing wider than the view's, which most cameras see) is a ring where their bearing
    leaves the view (its far edge, or a side edge), labelled with their depth (a head-only one: a
    grey ring), so the scale stays fixed over a video and every person is in the picture. With the
    camera's ``floor`` (a known mount) the view is of the levelled frame (:func:`level_rotation`):
    from above the floor, distances along it, and says so in its corner; without one, a camera
    that looks down sees a standing person's height stretched along z."""
    canvas = np.full((height, height, 3), 250, np.uint8)
    frame = TopViewFrame(height, range_m)
    rotation = None if floor is None else level_rotation(floor)

    def pixel(x: float, z: float) -> tuple[int, int]:
        return _point(frame.pixel(x, z))

    centre = pixel(0.0, 0.0)
    for metres in range(2, int(range_m) + 1, 2):  # range rings every 2 m
        radius = int(round(metres * frame.scale * (1 << _SHIFT)))
        cv2.ellipse(canvas, centre, (radius, radius), 0, 180, 360, (215, 215, 215), 1, cv2.LINE_AA, _SHIFT)
        cv2.putText(canvas, f"{metres} m", (height // 2 + 3, int(height - 10 - metres * frame.scale) + 10),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, (160, 160, 160), 1, cv2.LINE_AA)
    cv2.fillPoly(canvas, [np.array([pixel(-0.2, 0.0), pixel(0.2, 0.0), pixel(0.0, 0.35)])], (0, 0, 0), cv2.LINE_AA,
                 _SHIFT)
    if floor is not None:
        cv2.putText(canvas, "from above the floor", (6, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (120, 120, 120), 1,
                    cv2.LINE_AA)
    for i, person in enumerate(result.people):
        colour = _rgb255(person, i)
        x, z = _levelled(person.root_m, rotation)[[0, 2]]
        at, inside = frame.place(x, z)
        if not inside:  # a ring on the bearing, where it leaves the view (far or side edge)
            cv2.circle(canvas, _point(at), 5 << _SHIFT, colour, 2, cv2.LINE_AA, _SHIFT)
            _label(canvas, f"{_name(person, i)} {z:.0f} m", at, colour, 4)
            continue
        if person.root_trail_m is not None and len(person.root_trail_m) > 1:
            trail = np.array([pixel(p[0], p[2]) for p in _levelled(person.root_trail_m, rotation)])
            cv2.polylines(canvas, [trail], False, colour, 2, cv2.LINE_AA, _SHIFT)
        joints = _levelled(person.joints_m, rotation)
        for parent, child in H36M17.bones:
            a, b = joints[parent], joints[child]
            cv2.line(canvas, pixel(a[0], a[2]), pixel(b[0], b[2]), colour, 2, cv2.LINE_AA, _SHIFT)
        cv2.circle(canvas, _point(at), 4 << _SHIFT, colour, 1 if person.track_state == COASTING else -1, cv2.LINE_AA,
                   _SHIFT)
        _label(canvas, _name(person, i), at, colour, -6)
    for skipped in result.head_only:  # grey: the depth interval along the ray, a dot at the estimate
        head = skipped.head.position_m
        near, far = (_levelled(head * (z / head[2]), rotation) for z in skipped.head.depth_range_m)
        head = _levelled(head, rotation)
        cv2.line(canvas, pixel(near[0], near[2]), pixel(far[0], far[2]), HEAD_ONLY_RGB, 2, cv2.LINE_AA, _SHIFT)
        at, inside = frame.place(head[0], head[2])  # outside: a ring where its bearing leaves the view
        cv2.circle(canvas, _point(at), (4 if inside else 5) << _SHIFT, HEAD_ONLY_RGB, -1 if inside else 2, cv2.LINE_AA,
                   _SHIFT)
    return canvas
