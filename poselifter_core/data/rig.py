"""Virtual camera rig: world-frame motion capture -> (2D pixels, 3D camera mm, K) training samples.

Each sample draws a camera around the subject: horizontal distance (0.8-20 m by default; uniform,
or uniform in its logarithm with ``log_uniform_distance``), height
above the floor (0.3-4 m) and azimuth; the camera either looks at the pelvis (looking down from
above it, up from below) or, for ``level_fraction`` of the samples, is level (optical axis
horizontal, towards the pelvis's azimuth), as on a robot or a wall-mounted camera; then an aim
offset (so people appear anywhere in the frame, not only in the centre) and a little roll, a focal
length, an image size and a principal point jittered around the image centre.

Each sample records its floor (``PoseSet.floor``: world up in the camera frame and the camera's
height above the floor), the floor taken ``floor.ANKLE_HEIGHT_M`` below the clip's lowest joint (an
ankle: motion capture gives joints, not soles).

Joints outside the image (closer than ``margin_px`` to its border) are kept but marked missing in
``PoseSet.visible`` (with the derived-joint rule of :mod:`..visibility`): people cut by the image
border are what a robot sees. Samples are dropped only when a joint is behind or too close to the
camera, or when too few joints are inside the image to lift (``min_visible_joints``,
``min_torso_joints``; ``min_visible_joints: 17`` keeps full bodies only). Everything is vectorised
and deterministic for a given seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..floor import ANKLE_HEIGHT_M
from ..skeleton import H36M17, Skeleton
from ..visibility import VisibilityRule, derive_visibility
from .pose_set import PoseSet
from .world_mocap import MocapClip


#: Horizontal camera-to-pelvis distances the shipped lifter is trained on [m] (RigConfig's default;
#: the bird's-eye view of ``infer`` spans the far one).
TRAINED_DISTANCE_M = (0.8, 20.0)


@dataclass
class RigConfig:
    distance_m: tuple[float, float] = TRAINED_DISTANCE_M  # horizontal camera-to-pelvis distance
    log_uniform_distance: bool = False  # uniform in log distance (as many samples at 1-2 m as at 10-20 m)
    height_m: tuple[float, float] = (0.3, 4.0)  # camera height above the floor (lowest foot)
    level_fraction: float = 0.3  # share of cameras with a level optical axis (the rest look at the pelvis)
    azimuth_deg: tuple[float, float] = (-180.0, 180.0)
    aim_offset_fraction: float = 0.35  # aim jitter as a fraction of the half field of view
    roll_deg: float = 5.0
    focal_px: tuple[float, float] = (500.0, 2000.0)
    log_uniform_focal: bool = True
    image_sizes: list[tuple[int, int]] = field(default_factory=lambda: [(640, 480), (1280, 720), (1920, 1080), (1024, 1024)])
    principal_jitter_fraction: float = 0.02
    min_depth_m: float = 0.3
    margin_px: float = 2.0  # a joint closer than this to the image border is outside (missing)
    min_visible_joints: int = 5  # fewer joints inside the image: sample dropped (17 = full bodies only)
    min_torso_joints: int = 2  # of shoulders and hips inside the image, else dropped
    bone_scale_jitter: float = 0.0  # per-bone length jitter (uniform +-), symmetric left/right
    global_scale_jitter: float = 0.0  # whole-body size jitter (uniform +-)


def render_views(clips: list[MocapClip], config: RigConfig, views: int, seed: int,
                 skeleton: Skeleton = H36M17) -> PoseSet:
    """``views`` random cameras per world pose; returns the samples with enough joints in their image."""
    if skeleton != H36M17:
        raise ValueError(f"the rig renders {H36M17.name} (its visibility rule), got {skeleton.name}")
    rng = np.random.default_rng(seed)
    world = np.concatenate([c.joints for c in clips]).astype(np.float64)
    subject = np.concatenate([[c.subject] * len(c.joints) for c in clips])
    action = np.concatenate([[c.clip_id] * len(c.joints) for c in clips])
    floor = np.concatenate([np.full(len(c.joints), c.joints[..., 1].min()) for c in clips])
    world = np.repeat(world, views, axis=0)
    subject, action, floor = (np.repeat(a, views) for a in (subject, action, floor))
    n = len(world)
    world = scale_bones(world, rng, config, skeleton)

    sizes = np.asarray(config.image_sizes, dtype=np.float64)[rng.integers(len(config.image_sizes), size=n)]
    focal = _sample_focal(rng, config, n)
    cx = (sizes[:, 0] - 1) / 2 + rng.uniform(-1, 1, n) * config.principal_jitter_fraction * sizes[:, 0]
    cy = (sizes[:, 1] - 1) / 2 + rng.uniform(-1, 1, n) * config.principal_jitter_fraction * sizes[:, 1]
    intrinsics = np.stack([focal, focal, cx, cy], axis=1)

    pelvis = world[:, skeleton.root]
    azimuth = np.radians(rng.uniform(*config.azimuth_deg, n))
    distance = _sample_distance_mm(rng, config, n)
    centre = np.stack([pelvis[:, 0] + distance * np.sin(azimuth),
                       floor + rng.uniform(*config.height_m, n) * 1000.0,
                       pelvis[:, 2] + distance * np.cos(azimuth)], axis=1)
    half_fov_x = np.arctan(sizes[:, 0] / (2 * focal))
    half_fov_y = np.arctan(sizes[:, 1] / (2 * focal))
    jitter = _aim_jitter(rng, config, half_fov_x, half_fov_y)
    forward = pelvis - centre
    level = rng.random(n) < config.level_fraction  # drawn last: level_fraction 0 renders as before #18
    forward[level, 1] = 0.0  # level camera: horizontal optical axis towards the pelvis
    rotation = jitter @ _look_at(forward)

    camera = np.einsum("nij,nkj->nki", rotation, world - centre[:, None, :])
    z = camera[..., 2]
    keep = (z > config.min_depth_m * 1000.0).all(axis=1)
    safe_z = np.where(z > 1.0, z, 1.0)
    u = focal[:, None] * camera[..., 0] / safe_z + cx[:, None]
    v = focal[:, None] * camera[..., 1] / safe_z + cy[:, None]
    m = config.margin_px
    inside = (u >= m) & (u <= sizes[:, :1] - 1 - m) & (v >= m) & (v <= sizes[:, 1:] - 1 - m)
    inside = derive_visibility(inside)
    keep &= VisibilityRule(config.min_visible_joints, config.min_torso_joints).passes(inside)
    if not keep.any():
        raise ValueError("the rig produced no sample inside the image: check distance_m / focal_px / image_sizes")
    return PoseSet(
        keypoints_2d=np.stack([u, v], axis=-1)[keep],
        joints_3d=camera[keep],
        intrinsics=intrinsics[keep],
        skeleton=skeleton,
        image_size=sizes[keep].astype(np.int32),
        visible=inside[keep],
        floor=np.concatenate([rotation[:, :, 1], (centre[:, 1] - floor + ANKLE_HEIGHT_M * 1000.0)[:, None]], axis=1)[keep],
        subject=subject[keep],
        action=action[keep],
    )


def scale_bones(world: np.ndarray, rng: np.random.Generator, config: RigConfig, skeleton: Skeleton) -> np.ndarray:
    """Jitter bone lengths (symmetric left/right) and body size, keeping the pelvis in place."""
    if config.bone_scale_jitter <= 0 and config.global_scale_jitter <= 0:
        return world
    n = len(world)
    per_bone = 1 + rng.uniform(-1, 1, (n, skeleton.num_joints)) * config.bone_scale_jitter
    for left, right in skeleton.flip_pairs:  # a left bone and its right partner get the same factor
        per_bone[:, right] = per_bone[:, left]
    per_bone *= 1 + rng.uniform(-1, 1, (n, 1)) * config.global_scale_jitter
    out = world.copy()
    for child, parent in enumerate(skeleton.parents):  # parents come before children in H36M17
        if parent >= 0:
            out[:, child] = out[:, parent] + (world[:, child] - world[:, parent]) * per_bone[:, child:child + 1]
    return out


def _sample_distance_mm(rng: np.random.Generator, config: RigConfig, n: int) -> np.ndarray:
    low, high = config.distance_m
    if not config.log_uniform_distance:
        return rng.uniform(low, high, n) * 1000.0
    if low <= 0 or high < low:
        raise ValueError(f"distance_m must be an increasing positive range for log_uniform_distance, got {config.distance_m}")
    return np.exp(rng.uniform(np.log(low), np.log(high), n)) * 1000.0


def _sample_focal(rng: np.random.Generator, config: RigConfig, n: int) -> np.ndarray:
    low, high = config.focal_px
    if low <= 0 or high < low:
        raise ValueError(f"focal_px must be an increasing positive range, got {config.focal_px}")
    if config.log_uniform_focal:
        return np.exp(rng.uniform(np.log(low), np.log(high), n))
    return rng.uniform(low, high, n)


def _look_at(forward: np.ndarray) -> np.ndarray:
    """World->camera rotations (rows: right, down, forward) for a Y-up world."""
    forward = forward / np.linalg.norm(forward, axis=1, keepdims=True)
    up = np.array([0.0, 1.0, 0.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=1)


def _aim_jitter(rng: np.random.Generator, config: RigConfig, half_fov_x: np.ndarray, half_fov_y: np.ndarray) -> np.ndarray:
    """Small camera-frame rotations: yaw/pitch within a fraction of the field of view, and roll."""
    yaw = rng.uniform(-1, 1, len(half_fov_x)) * config.aim_offset_fraction * half_fov_x
    pitch = rng.uniform(-1, 1, len(half_fov_y)) * config.aim_offset_fraction * half_fov_y
    roll = np.radians(rng.uniform(-1, 1, len(half_fov_x)) * config.roll_deg)
    return _rot_y(yaw) @ _rot_x(pitch) @ _rot_z(roll)


def _rot_x(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], axis=1)


def _rot_y(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], axis=1)


def _rot_z(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], axis=1)
