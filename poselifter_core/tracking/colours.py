"""A stable colour per track id, the same in RViz markers, the annotated video and the 3D view."""
from __future__ import annotations

import colorsys
import re
import zlib

#: Golden-ratio hue step: consecutive track numbers get well separated hues.
_HUE_STEP = 0.618033988749895


def track_colour(track_id: str) -> tuple[float, float, float]:
    """RGB in [0, 1] for ``track_id``: from its trailing number when it has one (``t7`` -> 7), so
    the first tracks differ clearly, else from a CRC of the id; identical in every process."""
    number = re.search(r"(\d+)$", track_id)
    key = int(number.group(1)) if number else zlib.crc32(track_id.encode("utf-8"))
    return colorsys.hsv_to_rgb((0.05 + key * _HUE_STEP) % 1.0, 0.8, 0.95)


#: Colours of untracked people (RGB in [0, 1]), by their position in the frame's list, cycled.
UNTRACKED_COLOURS = ((0.90, 0.10, 0.29), (0.24, 0.71, 0.29), (0.0, 0.51, 0.78),
                     (0.96, 0.51, 0.19), (0.57, 0.12, 0.71), (0.27, 0.94, 0.94))


def person_colour(track_id: str, index: int) -> tuple[float, float, float]:
    """The track's colour, or for an untracked person (``track_id`` "") one by ``index``."""
    return track_colour(track_id) if track_id else UNTRACKED_COLOURS[index % len(UNTRACKED_COLOURS)]
