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
Gauss-Newton). Given which ankles are whose (``groups``: infer's tracks), the final fit gives
each person a random offset in log depth, their size error (:func:`_fit_plane_by_group`): the
tilt then comes mostly from how each person's depth changes as they walk, and one person seen
for a long time no longer tilts the plane by their size. A perpendicular-distance (total least
squares) fit would take the errors as isotropic and tilt the plane: a few degrees for a camera
looking steeply down.

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
#: Resamples of the ankles (by group: fit_floor) for the mount's standard deviations, and the
#: candidate planes of each resample's search for the floor (fewer than the fit's own 500
#: iterations, scored on a random SEARCH_SCORED of the ankles: with most ankles on the floor,
#: nearly every candidate is one of its planes, and the refits that follow decide the inliers).
BOOTSTRAP = 200
SEARCH_CANDIDATES = 200
SEARCH_SCORED = 400


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
    pitch_sd_deg: float  # bootstrap standard deviations of the mount over the ankles' groups
    roll_sd_deg: float
    height_sd_m: float
    groups: int = 0  # groups resampled (people, when the ankles are grouped by track)
    resamples_failed: int = 0  # resamples in which no floor was found (left out of the sds)

    @property
    def angle_error_deg(self) -> float:
        """The ``cascade.floor.angle_error_deg`` this fit warrants: the setting's default (2D error,
        a hand-measured mount) or the fit's own pitch and roll spread, the larger; NaN when the
        spread is unknown (fewer than two resamples found a floor), never the default's 0.5 deg."""
        spread = float(np.hypot(self.pitch_sd_deg, self.roll_sd_deg))
        return spread if not np.isfinite(spread) else max(FloorConfig().angle_error_deg, spread)


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
              iterations: int = 500, seed: int = 0, resamples: int = BOOTSTRAP) -> FloorFit:
    """The floor from (M, 3) camera-frame standing ankles (module docstring); FloorFitError when
    there are too few or they do not span a plane.

    ``groups`` (M,): ankles that share a group are not independent (a person's frames: their size
    error repeats in all of them), so the bootstrap resamples whole groups (default: each ankle
    its own), ``resamples`` times, searching each resample for the floor's ankles again
    (:func:`_bootstrap`). Give one group per person (a track): on vtest.avi, with groups of
    consecutive frames and only the inliers refitted, fits to 20-30 s windows were up to 6 of
    their sds from the whole video's, and single ankles gave sds 5-10 times smaller still
    (docs/benchmarks.md, "Fitting the mount from a video")."""
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
    best = _refine(points, best)
    inliers = points[best]
    spread = np.linalg.svd(inliers - inliers.mean(axis=0), compute_uv=False)[1] / np.sqrt(len(inliers))
    if spread < MIN_SPREAD_M / 2:
        raise FloorFitError(f"the ankles on the floor lie along one line (spread {2 * spread:.2f} m across it, need "
                            f"{MIN_SPREAD_M} m): the floor's tilt about that line is unknown")
    w = _fit_plane_by_group(inliers, groups[best])
    up, height, pitch, roll = _mount(w, ankle_height_m)
    samples = _bootstrap(points, groups, ankle_height_m, rng, resamples)
    return FloorFit(camera_height_m=height, camera_pitch_deg=pitch, camera_roll_deg=roll, up=up,
                    points=len(points), inliers=len(inliers),
                    log_depth_rms=float(np.sqrt(np.mean(np.log(inliers @ w) ** 2))),
                    pitch_sd_deg=_sd(samples[:, 1]), roll_sd_deg=_sd(samples[:, 2]), height_sd_m=_sd(samples[:, 0]),
                    groups=len(np.unique(groups)), resamples_failed=resamples - len(samples))


def _sd(values: np.ndarray) -> float:
    return float(values.std()) if len(values) > 1 else float("nan")


def _bootstrap(points: np.ndarray, groups: np.ndarray, ankle_height_m: float, rng: np.random.Generator,
               resamples: int) -> np.ndarray:
    """(R, 3) height, pitch and roll of fits to ``resamples`` resamples of whole groups of all the
    usable ankles, the floor's inliers searched for again in each (:func:`_search`): which ankles
    count as the floor's is part of the estimate, and on a short video it moves the plane most
    (two planes a dozen degrees apart each take in nearly as many). Resamples whose search fails
    are left out."""
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    samples = []
    for _ in range(resamples):
        drawn = [members[i] for i in rng.integers(len(members), size=len(members))]
        sample = points[np.concatenate(drawn)]
        labels = np.repeat(np.arange(len(drawn)), [len(m) for m in drawn])  # a group drawn twice: two groups
        on_floor = _search(sample, rng)
        if on_floor is not None:
            samples.append(_mount(_fit_plane_by_group(sample[on_floor], labels[on_floor]), ankle_height_m)[1:])
    return np.array(samples).reshape(-1, 3)


def _search(points: np.ndarray, rng: np.random.Generator, candidates: int = SEARCH_CANDIDATES) -> np.ndarray | None:
    """(N,) bool: fit_floor's search for the floor's ankles, its RANSAC vectorised (``candidates``
    planes through three random ankles at once, the one with the most of SEARCH_SCORED random
    ankles on it), then the same refits on the inliers (:func:`_refine`); None where no plane takes in MIN_POINTS."""
    three = points[rng.integers(len(points), size=(candidates, 3))]
    spans = np.abs(np.linalg.det(three)) >= 1e-9
    if not spans.any():
        return None
    planes = np.linalg.solve(three[spans], np.ones((int(spans.sum()), 3, 1)))[..., 0]
    scored = points[rng.integers(len(points), size=SEARCH_SCORED)] if len(points) > SEARCH_SCORED else points
    ratio = scored[:, :1] * planes[:, 0] + scored[:, 1:2] * planes[:, 1] + scored[:, 2:] * planes[:, 2]
    on = (ratio >= np.exp(-LOG_TOLERANCE)) & (ratio <= np.exp(LOG_TOLERANCE))  # (n, K): as _on_plane
    best = _on_plane(points, planes[np.argmax(on.sum(axis=0))])
    if best.sum() < MIN_POINTS:
        return None
    return _refine(points, best)


def _refine(points: np.ndarray, best: np.ndarray, rounds: int = 3) -> np.ndarray:
    """(N,) bool: the search's inliers ``best`` refined: refit the plane on them, then take the
    inliers of the refitted plane, ``rounds`` times, stopping before a refit with fewer than
    MIN_POINTS."""
    for _ in range(rounds):
        refit = _on_plane(points, _fit_plane(points[best]))
        if refit.sum() < MIN_POINTS:
            break
        best = refit
    return best


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


def _fit_plane_by_group(points: np.ndarray, groups: np.ndarray, steps: int = 5) -> np.ndarray:
    """``w`` of the plane ``w . p = 1`` with a random effect per group: the log depth ratios
    ``log(w . p)`` of a group (a person) share an offset of variance ``s_u^2`` (their size error)
    on top of each ankle's own of variance ``s_e^2``, both estimated from the residuals (moments:
    the pooled within-group variance, and the group means' variance less its share of that).
    Generalised least squares by Gauss-Newton on quasi-demeaned rows (a group of n rows less
    ``theta`` = 1 - sqrt(s_e^2 / (s_e^2 + n s_u^2)) times their mean): a person seen in many frames
    weighs about as much as one seen in a few, and the plane's tilt comes mostly from how each
    person's depth changes as they walk, which their size does not change. Without repeated
    groups, or with no offset variance, it is :func:`_fit_plane`'s fit."""
    w = _fit_plane(points)
    labels, index = np.unique(groups, return_inverse=True)
    sizes = np.bincount(index)
    if sizes.max() < 2 or len(labels) < 3:
        return w
    for _ in range(steps):
        ratio = points @ w
        if not (ratio > 0).all():
            break
        residual = np.log(ratio)
        means = np.bincount(index, residual) / sizes
        within = max(np.sum((residual - means[index]) ** 2) / (len(residual) - len(labels)), 1e-12)
        between = max(np.var(means, ddof=1) - within * np.mean(1.0 / sizes), 0.0)
        theta = (1.0 - np.sqrt(within / (within + sizes * between)))[index]
        jacobian = points / ratio[:, None]  # d log(w . p) / dw
        jacobian_means = np.stack([np.bincount(index, column) / sizes for column in jacobian.T], axis=1)
        w = w - np.linalg.lstsq(jacobian - theta[:, None] * jacobian_means[index], residual - theta * means[index],
                                rcond=None)[0]
    return w


def _mount(w: np.ndarray, ankle_height_m: float) -> tuple[np.ndarray, float, float, float]:
    """Up vector, camera height [m], pitch and roll [deg] of the plane ``w . p = 1`` (the camera,
    at the origin, is on the side the up vector points to)."""
    distance = 1.0 / np.linalg.norm(w)
    up = -w * distance
    pitch, roll = FloorPlane(up, distance).mount_angles_deg()
    return up, float(distance + ankle_height_m), pitch, roll
