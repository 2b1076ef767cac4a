"""Causal, low-lag filtering of one tracked person, in the quantities where the noise is.

* **Root depth** in log space (depth noise is relative). Its measurement fuses the network's
  depth with the depth at which the track's own skeleton (median bone lengths over time) matches
  the person's 2D extent: a person does not change size between frames, so that cue only
  jitters with the 2D keypoints. The skeleton's absolute scale is the network's guess, so the
  ratio of the two depths is followed slowly (``bone_bias_time_s``; the default averages it over
  the whole track: the network's per-frame body-size error averages out) and only the
  frame-to-frame change comes from the size cue (``network_depth_weight`` sets the mix).
* **Root direction** ``(x / z, y / z)``: the 2D pelvis ray, little noise.
* **Root speed**: the root's step between frames and its velocity are kept within the
  tracker's ``max_speed_mps`` (``limit_root_speed``): noise cannot move a person faster than
  people move; a true jump is followed at that speed.
* **Root-relative joints**; a joint not observed in this frame (occluded, low 2D score) is
  updated with the network's guess for it at a much larger noise (``unobserved_joint_std_factor``):
  holding it still drifts from the moving body, and the guess, made from the rest of the body,
  measured better on ``evaluate-sequence``. The output's bones are rescaled to the track's lengths.
* **Flips**: a lifted pose whose facing contradicts the last published pose's (more than
  ``flip_angle_deg``) is, for its first ``flip_accept_frames`` - 1 frames, replaced by its
  left/right-swapped or depth-mirrored version when that one agrees with the track, otherwise
  damped (its joints weigh little); from then on it is followed at full weight, rotated about its
  spine so that the published facing turns at most ``max_turn_deg_per_s`` per second (a body
  turns that fast, a flipped lift jumps). The default (``flip_accept_frames`` 1) only turns.

Each group is a :class:`~.kalman.ConstantVelocityKalman`; every knob trades lag against jitter
(:class:`~.config.FilterConfig`). The acceleration stds hold at ``reference_fps``; at a frame
rate f they are multiplied by (f / reference_fps)^2, which makes the filter the same per frame
(the same gains, the same smoothing over the same number of frames) at every rate: a 2D
detector's noise per frame hardly depends on the rate, so a faster stream gets proportionally
less lag instead of the same lag in seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..skeleton import H36M17
from . import body
from .config import FilterConfig
from .kalman import ConstantVelocityKalman

#: Measurement variance factor for joints whose facing contradicts the track (std x 5).
FLIP_DAMPING = 25.0
#: The frame-rate scaling follows rates from reference_fps / this to reference_fps x this.
RATE_RATIO_LIMIT = 10.0
#: Channels of the state: ln(root depth) and the root ray, then the root-relative joints.
ROOT, JOINTS = slice(0, 3), slice(3, None)


@dataclass
class PoseMeasurement:
    """What the filter takes from one lifted person (metres, camera optical frame)."""

    relative: np.ndarray  # (J, 3) root-relative joints
    root: np.ndarray  # (3,) absolute root, z > 0
    rays: np.ndarray  # (J, 2) focal-normalized 2D keypoints ((u - cx) / fx, (v - cy) / fy)
    observed: np.ndarray  # (J,) bool: joints seen in this frame (the others weigh little, see the module doc)


@dataclass
class FilteredPose:
    root: np.ndarray  # (3,)
    relative: np.ndarray  # (J, 3)
    flip: str  # "none", "left_right" or "depth": the confusion corrected in this frame


class PoseFilter:
    """One track's filter state (see the module doc)."""

    def __init__(self, config: FilterConfig, measurement: PoseMeasurement, time_s: float,
                 frame_interval_s: float | None = None) -> None:
        """``frame_interval_s``: the stream's frame interval, which scales the acceleration stds
        from ``reference_fps`` (module doc); None: not known yet."""
        self.config = config
        self.bones = body.BoneLengthEstimate(config.bone_window)
        self.flips_corrected = 0
        self._start(measurement, time_s, frame_interval_s)

    def _acceleration_scale(self, frame_interval_s: float | None) -> float:
        """Acceleration variance factor (fps / reference_fps)^4, the rate ratio clamped to
        :data:`RATE_RATIO_LIMIT` either way: the same smoothing and lag in frames at every rate."""
        if self.config.reference_fps > 0 and frame_interval_s:
            ratio = 1.0 / (frame_interval_s * self.config.reference_fps)
            return min(max(ratio, 1.0 / RATE_RATIO_LIMIT), RATE_RATIO_LIMIT) ** 4
        return 1.0

    def _start(self, m: PoseMeasurement, time_s: float, frame_interval_s: float | None) -> None:
        c = self.config
        self.time_s = time_s
        # one filter over every channel: ln(depth), the root ray (2), the root-relative joints (3 J)
        self.state = ConstantVelocityKalman(np.concatenate([[math.log(m.root[2])], m.root[:2] / m.root[2],
                                                            m.relative.ravel()]),
                                            [c.log_depth, c.root_ray, c.joints], [1, 2, m.relative.size],
                                            c.outlier_sigmas, self._acceleration_scale(frame_interval_s))
        self.depth_bias = 0.0  # ln(network depth) - ln(size depth), followed slowly
        self.bias_samples = 0
        self.contradicted = 0
        self.root = np.asarray(m.root, dtype=np.float64)  # the last published root
        self._remember(m.relative)
        self.bones.add(m.relative, m.observed)

    def _remember(self, relative: np.ndarray) -> None:
        """The published pose and its facing: what the next measurement's flips are judged against
        (the Kalman state predicted ahead is not: its joints' velocities bend the torso)."""
        self.reference = relative
        self.reference_facing = body.facing(relative)

    def reset(self, measurement: PoseMeasurement, time_s: float, frame_interval_s: float | None = None) -> None:
        """Restart the filter on ``measurement`` (the track was lost); the skeleton is kept."""
        self._start(measurement, time_s, frame_interval_s)

    def root_at(self, time_s: float) -> np.ndarray:
        """The predicted root at ``time_s`` (no state change)."""
        log_depth, ray_x, ray_y = self.state.predicted(time_s - self.time_s, ROOT).tolist()
        depth = math.exp(log_depth)
        return np.array([ray_x * depth, ray_y * depth, depth])

    def root_std_at(self, time_s: float) -> tuple[float, float]:
        """Uncertainty of :meth:`root_at`: the std of ln(depth) and of the root direction (the larger axis)."""
        std = self.state.predicted_std(time_s - self.time_s, ROOT)
        return float(std[0]), float(max(std[1], std[2]))

    def relative(self) -> np.ndarray:
        return self.state.value[JOINTS].reshape(-1, 3)

    def update(self, m: PoseMeasurement, time_s: float, frame_interval_s: float | None = None,
               max_speed_mps: float | None = None) -> FilteredPose:
        """Fuse the person seen at ``time_s``. ``frame_interval_s``: the stream's frame interval,
        which scales the acceleration stds from ``reference_fps``; ``max_speed_mps``: the fastest
        plausible root speed, which bounds the root's step and velocity when ``limit_root_speed``
        (module doc)."""
        c = self.config
        dt = time_s - self.time_s
        self.time_s = time_s
        self.state.q_scale = self._acceleration_scale(frame_interval_s)
        self.state.predict(dt)
        relative, observed, rays, flip, inflate = self._correct_flip(m, dt)
        self.bones.add(relative, observed)
        lengths = self.bones.lengths()
        log_depth = self._fused_log_depth(m.root[2], rays, relative, observed, lengths, dt)
        unobserved = self.config.unobserved_joint_std_factor ** 2
        self.state.update(np.concatenate([[log_depth], m.root[:2] / m.root[2], relative.ravel()]),
                          np.concatenate([[1.0, 1.0, 1.0], np.repeat(np.where(observed, inflate, inflate * unobserved), 3)]))
        if c.limit_root_speed and max_speed_mps:
            self._limit_root_speed(max_speed_mps, dt)
        out = self.relative()
        if c.enforce_bone_lengths and lengths is not None:
            out = body.with_bone_lengths(out, lengths)
        out = out - out[H36M17.root]
        self._remember(out)
        self.root = self.root_at(time_s)
        return FilteredPose(self.root, out, flip)

    def _limit_root_speed(self, max_speed_mps: float, dt: float) -> None:
        """Keep the root's step since the last frame within ``max_speed_mps * dt`` and its velocity
        within ``max_speed_mps`` (metres): noise must not move a person faster than people move.
        A true jump (a re-lift after bad frames) is followed at that speed."""
        root = self.root_at(self.time_s)
        step = root - self.root
        distance, limit = math.sqrt(step.dot(step)), max_speed_mps * max(dt, 0.0)  # np.linalg.norm's value
        if distance > limit:
            root = self.root + step * (limit / distance)
            self.state.value[ROOT] = [math.log(root[2]), root[0] / root[2], root[1] / root[2]]
        log_depth_rate, ray_x_rate, ray_y_rate = self.state.velocity[ROOT].tolist()
        x, y, depth = root.tolist()
        ray_x, ray_y = x / depth, y / depth
        speed = depth * math.sqrt((ray_x_rate + ray_x * log_depth_rate) ** 2 + (ray_y_rate + ray_y * log_depth_rate) ** 2
                                  + log_depth_rate ** 2)  # d/dt of (ray x z, ray y z, z)
        if speed > max_speed_mps:
            self.state.velocity[ROOT] *= max_speed_mps / speed

    def _correct_flip(self, m: PoseMeasurement, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, float]:
        """The measurement with a contradicting flip undone (or damped); see the module doc."""
        track, track_facing = self.reference, self.reference_facing
        if body.angle_deg(body.facing(m.relative), track_facing) <= self.config.flip_angle_deg:
            self.contradicted = 0
            return m.relative, m.observed, m.rays, "none", 1.0
        self.contradicted += 1
        if self.contradicted >= self.config.flip_accept_frames:
            # persistent: the person did turn (or the track started on a flip); followed at full
            # weight, turned no faster than a body turns, so the pose turns over a few frames
            turned = body.turned_towards(m.relative, track_facing, self.config.max_turn_deg_per_s * max(dt, 0.0))
            return turned, m.observed, m.rays, "none", 1.0
        swap = H36M17.flip_index
        best, best_error = "none", math.inf
        for name, candidate in body.flip_candidates(m.relative).items():
            observed = m.observed[swap] if name == "left_right" else m.observed
            if observed.any():
                error = float(np.linalg.norm(candidate[observed] - track[observed], axis=-1).mean())
                if error < best_error:
                    best, best_error = name, error
        candidate = body.flip_candidates(m.relative)[best]
        if best == "none" or body.angle_deg(body.facing(candidate), track_facing) > self.config.flip_angle_deg:
            return m.relative, m.observed, m.rays, "none", FLIP_DAMPING
        self.flips_corrected += 1
        if best == "left_right":
            return candidate, m.observed[swap], m.rays[swap], best, 1.0
        return candidate, m.observed, m.rays, best, 1.0

    def _fused_log_depth(self, network_depth: float, rays: np.ndarray, relative: np.ndarray, observed: np.ndarray,
                         lengths: np.ndarray | None, dt: float) -> float:
        """ln(depth) measurement: the network's, mixed with the size cue (module doc)."""
        log_network = math.log(network_depth)
        weight = self.config.network_depth_weight
        if weight >= 1.0 or lengths is None:
            return log_network
        size_depth = body.depth_from_size(rays, body.with_bone_lengths(relative, lengths), observed)
        if size_depth is None:
            return log_network
        log_size = math.log(size_depth)
        # the ratio's running mean: a plain average while the track is younger than the time
        # constant, then an exponential average over it
        self.bias_samples += 1
        rate = max(1.0 / self.bias_samples, 1.0 - math.exp(-max(dt, 0.0) / self.config.bone_bias_time_s))
        self.depth_bias += rate * (log_network - log_size - self.depth_bias)
        return weight * log_network + (1.0 - weight) * (log_size + self.depth_bias)
