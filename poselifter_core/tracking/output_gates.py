"""Every pose the tracker publishes passes the cascade's output gates.

Why: the cascade gates each lifted person (:func:`..plausibility.output_reasons`: finite, the root
depth within ``[min_depth_m, max_depth_m]``, every joint in front of the camera, the body's
extent), but the tracker then publishes poses the cascade never saw: a tracked person's filtered
pose, and a coasting track's pose extrapolated with the filter's velocity (someone walking towards
the camera is coasted nearer than ``min_depth_m``, joints behind the camera; a filtered root that
lags a person leaving the depth range is outside it). The tracker checks them with the same gates,
the frame's (``CascadeResult.plausibility``; None: the defaults), and falls back:

* a **filtered** pose that fails is replaced by the person's own pose of this frame (the lift the
  cascade's gates passed, or its track's floor-size carry, which :mod:`.floor_size` gates), counted
  as ``CascadeResult.tracking["filtered_refused"]``. The filter's state is kept: one bad frame of
  a lagging filter must not restart the track, and its next frames are checked again;
* a **coasting** pose that fails is not published (``["coasting_withheld"]``, per track and
  frame). The track itself is unchanged: it is still re-identified within ``max_gap_s`` and dies
  after it, exactly as with ``emit_coasting`` off, so that switch stays an output switch.

Floor-size carried people are gated where they are made (:meth:`.floor_size.FloorSize.carry`).
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..plausibility import PlausibilityConfig, output_reasons

#: ``CascadeResult.tracking`` key: people whose filtered pose failed the output gates (their own pose published).
TRACK_FILTERED_REFUSED = "filtered_refused"
#: ``CascadeResult.tracking`` key: coasting tracks whose predicted pose failed the output gates (not published).
TRACK_COASTING_WITHHELD = "coasting_withheld"
#: The summary's counts (``bag``'s and ``infer``'s), in this order: ``(TRACK_* key, label)``.
TRACKING_SUMMARY = ((TRACK_FILTERED_REFUSED, "filtered poses refused (the person's own pose published)"),
                    (TRACK_COASTING_WITHHELD, "coasting poses withheld"))
#: What the frame's ``tracking`` counts say (infer's JSON).
TRACKING_MEANING = (f"people of this frame whose tracker output failed the cascade's output gates (plausibility: "
                    f"finite, depth range, joints in front, body extent): {TRACK_FILTERED_REFUSED} = the filtered "
                    f"pose refused, the person's own (gated) pose published; {TRACK_COASTING_WITHHELD} = a coasting "
                    "track's predicted pose refused, not published; {} = none (always, for photos and image folders: "
                    "only a video is tracked; poselifter_core/tracking/output_gates.py)")


def refusal(root_m: np.ndarray, joints_m: np.ndarray, gates: PlausibilityConfig) -> str | None:
    """Why one person's (3,) ``root_m`` and (J, 3) ``joints_m`` must not be published (None: they may)."""
    (reason,) = output_reasons(root_m[None], joints_m[None], gates)
    return reason


def tracking_summary(counts: Counter | dict[str, int]) -> str:
    """The one summary line of the tracker's gate fallbacks (``CascadeResult.tracking`` summed)."""
    return "tracker output gates: " + ", ".join(f"{label} {counts.get(key, 0)}" for key, label in TRACKING_SUMMARY)
