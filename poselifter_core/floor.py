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
down, roll positive turning the camera clockwise as seen from behind it. Over a level base these are
the roll and pitch of the camera's body frame (x forward, y left, z up) in a URDF. A robot that
knows where its camera is (TF) gives the mount as the pose of the optical frame in a floor frame
(z up, its xy-plane on the floor: REP-105's ``base_footprint``): :func:`mount_from_camera_pose`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import back_project
from .settings import SettingError, check_settings, setting, setting_specs
from .skeleton import H36M17

#: H36M-17 ankles ("RFoot", "LFoot": COCO's ankles), the joints nearest the floor when standing.
ANKLES = (H36M17.index("RFoot"), H36M17.index("LFoot"))
#: A standing person's ankle keypoints above the floor [m]: the ankle joint is about 4 % of stature
#: above the sole (Winter, "Biomechanics and Motor Control of Human Movement": 0.039 H), plus a shoe.
ANKLE_HEIGHT_M = 0.08
#: Rays closer to the horizon than this give no floor estimate (the distance along them diverges).
MIN_DEPRESSION_DEG = 0.5
#: The floor frame of a robot (REP-105): the parent of the mount ``video-bag --mount`` writes, the
#: frame ``fit-floor`` suggests for ``bag --floor-frame``.
FLOOR_FRAME = "base_footprint"
#: ``Person3D.root_source``: the root depth is the lifter's alone; fused with the floor's in this
#: frame (the cascade); or the lifter's scaled by the person's floor-to-lifter depth ratio that the
#: track learned in its floor-fused frames (the tracker, :mod:`.tracking.floor_size`).
ROOT_LIFTER, ROOT_FLOOR, ROOT_TRACK_FLOOR = "lifter", "floor", "track_floor"
#: ``CascadeResult.floor`` keys and ``Person3D.floor_outcome`` (``floor`` on, lifted people only): the
#: floor's depth was fused in; there was none (no ankle observed, or its ray does not meet the
#: floor); it disagreed with the lifter's beyond ``gate_sigmas`` (the person is not on the floor,
#: or the mount is wrong); the floor was not used because the intrinsics were assumed (its rays
#: need the true focal length).
FLOOR_FUSED, FLOOR_NO_ESTIMATE, FLOOR_DISAGREED, FLOOR_NO_CAMERA = "fused", "no_estimate", "disagreed", "no_camera"
#: The keys in the order of the cascade's outcome codes (0, 1, 2; 3 without intrinsics).
FLOOR_OUTCOMES = (FLOOR_FUSED, FLOOR_NO_ESTIMATE, FLOOR_DISAGREED, FLOOR_NO_CAMERA)
#: ``Person3D.floor_outcome`` of a person lifted without a mount for its frame (the floor off, or
#: the node's ``floor_frame`` transform missing for that frame and no ``cascade.floor`` mount).
FLOOR_NO_MOUNT = ""
#: ``CascadeResult.floor`` key, counted by the tracker: of the people with no floor estimate, those
#: whose root their track's floor ratio placed (``root_source`` track_floor).
FLOOR_CARRIED = "carried"
#: ``CascadeResult.floor`` key, counted by the tracker: people of a frame without a mount
#: (``FLOOR_NO_MOUNT``, not counted under any outcome) whose root their track's floor ratio placed.
FLOOR_CARRIED_NO_MOUNT = "carried_no_mount"
#: ``CascadeResult.floor`` key, counted by the tracker: people whose carried pose the cascade's output
#: gates (``plausibility``: the depth range, joints in front of the camera) refused; the lifter's kept.
FLOOR_CARRY_REFUSED = "carry_refused"
#: An ``up`` vector this close to the optical axis (its sideways part, relative) has no roll.
POLE_TOLERANCE = 1e-9
#: Angles from a transform this far [deg] outside ``cascade.floor``'s ranges are rounding (a camera
#: mounted on its side, roll 90 degrees in its URDF, comes back as 90.00000000000001).
ROUNDING_DEG = 1e-9
#: The summary's floor counts (``bag``'s and ``infer``'s), in this order: ``(FLOOR_* key, label)``.
FLOOR_SUMMARY = ((FLOOR_FUSED, "fused"), (FLOOR_NO_ESTIMATE, "no ankle on the floor"),
                 (FLOOR_CARRIED, "of these carried by their track's floor ratio"),
                 (FLOOR_DISAGREED, "disagreed with the lifter"))
#: Counts the summary adds after ``FLOOR_SUMMARY``'s where they are not 0 (rare: a lagging TF).
FLOOR_SUMMARY_RARE = ((FLOOR_CARRIED_NO_MOUNT, "carried in frames without a mount"),
                      (FLOOR_CARRY_REFUSED, "carry refused by the output gates (the lifter's kept)"))


def floor_summary(counts: dict[str, int]) -> str:
    """The one summary line of the people's floor outcomes (``CascadeResult.floor`` summed)."""
    parts = [f"{label} {counts.get(key, 0)}" for key, label in FLOOR_SUMMARY]
    parts += [f"{label} {counts[key]}" for key, label in FLOOR_SUMMARY_RARE if counts.get(key, 0)]
    return "root depth from the floor: " + ", ".join(parts)


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


def mount_moved(before: FloorConfig, now: FloorConfig) -> bool:
    """Whether the camera mount ``now`` is another than ``before`` as far as the floor can tell: one
    on and the other off, or, both on, the camera's height or the ankles' height changed by more than
    the mount's stated ``contact_error_m``, or its pitch or roll by more than ``angle_error_deg`` (the
    larger of the two configs'). Within those errors the two are the same mount measured again (TF
    jitter); beyond them a depth learned under one carries an error the other does not have."""
    if before.enabled != now.enabled:
        return True
    if not now.enabled:
        return False
    heights = max(before.contact_error_m, now.contact_error_m)
    angles = max(before.angle_error_deg, now.angle_error_deg)
    return bool(abs(now.camera_height_m - before.camera_height_m) > heights
                or abs(now.ankle_height_m - before.ankle_height_m) > heights
                or abs(now.camera_pitch_deg - before.camera_pitch_deg) > angles
                or abs(now.camera_roll_deg - before.camera_roll_deg) > angles)


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
        """Pitch and roll [deg] of a single plane's ``up`` vector: the inverse of :meth:`from_mount`.
        Looking straight up or down (``up`` along the optical axis, to ``POLE_TOLERANCE``) every
        roll gives the same plane: 0 there, not the angle of rounding noise."""
        up = np.asarray(self.up, dtype=np.float64)
        pitch = float(np.degrees(np.arcsin(np.clip(-up[2], -1.0, 1.0))))
        if np.hypot(up[0], up[1]) <= POLE_TOLERANCE * np.linalg.norm(up):
            return pitch, 0.0
        return pitch, float(np.degrees(np.arctan2(-up[0], -up[1])))

    def height_above(self, points_m: np.ndarray) -> np.ndarray:
        """Height above the floor [m] of (..., 3) camera-frame points (one plane, or one per row of N)."""
        up = np.asarray(self.up, dtype=np.float64)
        height = np.asarray(self.height_m, dtype=np.float64)
        if up.ndim == 2:  # one plane per sample: broadcast over the points' middle axes
            extra = points_m.ndim - 2
            up = up.reshape(len(up), *[1] * extra, 3)
            height = height.reshape(len(height), *[1] * extra)
        return np.sum(points_m * up, axis=-1) + height


def mount_from_camera_pose(rotation: np.ndarray, translation: np.ndarray) -> tuple[float, float, float]:
    """The camera's mount ``(height_m, pitch_deg, roll_deg)``, in ``cascade.floor``'s terms, from
    the pose of its optical frame in a floor frame (z up, its xy-plane on the floor; REP-105's
    ``base_footprint``): ``p_floor = rotation @ p_optical + translation``, what a TF lookup from the
    optical frame (source) to the floor frame (target) gives. The height is the optical frame's
    origin above the floor plane; the floor frame's z axis in camera coordinates (``rotation``'s
    last row) is the ``up`` of :class:`FloorPlane`, whose angles :meth:`FloorPlane.mount_angles_deg`
    gives. The floor frame's yaw and its x, y position do not matter.

    ValueError for a ``rotation`` that is not one (3x3, orthonormal, right-handed) or a non-finite
    ``translation``, and for a mount :class:`FloorConfig` does not take, with the reason: the camera
    at or below the floor frame's xy-plane (a height of 0 turns the floor off), higher than its
    range, or upside down (a roll beyond +-90 degrees: the image's top looks toward the floor).
    """
    rotation = np.asarray(rotation, dtype=np.float64)
    translation = np.asarray(translation, dtype=np.float64)
    if (rotation.shape != (3, 3) or translation.shape != (3,) or not np.isfinite(rotation).all()
            or not np.isfinite(translation).all()):
        raise ValueError(f"not a camera pose: rotation {rotation.tolist()}, translation {translation.tolist()}")
    if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6) or np.linalg.det(rotation) < 0:
        raise ValueError(f"not a rotation (orthonormal, right-handed): {rotation.tolist()}")
    height = float(translation[2])
    if not height > 0:
        raise ValueError(f"the camera is not above the floor: its optical frame is {height:.3f} m above the floor "
                         "frame's xy-plane (cascade.floor.camera_height_m needs > 0)")
    angles = dict(zip(("camera_pitch_deg", "camera_roll_deg"), FloorPlane(rotation[2], height).mount_angles_deg()))
    for spec in setting_specs(FloorConfig):
        if spec.name in angles and spec.low - ROUNDING_DEG <= angles[spec.name] <= spec.high + ROUNDING_DEG:
            angles[spec.name] = min(max(angles[spec.name], spec.low), spec.high)
    pitch, roll = angles["camera_pitch_deg"], angles["camera_roll_deg"]
    try:
        check_settings(FloorConfig(camera_height_m=height, camera_pitch_deg=pitch, camera_roll_deg=roll), "cascade.floor.")
    except SettingError as error:
        raise ValueError(f"a camera mount cascade.floor does not take (height {height:.3f} m, pitch {pitch:.1f} deg, "
                         f"roll {roll:.1f} deg): {error}") from error
    return height, pitch, roll


def camera_pose_from_mount(height_m: float, pitch_deg: float, roll_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`mount_from_camera_pose`: ``(rotation, translation)`` of the optical
    frame in a floor frame right below the camera (z up) whose x axis is the camera's heading on the
    floor (the optical axis, or the image's up for a camera looking straight down or up), as a
    static TF transform from the optical frame (child) to the floor frame (parent) gives it."""
    up = FloorPlane.from_mount(height_m, pitch_deg, roll_deg).up
    heading = np.array([0.0, 0.0, 1.0]) - up[2] * up  # the optical axis, level
    if np.linalg.norm(heading) < POLE_TOLERANCE:
        heading = np.array([0.0, -1.0, 0.0]) - up[1] * up  # the image's up, level
    forward = heading / np.linalg.norm(heading)
    return np.stack([forward, np.cross(up, forward), up]), np.array([0.0, 0.0, float(height_m)])


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


def along_ray(root_m: np.ndarray, relative_m: np.ndarray, joints_m: np.ndarray, canonical_depth: np.ndarray,
              scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, 3) roots, (N, 17, 3) absolute joints and (N,) canonical depths of people whose roots move
    along their own pixel rays to ``scale`` (N,) times their depth, the relative pose kept; a person
    with ``scale`` 1 is returned unchanged (bit for bit). The dtypes are kept."""
    scale = np.asarray(scale, dtype=np.float64)
    moving = scale != 1.0
    if not moving.any():
        return root_m, joints_m, canonical_depth
    moved = (root_m * scale[:, None]).astype(root_m.dtype)
    joints = np.where(moving[:, None, None], moved[:, None] + relative_m, joints_m).astype(joints_m.dtype)
    depth = np.asarray(canonical_depth)
    return moved, joints, (depth * scale).astype(depth.dtype)


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
