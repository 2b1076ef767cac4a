"""Which detected person continues which track: a gated cost matrix and an optimal assignment.

The cost of pairing track t with person d adds three cues that a 3D lifter has and a box
tracker lacks, each scaled to about 1 at the edge of plausibility:

* the 2D keypoint distance: mean over joints valid in both, per diagonal of the person's box;
* the box overlap: 1 - IoU of the track's predicted box and the person's box;
* the absolute 3D root: the lateral distance (ray difference times the predicted depth) and the
  log-depth difference, each divided by its gate; the gates grow with the time since the track
  was last seen at the plausible speed ``max_speed_mps``, plus a per-frame noise tolerance
  (depth is the lifter's noisiest output, so its tolerance is relative).

A pair beyond a gate, or costing more than ``max_cost``, is never associated. The assignment
minimising the total cost is :func:`.assignment.min_cost_assignment` (Hungarian / Jonker-Volgenant, numpy).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .assignment import min_cost_assignment
from .body import norms
from .config import TrackerConfig

#: Gates widen by this many standard deviations of a track's own prediction.
GATE_SIGMAS = 3.0
#: Stands in for an infeasible pair in the solver's matrix (it needs finite entries).
INFEASIBLE = 1e6


@dataclass
class Candidates:
    """Tracks' predictions or people's measurements, stacked (N items)."""

    keypoints: np.ndarray  # (N, J, 2) px
    valid: np.ndarray  # (N, J) bool
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2
    rays: np.ndarray  # (N, 2) root direction x / z, y / z
    depth: np.ndarray  # (N,) root depth [m]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4) x (B, 4) -> (A, B) intersection over union."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(x2 - x1, 0.0) * np.maximum(y2 - y1, 0.0)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _area(boxes: np.ndarray) -> np.ndarray:
    return np.maximum(boxes[:, 2] - boxes[:, 0], 0.0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0.0)


def cost_matrix(tracks: Candidates, people: Candidates, elapsed_s: np.ndarray, track_std: np.ndarray,
                config: TrackerConfig) -> np.ndarray:
    """(T, D) association costs, ``inf`` where a gate rules the pair out. ``elapsed_s`` (T,) is
    each track's time since it was last seen; ``track_std`` (T, 2) the std of each track's
    predicted ln(depth) and root direction: a young track, whose velocity is barely known, gets
    gates wider by ``GATE_SIGMAS`` of them."""
    both = tracks.valid[:, None, :] & people.valid[None, :, :]
    distance = norms(tracks.keypoints[:, None] - people.keypoints[None, :])
    distance = np.where(both, distance, 0.0)
    diagonal = np.hypot(people.boxes[:, 2] - people.boxes[:, 0], people.boxes[:, 3] - people.boxes[:, 1])
    shared = np.add.reduce(both, axis=-1)  # the ufunc itself: .sum()'s wrapper costs as much again
    mean_distance = np.add.reduce(distance, axis=-1) / np.maximum(shared, 1)
    keypoint_cost = np.where(shared > 0, mean_distance / np.maximum(diagonal, 1.0)[None, :], 1.0)
    box_cost = 1.0 - box_iou(tracks.boxes, people.boxes)

    travel = config.max_speed_mps * elapsed_s[:, None]
    lateral = norms(tracks.rays[:, None] - people.rays[None, :]) * tracks.depth[:, None]
    lateral_gate = travel + config.lateral_tolerance_m + GATE_SIGMAS * (track_std[:, 1] * tracks.depth)[:, None]
    log_depth = np.abs(np.log(tracks.depth)[:, None] - np.log(people.depth)[None, :])
    depth_gate = math.log1p(config.depth_tolerance) + travel / tracks.depth[:, None] + GATE_SIGMAS * track_std[:, :1]
    root_cost = np.maximum(lateral / lateral_gate, log_depth / depth_gate)

    cost = config.keypoint_weight * keypoint_cost + config.box_weight * box_cost + config.root_weight * root_cost
    return np.where((root_cost <= 1.0) & (cost <= config.max_cost), cost, np.inf)


def assign(cost: np.ndarray) -> list[tuple[int, int]]:
    """(track, person) pairs of the minimum-cost assignment, feasible pairs only."""
    if cost.size == 0:
        return []
    feasible = np.isfinite(cost)
    rows, cols = min_cost_assignment(np.where(feasible, cost, INFEASIBLE))
    return [(r, c) for r, c in zip(rows.tolist(), cols.tolist()) if feasible[r, c]]
