"""Plausibility gates of the lifting path: what goes into the lifter and what may come out.

Shared by ``infer``, ``bag`` and the node through :meth:`~.cascade.Pose3DEstimator.lift_people`,
so no caller can publish a pose these gates reject. A person failing a gate is skipped and
counted under the gate's reason (the ``REASON_*`` constants); nothing non-finite, non-positive
or absurd leaves the cascade (docs/lifter_input.md, "Plausibility").

* Before the lift (:func:`camera_implausible` and :func:`ray_failures`, which the cascade's
  vectorised input gate and its head-only positions run): the intrinsics within ``max_intrinsics_px`` and every
  observed joint's focal-normalized ray ``((u - cx) / fx, (v - cy) / fy)`` finite and within
  ``max_ray`` (a joint thousands of pixels outside any image, or at 1e30, is not from a camera),
  so the lifter never sees values that overflow its normalization.
* After the lift (:func:`output_reasons`): every output finite, the root depth within
  ``[min_depth_m, max_depth_m]``, every joint in front of the camera, and the body no larger
  than ``max_body_extent_m`` around its root. A corrupted or out-of-range model shows up here.
* Per frame (:func:`cap_boxes`, :func:`cap_people`): at most ``max_people`` boxes or people, so
  a flood of detections cannot make one frame take seconds; what is dropped is counted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .settings import setting

REASON_RAY = "2D joint outside any plausible view (implausible input)"
REASON_CAMERA = "implausible camera intrinsics (beyond max_intrinsics_px)"
REASON_NOT_FINITE = "lifted pose not finite"
REASON_DEPTH_LOW = "lifted depth below min_depth_m (zero, negative or too close)"
REASON_DEPTH_HIGH = "lifted depth above max_depth_m"
REASON_BEHIND = "lifted joint behind the camera"
REASON_BODY = "lifted body larger than max_body_extent_m"
REASON_CAP = "over the max_people cap per frame"


@dataclass
class PlausibilityConfig:
    """Bounds of a pose worth publishing. ``max_people`` 0 means no cap."""

    max_ray: float = setting(10.0, "Skip a person with an observed 2D joint further off the optical axis than this "
                             "(|u - cx| / fx, |v - cy| / fy; 10 is 84 degrees)", low=0.1, high=1e3)
    max_intrinsics_px: float = setting(1e6, "Skip every person when |fx|, |fy|, |cx| or |cy| exceeds this [px] (no "
                                       "real camera; keeps float32 finite)", low=1.0, high=1e9)
    min_depth_m: float = setting(0.2, "Skip a lifted person whose root is nearer than this [m] (zero, negative or "
                                 "too close)", low=1e-3, high=10.0)
    max_depth_m: float = setting(60.0, "Skip a lifted person whose root is farther than this [m]", low=1.0, high=1e4)
    max_body_extent_m: float = setting(2.5, "Skip a lifted person with a joint farther than this from its root [m]",
                                       low=0.1, high=100.0)
    max_people: int = setting(20, "Lift at most this many people per frame (top_down: the largest boxes, else the "
                              "best scored); the rest are counted. 0: no cap", low=0, high=1000)

    def __post_init__(self) -> None:
        if not (0 < self.min_depth_m < self.max_depth_m and np.isfinite(self.max_depth_m)):
            raise ValueError(f"need 0 < min_depth_m < max_depth_m (finite), got {self.min_depth_m}, {self.max_depth_m}")
        if not (self.max_ray > 0 and self.max_body_extent_m > 0 and self.max_intrinsics_px > 0):
            raise ValueError("max_ray, max_intrinsics_px and max_body_extent_m must be positive")
        if isinstance(self.max_people, bool) or not isinstance(self.max_people, int) or self.max_people < 0:
            raise ValueError(f"max_people must be an integer >= 0 (0: no cap), got {self.max_people!r}")


def first_reasons(failed: np.ndarray, reasons: Sequence[str]) -> list[str | None]:
    """Per person (column of the (K, N) bool ``failed``, row k: who fails check k), the reason of
    the first check it fails, or None when it passes them all.

    The gates compute every check for a whole frame at once; this turns them into reasons with
    one ``any`` when everyone passes (the usual frame), and a short loop otherwise."""
    if not failed.any():
        return [None] * failed.shape[1]
    first, hit = failed.argmax(axis=0).tolist(), failed.any(axis=0).tolist()
    return [reasons[k] if bad else None for k, bad in zip(first, hit)]


def camera_implausible(intrinsics: np.ndarray, config: PlausibilityConfig) -> bool:
    """Whether ``[fx, fy, cx, cy]`` holds a value beyond ``max_intrinsics_px`` (no real camera)."""
    return not (np.abs(intrinsics) <= config.max_intrinsics_px).all()


def ray_failures(keypoints: np.ndarray, valid: np.ndarray, intrinsics: np.ndarray,
                 config: PlausibilityConfig) -> np.ndarray:
    """(N,) bool: which people have a joint of the (N, J) ``valid`` mask whose focal-normalized ray
    is not finite or beyond ``max_ray`` (float64 (N, J, 2) pixel ``keypoints``, ``[fx, fy, cx, cy]``).
    Call under ``np.errstate(over="ignore", invalid="ignore")``: the input may hold anything."""
    rays = np.abs((keypoints - intrinsics[2:]) / intrinsics[:2])
    return (~(rays <= config.max_ray).all(axis=-1) & valid).any(axis=-1)


#: The output gate's checks, in the order they are reported (the first failed one wins).
OUTPUT_REASONS = (REASON_NOT_FINITE, REASON_DEPTH_LOW, REASON_DEPTH_HIGH, REASON_BEHIND, REASON_BODY)


def output_reasons(root_m: np.ndarray, joints_m: np.ndarray, config: PlausibilityConfig) -> list[str | None]:
    """Per person, why the lifted (N, 3) ``root_m`` and (N, J, 3) ``joints_m`` (metres, camera
    optical frame) must not leave the cascade (None: they may)."""
    root, joints = np.asarray(root_m, np.float64), np.asarray(joints_m, np.float64)
    if len(root) == 0:
        return []
    with np.errstate(over="ignore", invalid="ignore"):
        extent = np.sqrt(np.add.reduce(np.square(joints - root[:, None]), axis=2).max(axis=1))  # (N,)
        if _all_plausible(root, joints, extent, config):
            return [None] * len(root)
        failed = np.empty((len(OUTPUT_REASONS), len(root)), dtype=bool)
        failed[0] = ~(np.isfinite(root).all(axis=1) & np.isfinite(joints).all(axis=(1, 2)))
        failed[1] = root[:, 2] < config.min_depth_m
        failed[2] = root[:, 2] > config.max_depth_m
        failed[3] = (joints[..., 2] <= 0).any(axis=1)
        failed[4] = extent > config.max_body_extent_m
    return first_reasons(failed, OUTPUT_REASONS)


def _all_plausible(root: np.ndarray, joints: np.ndarray, extent: np.ndarray, config: PlausibilityConfig) -> bool:
    """Whether everyone passes every output check, from the frame's extremes: the usual frame, in a
    few calls. NaN fails every comparison and a non-finite output makes a depth, a joint depth
    or an extent NaN or infinite, so such a frame goes to the per-person checks."""
    depth = root[:, 2]
    return bool(config.min_depth_m <= depth.min() and depth.max() <= config.max_depth_m
                and joints[..., 2].min() > 0 and extent.max() <= config.max_body_extent_m)


def cap_boxes(boxes: np.ndarray, ids: list[str] | None,
              max_people: int) -> tuple[np.ndarray, list[str] | None, int]:
    """At most ``max_people`` (0: all) person boxes, the largest kept (nearest people first, in
    their original order), their ids, and how many were dropped."""
    if not max_people or len(boxes) <= max_people:
        return boxes, ids, 0
    areas = np.nan_to_num((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), nan=-1.0)
    keep = np.sort(np.argsort(-areas, kind="stable")[:max_people])
    return boxes[keep], None if ids is None else [ids[i] for i in keep], len(boxes) - len(keep)


def cap_people(scores: np.ndarray, max_people: int) -> np.ndarray:
    """Indices of at most ``max_people`` (0: all) people, the best scored, in their original order."""
    order = np.arange(len(scores))
    if not max_people or len(scores) <= max_people:
        return order
    return np.sort(np.argsort(-np.nan_to_num(np.asarray(scores, np.float64), nan=-np.inf), kind="stable")[:max_people])
