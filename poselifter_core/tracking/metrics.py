"""Temporal metrics of pose sequences: smoothness, lag, depth jitter, flips, identity.

Sequences are arrays over frames (axis 0) in one unit (millimetres in the reports).
"""
from __future__ import annotations

import numpy as np

from .body import angle_deg, facing


def second_difference(x: np.ndarray) -> np.ndarray:
    """x[t + 1] - 2 x[t] + x[t - 1] over the frames (T - 2 items): acceleration per frame^2."""
    return x[2:] - 2 * x[1:-1] + x[:-2]


def acceleration_errors(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distances between predicted and true joint accelerations, per frame^2: (T, J, 3)
    sequences -> (T - 2, J). Their mean is the temporal lifting literature's "Accel" (HMMR, VIBE)."""
    return np.linalg.norm(second_difference(pred) - second_difference(truth), axis=-1)


def shift_errors(pred: np.ndarray, truth: np.ndarray, max_shift: int = 6) -> np.ndarray:
    """(2 max_shift + 1,) mean squared distance of pred[t] to truth[t - s] for s = -max_shift ..
    max_shift, over the frames every shift covers: the curve :func:`lag_from_errors` reads.
    (T, ..., 3) sequences of more than 2 max_shift + 2 frames."""
    n = len(pred)
    if n <= 2 * max_shift + 2:
        raise ValueError(f"shifts up to {max_shift} frames need more than {2 * max_shift + 2} frames, got {n}")
    return np.array([np.square(pred[max_shift:n - max_shift] - truth[max_shift - s:n - max_shift - s]).sum(-1).mean()
                     for s in range(-max_shift, max_shift + 1)])


def lag_from_errors(errors: np.ndarray) -> float:
    """The delay (frames) at the minimum of a :func:`shift_errors` curve (or a sum of curves, to
    pool sequences), sub-frame by a parabola through the best three: 0 without delay, positive
    when the estimate lags behind the truth."""
    max_shift = len(errors) // 2
    best = int(np.argmin(errors))
    if 0 < best < len(errors) - 1:
        left, centre, right = errors[best - 1:best + 2]
        curvature = left - 2 * centre + right
        return float(best - max_shift + (0.5 * (left - right) / curvature if curvature > 0 else 0.0))
    return float(best - max_shift)


def lag_frames(pred: np.ndarray, truth: np.ndarray, max_shift: int = 6) -> float:
    """The delay (frames) by which ``pred`` follows ``truth`` (see :func:`lag_from_errors`)."""
    return lag_from_errors(shift_errors(pred, truth, max_shift))


def facing_changes(relative: np.ndarray) -> np.ndarray:
    """Angle (degrees) between consecutive frames' torso facings of one track's (T, J, 3) poses."""
    facings = [facing(pose) for pose in relative]
    return np.array([angle_deg(a, b) for a, b in zip(facings[:-1], facings[1:])])


def identity_errors(truth_ids: list[list[str]], track_ids: list[list[str]]) -> dict[str, float]:
    """Id switches and fragmentation of a tracker against the true identities.

    ``truth_ids[t]`` and ``track_ids[t]`` list, per frame, the true person and the track id given
    to each detected person (same order). A switch: a true person's track id differs from the
    one it had when last seen. Fragments: tracks per true person, minus one, summed.
    """
    last: dict[str, str] = {}
    tracks_of: dict[str, set[str]] = {}
    switches = frames = 0
    for truths, tracks in zip(truth_ids, track_ids):
        for person, track in zip(truths, tracks):
            frames += 1
            if person in last and last[person] != track:
                switches += 1
            last[person] = track
            tracks_of.setdefault(person, set()).add(track)
    fragments = sum(len(t) - 1 for t in tracks_of.values())
    return {"person_frames": frames, "id_switches": switches, "fragments": fragments,
            "id_switches_per_100": 100.0 * switches / max(frames, 1)}
