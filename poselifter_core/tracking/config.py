"""Settings of the multi-person tracker and the temporal filter (YAML: ``config/tracking.yaml``;
the node's parameters ``frame.tracking.*``; ``poselifter bag --set frame.tracking.*``). The
association gates and costs are live node parameters (the tracker reads them every frame); the
filter settings are read-only, since each track's filter is built with them when it is born.

Every filter setting trades **lag** against **jitter**: a larger measurement std or a smaller
acceleration std makes the output smoother but slower to follow real motion. The defaults were
tuned with ``poselifter evaluate-sequence`` (docs/benchmarks.md, #14).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..settings import setting


@dataclass
class TrackerConfig:
    """Association of people across frames, births, deaths and occlusion gaps."""

    max_gap_s: float = setting(1.0, "A track unseen for longer dies; within the gap it can be re-identified [s]",
                               low=0.0, high=60.0, live=True)
    emit_coasting: bool = setting(False, "Also publish unseen tracks during the gap (predicted root, last pose, "
                                  "track_state coasting)", live=True)
    use_input_ids: bool = setting(True, "A person that arrives with an id (top_down detections, keypoints) keeps it "
                                  "as its track id", live=False)
    id_prefix: str = setting("t", "Generated track ids are <prefix>1, <prefix>2, ... (unique per stream)", live=False)
    max_speed_mps: float = setting(4.0, "Fastest plausible root speed: gates association in 3D and bounds the "
                                   "filtered root's speed (filter.limit_root_speed) [m/s]",
                                   low=0.1, high=20.0, live=True)
    lateral_tolerance_m: float = setting(0.3, "Per-frame root x/y noise allowed on top of the motion [m]",
                                         low=0.0, high=5.0, live=True)
    depth_tolerance: float = setting(0.4, "Relative root-depth difference always allowed (per-frame depth noise)",
                                     low=0.0, high=5.0, live=True)
    keypoint_weight: float = setting(1.0, "Association cost of the 2D keypoint distance (per box diagonal)",
                                     low=0.0, high=100.0, live=True)
    box_weight: float = setting(1.0, "Association cost of 1 - IoU with the predicted box", low=0.0, high=100.0,
                                live=True)
    root_weight: float = setting(0.5, "Association cost of the 3D root distance relative to its gate",
                                 low=0.0, high=100.0, live=True)
    max_cost: float = setting(2.0, "Pairs costing more are never associated", low=0.0, high=1000.0, live=True)
    carry_floor_size: bool = setting(True, "With a known camera mount (cascade.floor): a track learns its person's "
                                     "floor / lifter depth ratio in its floor-fused frames and places the person with "
                                     "it where the floor has no estimate (feet hidden; root_source track_floor; "
                                     "poselifter_core/tracking/floor_size.py)", live=True)
    floor_size_min_frames: int = setting(5, "Floor-fused frames a track needs before it carries their ratio "
                                         "(carry_floor_size)", low=1, high=10000, live=True)
    trail_length: int = setting(15, "Recent roots kept per track for marker trails and the video's top view "
                                "(0: none)", low=0, high=1000, live=False)


@dataclass
class ChannelNoise:
    """A constant-velocity Kalman filter's two knobs for one group of values."""

    measurement_std: float = setting(0.05, "Expected per-frame noise of the measurement (larger: smoother, more lag)",
                                     low=1e-9, high=1e6, live=False)
    acceleration_std: float = setting(1.0, "How fast the true value may change its velocity, per s^2 (larger: less "
                                      "lag, more jitter)", low=1e-9, high=1e6, live=False)

    def __post_init__(self) -> None:
        if not (self.measurement_std > 0 and self.acceleration_std > 0):
            raise ValueError("measurement_std and acceleration_std must be positive")


@dataclass
class FilterConfig:
    """Causal per-track filtering of the lifted people (see :mod:`.pose_filter`)."""

    enabled: bool = setting(True, "Filter each tracked person's 3D pose; false: track ids with the per-frame poses",
                            live=False)
    log_depth: ChannelNoise = field(default_factory=lambda: ChannelNoise(0.12, 0.4))  # ln(root depth)
    root_ray: ChannelNoise = field(default_factory=lambda: ChannelNoise(0.004, 1.0))  # root x / z, y / z
    joints: ChannelNoise = field(default_factory=lambda: ChannelNoise(0.05, 10.0))  # root-relative joints [m]
    reference_fps: float = setting(10.0, "The acceleration stds are for this frame rate; at another rate they scale "
                                   "with (rate / reference_fps)^2, so the filter smooths and lags by the same number "
                                   "of frames at every rate (0: the stds hold per second at every rate) [Hz]",
                                   low=0.0, high=1000.0, live=False)
    network_depth_weight: float = setting(0.3, "Depth measurement: 1 = the network's; 0 = where the track's bone "
                                          "lengths match the 2D size (its scale still follows the network slowly)",
                                          low=0.0, high=1.0, live=False)
    bone_window: int = setting(45, "Frames whose median bone lengths are the track's skeleton", low=1, high=10000,
                               live=False)
    bone_bias_time_s: float = setting(1000.0, "Time constant of the network / bone-length depth ratio [s]",
                                      low=1e-3, high=1e6, live=False)
    enforce_bone_lengths: bool = setting(True, "Rescale the filtered bones to the track's lengths", live=False)
    unobserved_joint_std_factor: float = setting(3.0, "A joint not seen in this frame is updated with the network's "
                                                 "guess at this times the noise", low=1.0, high=1e6, live=False)
    outlier_sigmas: float = setting(3.0, "Innovations beyond this many standard deviations are down-weighted",
                                    low=0.5, high=1e6, live=False)
    flip_angle_deg: float = setting(120.0, "A torso facing change beyond this contradicts the track (a left/right "
                                    "or depth flip) [deg]; 180: never", low=0.0, high=180.0, live=False)
    flip_accept_frames: int = setting(1, "A contradiction is swapped / mirrored back (or damped) for this many frames "
                                      "minus one, then followed, turned at max_turn_deg_per_s (1: always followed)",
                                      low=1, high=1000, live=False)
    max_turn_deg_per_s: float = setting(1000.0, "A followed contradiction turns the published pose no faster than "
                                        "this (a body's turn rate) [deg/s]",
                                        low=1.0, high=1e6, live=False)
    limit_root_speed: bool = setting(True, "The root moves no faster than tracker.max_speed_mps between frames "
                                     "(steps and velocity); a true jump is then followed at that speed", live=False)
    reset_gap_s: float = setting(0.5, "A track re-identified after a longer gap restarts its filter [s]",
                                 low=0.0, high=60.0, live=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.network_depth_weight <= 1.0:
            raise ValueError("network_depth_weight must be in [0, 1]")
        if self.bone_window < 1 or self.flip_accept_frames < 1:
            raise ValueError("bone_window and flip_accept_frames must be >= 1")


@dataclass
class TrackingConfig:
    enabled: bool = setting(True, "Track people over frames (track_id, track_age, track_state); false: untracked, "
                            "unfiltered", live=False)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)
