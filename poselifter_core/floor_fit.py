"""The floor under a fixed camera, fitted from the people it has lifted: the mount (height, pitch,
roll) that :mod:`.floor` needs, for a camera whose mount nobody measured.

People walking about a room put their feet on its floor. The lifter gives each person's ankles in
the camera frame; their standing ankles lie on a plane ``ankle_height_m`` above the floor. The fit
(:func:`fit_floor`) takes, per lifted person, the observed ankle lower in the image, finds the plane
that most of them lie on (RANSAC: planes through three points, the one that explains the most
ankles), refits it on those, and turns it into a mount.

The lifter's error is along each ray (a person's depth, mostly their unknown size), not across
it, so the plane is fitted to the depths: a plane ``w . p = 1`` (``w`` = the floor's normal over
its distance from the camera) puts the ray of an ankle ``p`` through it at depth ``p / (w . p)``,
and the fit minimises the squared log ratios ``log(w . p)`` (linear least squares, then
Gauss-Newton). A perpendicular-distance (total least squares) fit would take the errors as
isotropic and tilt the plane: a few degrees for a camera looking steeply down.

What it can and cannot know: the lifter's depths carry the people's mean size as the training
bodies' (adult motion capture subjects), so the fitted height is in that scale; a room of children
gives a camera too high by their size ratio. Pitch and roll do not depend on the scale. A single
person's errors (size, 2D noise) move their ankle along its ray, which at a shallow angle is
mostly along the floor, so they tilt the plane little; the points must spread over the floor in
two directions, not only along one corridor line (:class:`FloorFitError` otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .floor import ANKLE_HEIGHT_M, FloorConfig, FloorPlane

#: An ankle is on a candidate plane when its depth is within this (log) of the depth at which its
#: ray meets the plane: the lifter's errors are along the rays, about 5-10 % of the depth.
LOG_TOLERANCE = 0.15
#: The fit needs this many ankles on the floor, spread at least this far [m] across their main
#: direction.
MIN_POINTS = 20
MIN_SPREAD_M = 0.5
#: Resamples of the inliers for the mount's standard deviations.
BOOTSTRAP = 200


class FloorFitError(ValueError):
    """Too few or badly spread ankles to fit a floor."""


@dataclass(frozen=True)
class FloorFit:
    """A fitted mount, in the settings' terms (``cascade.floor.*``), and how well it fits."""

    camera_height_m: float
    camera_pitch_deg: float
    camera_roll_deg: float
    up: np.ndarray  # (3,) world up in the camera frame
    points: int  # ankles given
    inliers: int  # ankles on the fitted plane
    log_depth_rms: float  # root mean square of the inliers' log depth ratio to the plane
    pitch_sd_deg: float  # bootstrap standard deviations of the mount over the inliers' groups
    roll_sd_deg: float
    height_sd_m: float

    @property
    def angle_error_deg(self) -> float:
        """The ``cascade.floor.angle_error_deg`` this fit warrants: the setting's default (2D error,
        a hand-measured mount) or the fit's own pitch and roll spread, the larger."""
        return float(max(FloorConfig().angle_error_deg, np.hypot(self.pitch_sd_deg, self.roll_sd_deg)))


def lowest_ankles(joints_m: np.ndarray, valid: np.ndarray, ankles: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(M, 3): per person of (N, 17, 3) ``joints_m`` with its (N, 17) ``valid`` mask, the observed
    ankle lower in the image (larger y in the optical frame), persons without one left out; and
    (M,) the persons' rows."""
    joints_m = np.asarray(joints_m, dtype=np.float64)
    pair = joints_m[:, list(ankles)]
    seen = np.asarray(valid, dtype=bool)[:, list(ankles)] & np.isfinite(pair).all(axis=2)
    # the camera's y points down: of the observed ankles, the one with the larger y / z is lower in the image
    height_in_image = np.where(seen, pair[..., 1] / np.maximum(pair[..., 2], 1e-9), -np.inf)
    pick = np.argmax(height_in_image, axis=1)
    rows = np.flatnonzero(seen.any(axis=1))
    return pair[rows, pick[rows]], rows


def fit_floor(ankles_m: np.ndarray, groups: np.ndarray | None = None, ankle_height_m: float = ANKLE_HEIGHT_M,
              iterations: int = 500, seed: int = 0) -> FloorFit:
    """The floor from (M, 3) camera-frame standing ankles (module docstring); FloorFitError when
    there are too few or they do not span a plane.

    ``groups`` (M,): ankles that share a group are not independent (the same people a few frames
    apart: their size errors repeat), so the bootstrap resamples whole groups (default: each
    ankle its own). Resampling single ankles of a video gave standard deviations 5-10 times
    smaller than the difference between fits to its two halves (docs/benchmarks.md)."""
    points = np.asarray(ankles_m, dtype=np.float64).reshape(-1, 3)
    groups = np.arange(len(points)) if groups is None else np.asarray(groups).reshape(-1)
    if len(groups) != len(points):
        raise ValueError(f"groups has {len(groups)} entries for {len(points)} ankles")
    usable = np.isfinite(points).all(axis=1) & (points[:, 2] > 0)
    points, groups = points[usable], groups[usable]
    if len(points) < MIN_POINTS:
        raise FloorFitError(f"need at least {MIN_POINTS} lifted people with an observed ankle, got {len(points)}: "
                            "give a longer video or more frames")
    rng = np.random.default_rng(seed)
    best = np.zeros(len(points), dtype=bool)
    planes = 0
    for _ in range(iterations):
        three = points[rng.choice(len(points), 3, replace=False)]
        if abs(np.linalg.det(three)) < 1e-9:  # on one line, or on a plane through the camera
            continue
        planes += 1
        inliers = _on_plane(points, np.linalg.solve(three, np.ones(3)))
        if inliers.sum() > best.sum():
            best = inliers
    if planes == 0:
        raise FloorFitError("the ankles lie along one line: the floor's tilt about that line is unknown")
    if best.sum() < MIN_POINTS:
        raise FloorFitError(f"only {int(best.sum())} of {len(points)} ankles lie on one plane (need {MIN_POINTS})")
    for _ in range(3):  # refit on the inliers, then take the inliers of the refitted plane
        refit = _on_plane(points, _fit_plane(points[best]))
        if refit.sum() < MIN_POINTS:
            break
        best = refit
    inliers, inlier_groups = points[best], groups[best]
    spread = np.linalg.svd(inliers - inliers.mean(axis=0), compute_uv=False)[1] / np.sqrt(len(inliers))
    if spread < MIN_SPREAD_M / 2:
        raise FloorFitError(f"the ankles on the floor lie along one line (spread {2 * spread:.2f} m across it, need "
                            f"{MIN_SPREAD_M} m): the floor's tilt about that line is unknown")
    w = _fit_plane(inliers)
    up, height, pitch, roll = _mount(w, ankle_height_m)
    members = [np.flatnonzero(inlier_groups == g) for g in np.unique(inlier_groups)]
    samples = np.array([_mount(_fit_plane(inliers[np.concatenate([members[i] for i in
                                                                  rng.integers(len(members), size=len(members))])]),
                               ankle_height_m)[1:] for _ in range(BOOTSTRAP)])
    return FloorFit(camera_height_m=height, camera_pitch_deg=pitch, camera_roll_deg=roll, up=up,
                    points=len(points), inliers=len(inliers),
                    log_depth_rms=float(np.sqrt(np.mean(np.log(inliers @ w) ** 2))),
                    pitch_sd_deg=float(samples[:, 1].std()), roll_sd_deg=float(samples[:, 2].std()),
                    height_sd_m=float(samples[:, 0].std()))


def _on_plane(points: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(M,) bool: the ankles whose depth is within LOG_TOLERANCE of where their ray meets ``w . p = 1``."""
    ratio = points @ w
    return (ratio > 0) & (np.abs(np.log(np.where(ratio > 0, ratio, 1.0))) <= LOG_TOLERANCE)


def _fit_plane(points: np.ndarray, steps: int = 5) -> np.ndarray:
    """``w`` minimising sum log(w . p)^2: linear least squares of ``w . p = 1``, then Gauss-Newton."""
    w = np.linalg.lstsq(points, np.ones(len(points)), rcond=None)[0]
    for _ in range(steps):
        ratio = points @ w
        if not (ratio > 0).all():
            break
        jacobian = points / ratio[:, None]  # d log(w . p) / dw
        w = w - np.linalg.lstsq(jacobian, np.log(ratio), rcond=None)[0]
    return w


def _mount(w: np.ndarray, ankle_height_m: float) -> tuple[np.ndarray, float, float, float]:
    """Up vector, camera height [m], pitch and roll [deg] of the plane ``w . p = 1`` (the camera,
    at the origin, is on the side the up vector points to)."""
    distance = 1.0 / np.linalg.norm(w)
    up = -w * distance
    pitch, roll = FloorPlane(up, distance).mount_angles_deg()
    return up, float(distance + ankle_height_m), pitch, roll
