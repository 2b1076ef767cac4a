"""A track carries its person's floor-derived size correction to the frames without the floor.

Why: a single image cannot tell a small near person from a large far one, so the lifter places
everyone as an average training body and its root depth is off by the person's size difference.
With a known camera mount the cascade fixes this per frame from the floor (:mod:`..floor`:
``root_source`` "floor"), but only while an ankle is observed on the floor: a person whose feet
are hidden (behind a table, cut by the image border) falls back to the lifter's size-blind depth
(``root_source`` "lifter"), and their root jumps by the size error when the feet disappear.

A person does not change size. So while a track has floor-fused frames, it learns
``ln(fused depth / lifter depth)`` (the lifter's own depth is ``Person3D.lifter_depth_m``): the
median over its last :data:`WINDOW` fused frames (robust to a frame whose floor estimate was off,
a foot lifted in a step). In the track's frames with no floor estimate (``Person3D.floor_outcome``
"no_estimate": no ankle observed, or its ray misses the floor) and in its frames that had no mount
at all (``floor_outcome`` "": the node's ``floor_frame`` transform missed for that frame, a TF
lagging the images, and no ``cascade.floor`` mount), once it has at least
``tracker.floor_size_min_frames`` fused frames, the lifter's root moves along its own ray by that
ratio (:func:`..floor.along_ray`, as the cascade moves a fused root), the relative pose kept, and
the person's ``root_source`` is "track_floor" (counted as ``CascadeResult.floor["carried"]``, or
``["carried_no_mount"]`` in a frame without a mount). The carried person passes the cascade's own
output gates (``cascade.plausibility``, the result's: the root depth within ``min_depth_m`` and
``max_depth_m``, every joint in front of the camera, ...); one that would not keeps the lifter's
pose, counted as ``["carry_refused"]``. Only a track that learned a ratio carries, so
with the floor off for the whole stream nothing changes.

Not in the frames where the floor's estimate disagreed with the lifter's (beyond the cascade's
gate): such frames mean the feet are off this floor (a step, a platform, a jump) or the mount is
wrong, and a track that has them often is one whose fused frames are suspect too (a person on a
platform is fused where the too-far floor estimate happens to pass the gate). Measured on two
training subjects who climb on platforms, carrying into the disagreed frames made one of them
worse (docs/benchmarks.md, "Root depth from a known floor": the carry's subsection).

What it forgets: the ratio belongs to the track; a track's death (``max_gap_s``) or a tracker reset
(the stream's clock going backwards) drops it with the track. A filter restart after a gap
(``filter.reset_gap_s``) keeps it, as it keeps the track's skeleton: both are the person's body.
A ratio learned under one camera mount carries that mount's error (the floor's depth error is
mostly the mount's angle error), so when the frames' mount (``CascadeResult.mount``: the
``cascade.floor`` settings or the node's mount from TF) moves from the one the ratios were learned
under by more than its own stated 1-sigma error (``angle_error_deg`` in pitch or roll,
``contact_error_m`` in the camera's or the ankles' height: :func:`..floor.mount_moved`), every
track forgets its ratio (``Tracker.floor_size_resets``) and relearns it in its next
``floor_size_min_frames`` fused frames; a frame without a mount changes nothing (a lagging TF).
The node also forgets when ``cascade.floor`` is changed live to another mount or switched off
(the tracker alone cannot tell a floor switched off from frames without TF). Not measured; a
camera that keeps tilting (a pan-tilt head) relearns after every move beyond ``angle_error_deg``.

The pose filter (:mod:`.pose_filter`) gets the carried person as its measurement, so its depth
measurement stays in one scale, the floor's, whether the feet are seen or not. Its ``depth_bias``
(the slow ratio of the measured root depth to the depth at which the track's skeleton matches the
2D size) then learns that same scale and does not correct the size a second time: the learned
ratio is applied once, to the measurement, never to the filter's output. Without the carry the
filter's bias averages the fused and the lifter's depths, which carries part of the floor's
correction into the hidden-feet frames through the size cue (``network_depth_weight``) and takes
part of it away from the visible-feet frames, while the measurement jumps between the two scales
where the feet come and go (docs/benchmarks.md: tracked, the carry lowers the error in both).
"""
from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..floor import FLOOR_NO_ESTIMATE, FLOOR_NO_MOUNT, ROOT_FLOOR, ROOT_LIFTER, ROOT_TRACK_FLOOR, along_ray
from ..plausibility import PlausibilityConfig, output_reasons

if TYPE_CHECKING:  # the cascade pulls in torch
    from ..cascade import Person3D

#: Fused frames whose median ratio is the track's (the latest; enough for a robust median, bounded cost).
WINDOW = 200
#: The ``Person3D.floor_outcome`` of the frames a learned ratio carries into (not "disagreed": module doc).
CARRIED_OUTCOMES = (FLOOR_NO_ESTIMATE, FLOOR_NO_MOUNT)


class FloorSize:
    """One track's learned ``ln(fused depth / lifter depth)`` (module doc)."""

    def __init__(self) -> None:
        self.log_ratios: deque[float] = deque(maxlen=WINDOW)
        self._median: float | None = None

    @property
    def fused_frames(self) -> int:
        return len(self.log_ratios)

    def learn(self, person: Person3D) -> None:
        """Add a floor-fused person's ratio; any other person teaches nothing."""
        lifter, fused = person.lifter_depth_m, float(person.root_m[2])
        if person.root_source != ROOT_FLOOR or lifter is None or not (lifter > 0 and fused > 0):
            return
        ratio = math.log(fused / lifter)
        if math.isfinite(ratio):
            self.log_ratios.append(ratio)
            self._median = None

    def log_ratio(self, min_frames: int) -> float | None:
        """The median ratio, or None with fewer than ``min_frames`` (at least 1) fused frames."""
        if len(self.log_ratios) < max(min_frames, 1):
            return None
        if self._median is None:
            self._median = statistics.median(self.log_ratios)
        return self._median

    def carry(self, person: Person3D, min_frames: int,
              gates: PlausibilityConfig) -> tuple[Person3D | None, str | None]:
        """``(carried, refused)``: ``person``, seen without a floor estimate or without a mount, with
        its lifter's root moved along its ray by the learned ratio (``root_source`` "track_floor"),
        and None; ``(None, None)`` when it is not to be carried (the floor had an estimate: fused, or
        it disagreed; its lifter depth is not recorded; the ratio is not learned yet); ``(None,
        reason)`` when the moved body would fail the cascade's output ``gates``
        (:func:`..plausibility.output_reasons`: finite, the root depth within ``[min_depth_m,
        max_depth_m]``, every joint in front of the camera, the body's extent), the reason the
        first failed gate's: the lifter's person, which passed them, is kept."""
        log_ratio = self.log_ratio(min_frames)
        if (log_ratio is None or person.root_source != ROOT_LIFTER or person.floor_outcome not in CARRIED_OUTCOMES
                or person.lifter_depth_m is None):
            return None, None
        root, joints, depth = along_ray(person.root_m[None], person.relative_m[None], person.joints_m[None],
                                        np.array([person.canonical_depth]), np.array([math.exp(log_ratio)]))
        (reason,) = output_reasons(root, joints, gates)
        if reason is not None:
            return None, reason
        return replace(person, root_m=root[0], joints_m=joints[0], canonical_depth=float(depth[0]),
                       root_source=ROOT_TRACK_FLOOR), None
