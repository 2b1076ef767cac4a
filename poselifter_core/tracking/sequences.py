"""Continuous test sequences with ground truth: mocap clips through a virtual camera, with
detector-like 2D noise that is correlated in time.

* :func:`play_clip`: one world-frame clip seen by a fixed camera, or one that slowly orbits the
  scene, at a chosen frame rate (interpolated when the clip's rate is not a multiple); the camera
  is placed far enough for every joint to stay inside the image.
* :func:`detector_noise`: per joint and axis, Gaussian jitter from the 2D error model that
  decays with ``correlation_time_s`` (a detector sees nearly the same image in consecutive
  frames, so its errors persist), outlier bursts (a joint latched onto the wrong place for a few
  frames) and missing-joint bursts (occlusion); the outlier rate is the error model's.
* :func:`crossing_scene`: several people walking straight lines across the view at different
  depths, so they cross and hide each other; a person whose box is mostly covered by a nearer
  one's is not detected in that frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..camera import MM_PER_M
from ..data.rig import _look_at
from ..data.world_mocap import MocapClip
from ..floor import ANKLE_HEIGHT_M
from ..lifter.normalization import person_scale
from ..noise.error_model import ErrorModel


@dataclass
class SequenceCamera:
    width: int = 1280
    height: int = 720
    focal_px: float = 1000.0
    height_m: float = 1.6  # camera height above the floor
    min_distance_m: float = 4.0  # camera to the clip's centre, at least
    orbit_deg_per_s: float = 8.0  # the slowly moving camera's orbit rate
    margin_px: float = 4.0

    def intrinsics(self) -> np.ndarray:
        return np.array([self.focal_px, self.focal_px, (self.width - 1) / 2, (self.height - 1) / 2])


@dataclass
class NoiseConfig:
    correlation_time_s: float = 0.15  # of the inlier jitter (exp(-dt / tau) per frame)
    scale: float = 1.0  # multiplies the error model's inlier std
    outlier_duration_s: float = 0.1  # mean length of an outlier burst (rate: the model's 1 - gamma)
    missing_rate: float = 0.03  # share of joint-frames missing
    missing_duration_s: float = 0.3  # mean length of a missing burst


@dataclass
class Sequence:
    """One person seen over consecutive frames (camera frame, mm; pixels)."""

    name: str
    fps: float
    joints: np.ndarray  # (T, J, 3) ground truth, camera frame
    keypoints: np.ndarray  # (T, J, 2) ground-truth 2D
    intrinsics: np.ndarray  # (4,)
    image_size: tuple[int, int]
    #: (T, 4) the floor in the camera frame as ``PoseSet.floor`` has it (world up, the camera's height
    #: above the floor [mm]; the floor ``floor.ANKLE_HEIGHT_M`` below the clip's lowest joint, as the rig's)
    floor: np.ndarray | None = None


def resample(clip: MocapClip, fps: float) -> np.ndarray:
    """The clip at ``fps``: its frames taken as ``clip.fps`` apart and linearly interpolated
    (every n-th frame when ``fps`` divides the clip's rate)."""
    if clip.fps <= 0 or fps <= 0:
        raise ValueError(f"clip {clip.clip_id}: frame rates must be positive, got {clip.fps:g} -> {fps:g}")
    position = np.arange(0.0, len(clip.joints) - 1 + 1e-9, clip.fps / fps)  # in source frames
    before = np.floor(position).astype(int)
    after = np.minimum(before + 1, len(clip.joints) - 1)
    weight = (position - before)[:, None, None]
    joints = clip.joints.astype(np.float64)
    return (1.0 - weight) * joints[before] + weight * joints[after]


def play_clip(clip: MocapClip, fps: float, camera: SequenceCamera, moving: bool, azimuth_deg: float) -> Sequence | None:
    """The clip seen from ``azimuth_deg`` (fixed, or orbiting at ``camera.orbit_deg_per_s``),
    from the nearest distance at which every joint of every frame is inside the image; None when
    no distance up to 30 m does."""
    world = resample(clip, fps)
    pelvis = world[:, 0]
    centre = pelvis.mean(axis=0)
    floor = world[..., 1].min()
    radius = np.linalg.norm((pelvis - centre)[:, [0, 2]], axis=1).max() / MM_PER_M
    times = np.arange(len(world)) / fps
    azimuth = np.radians(azimuth_deg + (camera.orbit_deg_per_s * times if moving else 0.0 * times))
    k = camera.intrinsics()
    for distance in np.arange(max(camera.min_distance_m, radius + 2.5), 30.0, 0.5):
        d = distance * MM_PER_M
        position = np.stack([centre[0] + d * np.sin(azimuth), np.full_like(azimuth, floor + camera.height_m * MM_PER_M),
                             centre[2] + d * np.cos(azimuth)], axis=1)
        rotation = _look_at(centre[None] - position)
        joints = np.einsum("tij,tkj->tki", rotation, world - position[:, None])
        if np.any(joints[..., 2] < 500.0):
            continue
        u = k[0] * joints[..., 0] / joints[..., 2] + k[2]
        v = k[1] * joints[..., 1] / joints[..., 2] + k[3]
        m = camera.margin_px
        if np.all((u >= m) & (u <= camera.width - 1 - m) & (v >= m) & (v <= camera.height - 1 - m)):
            name = f"{clip.clip_id} {'orbiting' if moving else 'fixed'} {fps:g} fps"
            height = np.full((len(world), 1), (camera.height_m + ANKLE_HEIGHT_M) * MM_PER_M)
            return Sequence(name, fps, joints, np.stack([u, v], -1), k, (camera.width, camera.height),
                            np.concatenate([rotation[:, :, 1], height], axis=1))
    return None


def _bursts(rng: np.random.Generator, shape: tuple[int, ...], rate: np.ndarray | float, duration_frames: float) -> np.ndarray:
    """(T, ...) bool on/off Markov chains along axis 0: stationary share ``rate``, mean burst
    length ``duration_frames``."""
    rate = np.clip(np.broadcast_to(rate, shape[1:]), 0.0, 0.99)
    stop = 1.0 / max(duration_frames, 1.0)
    start = np.minimum(rate / (1.0 - rate) * stop, 1.0)
    on = np.zeros(shape, dtype=bool)
    on[0] = rng.random(shape[1:]) < rate
    draws = rng.random(shape)
    for t in range(1, shape[0]):
        on[t] = np.where(on[t - 1], draws[t] >= stop, draws[t] < start)
    return on


def detector_noise(keypoints: np.ndarray, fps: float, model: ErrorModel, config: NoiseConfig,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy (T, J, 2) keypoints and (T, J) scores (0 for a missing joint, whose coordinates then
    hold junk, as a detector's unconfident guess) for ground-truth ``keypoints`` (see module doc)."""
    frames, joints = keypoints.shape[:2]
    sigma = person_scale(keypoints)[:, None, None]  # px per person_scale unit, per frame
    rho = float(np.exp(-1.0 / (fps * config.correlation_time_s)))
    white = rng.standard_normal((frames, joints, 2))
    jitter = np.empty_like(white)
    jitter[0] = white[0]
    for t in range(1, frames):
        jitter[t] = rho * jitter[t - 1] + np.sqrt(1 - rho * rho) * white[t]
    errors = model.mean + config.scale * model.std * jitter
    outlier = _bursts(rng, (frames, joints), 1.0 - model.gamma, config.outlier_duration_s * fps)
    offsets = rng.uniform(-model.window, model.window, (frames, joints, 2))
    for t in range(1, frames):  # one offset per burst: the joint stays on the wrong spot
        offsets[t] = np.where((outlier[t] & outlier[t - 1])[:, None], offsets[t - 1], offsets[t])
    errors = np.where(outlier[..., None], offsets, errors)
    missing = _bursts(rng, (frames, joints), config.missing_rate, config.missing_duration_s * fps)
    missing[:, 0] = False  # keep the pelvis: the shipped lifter needs it (docs/lifter_input.md)
    scores = np.where(missing, 0.0, 0.9)
    return keypoints + errors * sigma, scores


@dataclass
class CrossingScene:
    """People on straight lines in the camera frame (metres, floor at y = +camera height)."""

    name: str
    fps: float
    joints: np.ndarray  # (T, P, J, 3) mm, camera frame
    keypoints: np.ndarray  # (T, P, J, 2)
    visible: np.ndarray  # (T, P) bool: detected (in the image, not mostly hidden by a nearer person)
    intrinsics: np.ndarray
    image_size: tuple[int, int]


#: (start x, start z, end x, end z) in metres of each walker, over the scene's duration.
CROSSING_PATHS = ((-3.0, 4.0, 3.0, 4.5), (3.5, 6.0, -3.5, 6.0), (-2.5, 8.5, 2.5, 3.5))


def _in_place(clip: MocapClip, fps: float, frames: int) -> np.ndarray:
    """(frames, J, 3) the clip's poses with the pelvis at the horizontal origin and the feet on
    y = 0 (world, mm, Y up), looped to ``frames``."""
    world = resample(clip, fps)
    world = world[np.arange(frames) % len(world)]
    world = world - world[:, :1] * np.array([1.0, 0.0, 1.0])
    world[..., 1] -= world[..., 1].min()
    return world


def crossing_scene(clips: list[MocapClip], fps: float, duration_s: float, camera: SequenceCamera,
                   camera_height_m: float = 1.0, hidden_fraction: float = 0.5) -> CrossingScene:
    """People (one clip each, animated in place) walking :data:`CROSSING_PATHS` in front of a
    level camera ``camera_height_m`` above the floor; see the module doc."""
    frames = int(round(duration_s * fps))
    people = []
    for clip, (x0, z0, x1, z1) in zip(clips, CROSSING_PATHS):
        pose = _in_place(clip, fps, frames)
        s = np.linspace(0.0, 1.0, frames)[:, None]
        path = np.concatenate([x0 + (x1 - x0) * s, np.zeros_like(s), z0 + (z1 - z0) * s], axis=1) * MM_PER_M
        # world (Y up) -> level camera (y down): x, height, z -> x, camera height - height, z
        camera_pose = np.stack([pose[..., 0], camera_height_m * MM_PER_M - pose[..., 1], pose[..., 2]], axis=-1)
        people.append(camera_pose + path[:, None, :])
    joints = np.stack(people, axis=1)
    k = camera.intrinsics()
    keypoints = np.stack([k[0] * joints[..., 0] / joints[..., 2] + k[2], k[1] * joints[..., 1] / joints[..., 2] + k[3]], -1)
    inside = np.all((keypoints[..., 0] >= 0) & (keypoints[..., 0] <= camera.width - 1) & (keypoints[..., 1] >= 0)
                    & (keypoints[..., 1] <= camera.height - 1), axis=-1)
    boxes = np.concatenate([keypoints.min(axis=2), keypoints.max(axis=2)], axis=-1)  # (T, P, 4)
    depth = joints[:, :, 0, 2]
    visible = inside.copy()
    for t in range(frames):
        for p in range(len(clips)):
            box = boxes[t, p]
            area = max((box[2] - box[0]) * (box[3] - box[1]), 1.0)
            for q in range(len(clips)):
                if q == p or depth[t, q] >= depth[t, p]:
                    continue
                other = boxes[t, q]
                overlap = max(0.0, min(box[2], other[2]) - max(box[0], other[0])) \
                    * max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
                if overlap / area > hidden_fraction:
                    visible[t, p] = False
    return CrossingScene(f"{len(clips)} people crossing {fps:g} fps", fps, joints, keypoints, visible, k,
                         (camera.width, camera.height))
