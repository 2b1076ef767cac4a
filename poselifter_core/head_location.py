"""Where a person is when the 2D stage sees little more than the face: the head's 3D position from
the face keypoints and a head-size prior, with its depth uncertainty (no body, no lifter).

Why: the lifter needs enough body joints (:mod:`.visibility`); people behind a table, a board or
another person, or in a shirt the 2D stage cannot read, often show only the face. Their face
keypoints (nose, eyes, ears) are usually found with confidence, and a head is a rigid object of
known size, so its distance follows from its image size, as for any object of known size. No
body pose is made up: the result is one point with an interval.

The estimate (weak perspective; the head's depth extent is small against its distance):

1. The observed face keypoints, undistorted, as focal-normalized rays ``r_i = ((u - cx) / fx,
   (v - cy) / fy)``; their spread ``s`` is the RMS distance from their centroid.
2. The same keypoints of an average adult head (:data:`HEAD_TEMPLATE`), projected orthographically
   at every orientation of the prior (any yaw: the 2D stage places face keypoints on heads seen
   from behind too; pitch within ``MAX_PITCH_DEG``), give the metric spread ``S``: the head
   at depth ``Z`` has ``s = S / Z``. Roll turns the points in the image plane and leaves ``S``
   alone. For the five face keypoints ``S`` changes little with yaw (the ears' width seen from
   the front, the ear-to-nose depth seen from the side), which is why this works.
3. ``ln Z = mean(ln S) - ln s``, with the standard deviation of ``ln Z`` from four independent
   parts: the orientation's spread of ``ln S``, adult head size (:data:`HEAD_SIZE_LOG_STD`),
   keypoint noise (``noise`` per axis moves ``s`` by ``noise / sqrt(n)``; ``noise`` is
   :data:`KEYPOINT_NOISE_PX` pixels of the 2D stage's input, ``pixel_scale`` image pixels each)
   and where the 2D stage puts face keypoints it cannot see (:data:`PLACEMENT_LOG_STD`: on a head
   seen from the side or behind, MoveNet puts the eyes and nose on the cheek's outline, closer
   together than a head's).
   The reported interval is the 10th to 90th percentile of that log-normal.
4. The position is the ray through the observed keypoints' centroid at that depth: the face's
   centre, a few centimetres in front of the middle of the head.

Tested on generated heads of known depth, orientation and size (tests/test_head_location.py):
the interval holds the true depth about as often as it says.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .camera import Intrinsics
from .distortion import Distortion, undistort_points
from .skeleton import COCO17

FACE_JOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
FACE_INDICES = np.array([COCO17.index(name) for name in FACE_JOINTS])

#: The face keypoints of an average adult head [m], in the head's frame: x to the person's left,
#: y down, z out of the face, origin midway between the ears. Ears 14.4 cm apart (bitragion
#: breadth), eyes 6.3 cm apart (interpupillary distance) 1.5 cm above and 8 cm in front of the
#: ears, the nose tip 2 cm below and 11 cm in front of them (rounded adult means of anthropometric
#: surveys; their spread between people is the size prior below).
HEAD_TEMPLATE = np.array([
    [0.0, 0.020, 0.110],  # nose
    [0.0315, -0.015, 0.080],  # left_eye
    [-0.0315, -0.015, 0.080],  # right_eye
    [0.072, 0.0, 0.0],  # left_ear
    [-0.072, 0.0, 0.0],  # right_ear
])
#: Standard deviation of ln(head size) between adults (head breadth and length vary by about
#: 4 % of their mean; 6 % also covers the template's own rounding).
HEAD_SIZE_LOG_STD = 0.06
#: Head pitch (nodding, or a camera above or below the face) the prior covers, degrees.
MAX_PITCH_DEG = 40.0
#: Noise of one face keypoint per axis in pixels of the 2D stage's input (an assumption; in image
#: pixels it is larger when the image is shrunk to the 2D stage's input size). It only widens the
#: interval: the spread is not corrected for it, because the 2D stage's face keypoints err
#: together more than independently (on vtest.avi, correcting for independent noise moved the
#: depth of small faces away from the lifter's, docs/benchmarks.md).
KEYPOINT_NOISE_PX = 1.0
#: Standard deviation of ln(spread) from where the 2D stage places face keypoints, measured: on
#: the people the cascade lifts in vtest.avi (faces of 6 or more 2D-input pixels) and the OpenCV
#: photos, ln(head-only depth / lifter depth) spreads by 0.15-0.27 where the parts above give
#: 0.09-0.10 for such faces (docs/benchmarks.md, #18).
PLACEMENT_LOG_STD = 0.15
#: z of the 10th and 90th percentile of a normal: the interval's bounds.
_Z80 = 1.2815515655446004


@dataclass(frozen=True)
class HeadLocation:
    """A head's position (camera optical frame, metres) with its depth interval."""

    position_m: np.ndarray  # (3,) the observed face keypoints' centre at the head's depth
    depth_range_m: tuple[float, float]  # 10th and 90th percentile of the depth
    depth_log_std: float  # standard deviation of ln(depth)
    face_keypoints: int  # how many face keypoints it was measured from


@lru_cache(maxsize=32)
def template_log_spread(observed: tuple[bool, ...]) -> tuple[float, float]:
    """Mean and standard deviation of ln S, the RMS spread [m] of the ``observed`` face keypoints
    of :data:`HEAD_TEMPLATE` projected orthographically, over the orientation prior (a grid:
    yaw every 5 degrees all round, pitch every 5 degrees within +-:data:`MAX_PITCH_DEG`)."""
    points = HEAD_TEMPLATE[np.array(observed, dtype=bool)]
    yaw = np.radians(np.arange(0.0, 360.0, 5.0))[:, None]
    pitch = np.radians(np.arange(-MAX_PITCH_DEG, MAX_PITCH_DEG + 1e-9, 5.0))[None, :]
    x, y, z = points.T[..., None, None]
    # Yaw about the head's vertical axis, then pitch about the camera's x axis; keep image x, y.
    image_x = x * np.cos(yaw) + z * np.sin(yaw)
    depth = -x * np.sin(yaw) + z * np.cos(yaw)
    image_y = y * np.cos(pitch) - depth * np.sin(pitch)
    spread = np.sqrt(np.mean((image_x - image_x.mean(0)) ** 2 + (image_y - image_y.mean(0)) ** 2, axis=0))
    log_spread = np.log(spread)
    return float(log_spread.mean()), float(log_spread.std())


def locate_head(keypoints: np.ndarray, observed: np.ndarray, intrinsics: Intrinsics,
                distortion: Distortion | None = None, min_keypoints: int = 3,
                pixel_scale: float = 1.0, placement_log_std: float = PLACEMENT_LOG_STD) -> HeadLocation | None:
    """The head of one COCO-17 person from its ``(17, 2)`` pixel ``keypoints`` and ``(17,)`` bool
    ``observed`` mask (module docstring), or None with fewer than ``min_keypoints`` (at least 3)
    observed face keypoints, or when they do not span a pixel of the 2D stage's input. ``pixel_scale``:
    image pixels per pixel of the 2D stage's input. ``placement_log_std``: the 2D stage's own
    face-keypoint term (0 for ideal keypoints, as on generated heads)."""
    if min_keypoints < 3:
        raise ValueError(f"a head needs at least 3 face keypoints to have a size, got min_keypoints={min_keypoints}")
    face = np.asarray(observed, dtype=bool)[FACE_INDICES]
    if face.sum() < min_keypoints:
        return None
    pixels = undistort_points(np.asarray(keypoints, dtype=np.float64)[FACE_INDICES[face]], intrinsics, distortion)
    if not np.isfinite(pixels).all():
        return None
    rays = (pixels - [intrinsics.cx, intrinsics.cy]) / [intrinsics.fx, intrinsics.fy]
    centre = rays.mean(axis=0)
    focal = float(np.sqrt(intrinsics.fx * intrinsics.fy))
    n = int(face.sum())
    spread = float(np.sqrt(np.mean(np.sum((rays - centre) ** 2, axis=1))))
    if spread * focal < pixel_scale:
        return None
    noise = KEYPOINT_NOISE_PX * pixel_scale
    mean_log_size, orientation_std = template_log_spread(tuple(bool(v) for v in face))
    noise_std = noise / np.sqrt(n) / (spread * focal)
    log_std = float(np.sqrt(orientation_std**2 + HEAD_SIZE_LOG_STD**2 + noise_std**2 + placement_log_std**2))
    log_depth = mean_log_size - np.log(spread)
    depth = float(np.exp(log_depth))
    return HeadLocation(np.array([centre[0] * depth, centre[1] * depth, depth]),
                        (float(np.exp(log_depth - _Z80 * log_std)), float(np.exp(log_depth + _Z80 * log_std))),
                        log_std, n)
