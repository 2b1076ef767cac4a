"""CPU latency of the 2D stage on multi-person frames made by tiling one photo.

``poselifter benchmark pose2d [--photo PNG] [--long-side 256] [--repeats 50]``
prints, for 640x480 frames with 1, 3 and 6 copies of the photo, the people found, the
median / 90th-percentile time of ``MoveNet.estimate`` (letterbox + inference + decoding) and
the median of each of those three stages. The
default photo is scikit-image's ``astronaut`` (NASA, public domain), when installed.
"""
from __future__ import annotations

import platform
import time

import numpy as np
from PIL import Image

from ..pose2d.base import Pose2DEstimator, check_image

#: people -> (columns, rows) of the tiling grid
_GRIDS = {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2), 6: (3, 2)}


def tiled_frame(photo: np.ndarray, people: int, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A grey ``size`` (width, height) frame with ``people`` square copies of ``photo`` in a grid."""
    check_image(photo)
    if people not in _GRIDS:
        raise ValueError(f"people must be one of {sorted(_GRIDS)}, got {people}")
    cols, rows = _GRIDS[people]
    width, height = size
    side = min(width // cols, height // rows)
    tile = np.asarray(Image.fromarray(photo).resize((side, side), Image.Resampling.BILINEAR))
    frame = np.full((height, width, 3), 127, dtype=np.uint8)
    for k in range(people):
        row, col = divmod(k, cols)
        frame[row * side:(row + 1) * side, col * side:(col + 1) * side] = tile
    return frame


def time_estimator(estimator: Pose2DEstimator, frame: np.ndarray, repeats: int = 50, warmup: int = 5) -> np.ndarray:
    """Wall-clock seconds of ``repeats`` calls of ``estimator.estimate(frame)`` after ``warmup``."""
    for _ in range(warmup):
        estimator.estimate(frame)
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        estimator.estimate(frame)
        times[i] = time.perf_counter() - start
    return times


def movenet_stage_times(estimator, frame: np.ndarray, repeats: int = 50) -> dict[str, float]:
    """Median milliseconds of MoveNet's letterbox, inference and decoding on ``frame``."""
    from ..pose2d.transforms import CropTransform

    times = np.empty((repeats, 3))
    for i in range(repeats):
        t0 = time.perf_counter()
        transform = CropTransform.letterbox((frame.shape[1], frame.shape[0]), estimator.long_side)
        network_input = transform.apply(frame)
        t1 = time.perf_counter()
        raw = estimator.run(network_input)
        t2 = time.perf_counter()
        estimator.decode(raw, transform)
        t3 = time.perf_counter()
        times[i] = (t1 - t0, t2 - t1, t3 - t2)
    pre, infer, post = np.median(times, axis=0) * 1000
    return {"pre": pre, "inference": infer, "post": post}


def pose2d_latency_report(photo: np.ndarray, long_side: int = 256, repeats: int = 50, threads: int = 0) -> str:
    """A Markdown table: MoveNet on 640x480 frames tiling ``photo`` 1, 3 and 6 times (see the module doc)."""
    from ..pose2d.movenet import MoveNet

    estimator = MoveNet(long_side=long_side, num_threads=threads)
    lines = [f"machine: {platform.machine()}, {platform.processor() or platform.system()}; "
             f"MoveNet long_side {long_side}, threads {threads or 'default'}",
             "| people in frame | found | total median ms | total p90 ms | letterbox ms | inference ms | decode ms |",
             "|---|---|---|---|---|---|---|"]
    for people in (1, 3, 6):
        frame = tiled_frame(photo, people)
        found = len(estimator.estimate(frame))
        times = time_estimator(estimator, frame, repeats) * 1000
        stages = movenet_stage_times(estimator, frame, repeats)
        lines.append(f"| {people} | {found} | {np.median(times):.1f} | {np.percentile(times, 90):.1f} | "
                     f"{stages['pre']:.2f} | {stages['inference']:.1f} | {stages['post']:.2f} |")
    return "\n".join(lines)
