"""Root depth from a known floor: the camera's mount (height above the floor, pitch, roll) fixes
where a standing person's feet are, and with them the person's depth, without knowing their size.

Why: a single image cannot tell a small near person from a large far one. The lifter answers with
the training bodies' size, so its root depth is off by the person's size difference (docs/
benchmarks.md, #18: most of the root error left). A robot or a fixed camera usually knows how high
its camera is and how it is tilted; then the ray through an observed ankle meets the floor (raised
by the ankle's height) at one point, whatever the person's size.

The estimate (per person, :func:`floor_root_depth`): of the observed ankles, take the one lower in
the lifter's own 3D pose (the standing foot, not a swinging one), intersect its pixel ray with the
plane ``ankle_height_m`` above the floor, and subtract the lifter's ankle-to-root offset to get the
root's depth. Its error, in log depth, is taken from the ray's angle below the horizon ``d``: an
angle error ``e_angle`` (2D error and mount calibration) moves the point along the ray by
``cot(d) e_angle``, and a contact-height error ``e_h`` (a lifted foot, shoes, an uneven floor) by
``e_h / (camera height - ankle height)``. It is undefined when no ankle is observed or the ray
does not point down.

:func:`fuse_root_depth` combines it with the lifter's depth by inverse variance in log depth, and
keeps the lifter's alone when the two disagree by more than a gate, in combined standard
deviations. The gate is asymmetric: feet above the floor (a step, a platform, a jump) make the floor's
estimate too far and never too near, so "farther" is believed only up to ``far_gate_sigmas`` (1)
and "nearer" up to ``gate_sigmas`` (3). Chosen on the validation split and on the two training
subjects who climb on platforms (CMU 3 and 94): with a symmetric gate of 3 the floor made their
root error worse, 4.0 -> 6.8 %; with this one 4.9 %, while the validation subjects keep most of
the gain (docs/benchmarks.md, "Root depth from a known floor").

Frames: the camera optical frame of REP-103 (x right, y down, z forward); pitch positive looking
down, roll positive turning the camera clockwise as seen from behind it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import back_project
from .settings import setting
from .skeleton import H36M17

#: H36M-17 ankles ("RFoot", "LFoot": COCO's ankles), the joints nearest the floor when standing.
ANKLES = (H36M17.index("RFoot"), H36M17.index("LFoot"))
#: A standing person's ankle keypoints above the floor [m]: the ankle joint is about 4 % of stature
#: above the sole (Winter, "Biomechanics and Motor Control of Human Movement": 0.039 H), plus a shoe.
ANKLE_HEIGHT_M = 0.08
#: Rays closer to the horizon than this give no floor estimate (the distance along them diverges).
MIN_DEPRESSION_DEG = 0.5


@dataclass
class FloorConfig:
    """The camera's mount above a flat floor, and the error model of the floor estimate."""

    camera_height_m: float = setting(0.0, "Height of the camera above the floor [m]; with it, people's feet on the "
                                     "floor fix their depth (poselifter_core/floor.py). 0: unknown, not used",
                                     low=0.0, high=100.0)
    camera_pitch_deg: float = setting(0.0, "Camera pitch below the horizon [deg], positive looking down",
                                      low=-90.0, high=90.0)
    camera_roll_deg: float = setting(0.0, "Camera roll about its optical axis [deg], positive clockwise seen from "
                                     "behind the camera", low=-90.0, high=90.0)
    ankle_height_m: float = setting(ANKLE_HEIGHT_M, "Height of a standing person's ankle keypoints above the floor [m] "
                                    "(about 4 % of stature, plus shoes)", low=0.0, high=0.5)
    angle_error_deg: float = setting(0.5, "1-sigma angle error of an ankle's ray (2D error and a mount measured by "
                                     "hand; lower it for a calibrated mount) [deg]", low=0.0, high=45.0)
    contact_error_m: float = setting(0.05, "1-sigma error of the ankle's height above the floor (a lifted foot, an "
                                     "uneven floor, the mount's height) [m]", low=0.0, high=1.0)
    lifter_depth_error: float = setting(0.085, "1-sigma relative error of the lifter's own root depth (the shipped "
                                        "lifter with detector-like 2D noise, on the validation split)",
                                        low=1e-3, high=10.0)
    gate_sigmas: float = setting(3.0, "Keep the lifter's depth alone when the floor's is nearer by more than this "
                                 "many combined standard deviations", low=0.0, high=100.0)
    far_gate_sigmas: float = setting(1.0, "Keep the lifter's depth alone when the floor's is farther by more "
                                     "than this many combined standard deviations (feet above the floor, on a step, a "
                                     "platform or in a jump, put the floor's estimate too far, never too near)",
                                     low=0.0, high=100.0)

    @property
    def enabled(self) -> bool:
        return self.camera_height_m > 0

    def plane(self) -> "FloorPlane":
        return FloorPlane.from_mount(self.camera_height_m, self.camera_pitch_deg, self.camera_roll_deg)


@dataclass(frozen=True)
class FloorPlane:
    """A floor in the camera optical frame: the unit ``up`` vector and the camera's height above it."""

    up: np.ndarray  # (3,) or (N, 3): world up in camera coordinates
    height_m: float | np.ndarray  # () or (N,)

    @classmethod
    def from_mount(cls, height_m: float, pitch_deg: float, roll_deg: float) -> "FloorPlane":
        pitch, roll = np.radians(pitch_deg), np.radians(roll_deg)
        up = np.array([-np.sin(roll) * np.cos(pitch), -np.cos(roll) * np.cos(pitch), -np.sin(pitch)])
        return cls(up, float(height_m))

    def mount_angles_deg(self) -> tuple[float, float]:
        """Pitch and roll [deg] of a single plane's ``up`` vector: the inverse of :meth:`from_mount`."""
        up = np.asarray(self.up, dtype=np.float64)
        return (float(np.degrees(np.arcsin(np.clip(-up[2], -1.0, 1.0)))),
                float(np.degrees(np.arctan2(-up[0], -up[1]))))

    def height_above(self, points_m: np.ndarray) -> np.ndarray:
        """Height above the floor [m] of (..., 3) camera-frame points (one plane, or one per row of N)."""
        up = np.asarray(self.up, dtype=np.float64)
        height = np.asarray(self.height_m, dtype=np.float64)
        if up.ndim == 2:  # one plane per sample: broadcast over the points' middle axes
            extra = points_m.ndim - 2
            up = up.reshape(len(up), *[1] * extra, 3)
            height = height.reshape(len(height), *[1] * extra)
        return np.sum(points_m * up, axis=-1) + height


def floor_root_depth(keypoints: np.ndarray, observed: np.ndarray, intrinsics: np.ndarray, relative_m: np.ndarray,
                     plane: FloorPlane, config: FloorConfig) -> tuple[np.ndarray, np.ndarray]:
    """Root depth [m] from the floor and its 1-sigma error in log depth, per person; NaN where
    there is no estimate (module docstring).

    ``keypoints`` (N, 17, 2) undistorted H36M-17 pixels, ``observed`` (N, 17) bool, ``intrinsics``
    (N, 4) or (4,) ``[fx, fy, cx, cy]``, ``relative_m`` (N, 17, 3) the lifter's root-relative pose.
    """
    n = len(keypoints)
    camera = np.broadcast_to(np.asarray(intrinsics, dtype=np.float64), (n, 4))
    ankles = list(ANKLES)
    pixels = np.asarray(keypoints, dtype=np.float64)[:, ankles]
    rays = back_project(pixels, np.ones((n, 2)), camera[:, None])  # (n, 2, 3): each ankle's ray at depth 1
    up = np.broadcast_to(np.asarray(plane.up, dtype=np.float64).reshape(-1, 3), (n, 3))
    height = np.broadcast_to(np.asarray(plane.height_m, dtype=np.float64).reshape(-1), (n,))
    rise = height - config.ankle_height_m  # camera above the ankles' plane [m]
    down = -np.einsum("nad,nd->na", rays, up)  # > 0: the ray points below the horizon
    sin_depression = down / np.linalg.norm(rays, axis=2)
    usable = (np.asarray(observed, dtype=bool)[:, ankles] & np.isfinite(sin_depression)
              & (sin_depression > np.sin(np.radians(MIN_DEPRESSION_DEG))) & (rise > 0)[:, None])
    # the standing foot: the usable ankle lower in the lifter's own pose
    ankle_rise = np.where(usable, np.einsum("nad,nd->na", relative_m[:, ankles], up), np.inf)
    pick = np.argmin(ankle_rise, axis=1)
    rows = np.arange(n)
    found = usable[rows, pick]
    with np.errstate(divide="ignore", invalid="ignore"):
        along = rise / down[rows, pick]  # ray parameter where it meets the ankles' plane (z = along)
        depth = along - relative_m[rows, np.asarray(ankles)[pick], 2]
        sin_d = sin_depression[rows, pick]
        cot = np.sqrt(np.clip(1 - sin_d ** 2, 0, 1)) / sin_d
        sigma = np.hypot(cot * np.radians(config.angle_error_deg), config.contact_error_m / rise)
    ok = found & (depth > 0) & np.isfinite(depth)
    return np.where(ok, depth, np.nan), np.where(ok, sigma, np.nan)


def fuse_root_depth(learned_m: np.ndarray, floor_m: np.ndarray, floor_sigma: np.ndarray,
                    config: FloorConfig) -> tuple[np.ndarray, np.ndarray]:
    """(N,) fused root depth [m] and (N,) bool: the floor's estimate was used (module docstring)."""
    learned_m = np.asarray(learned_m, dtype=np.float64)
    have = np.isfinite(floor_m) & np.isfinite(floor_sigma) & (learned_m > 0)
    log_learned = np.log(np.where(learned_m > 0, learned_m, 1.0))
    log_floor = np.log(np.where(have, floor_m, 1.0))
    sigma_l2 = config.lifter_depth_error ** 2
    sigma_f2 = np.where(have, floor_sigma, 1.0) ** 2
    disagreement = (log_floor - log_learned) / np.sqrt(sigma_l2 + sigma_f2)  # > 0: the floor says farther
    used = have & (disagreement >= -config.gate_sigmas) & (disagreement <= config.far_gate_sigmas)
    weight = np.where(used, sigma_l2 / (sigma_l2 + sigma_f2), 0.0)
    return np.where(used, np.exp(weight * log_floor + (1 - weight) * log_learned), learned_m), used
