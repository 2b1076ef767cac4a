"""CPU latency of the 2D stage on multi-person frames made by tiling one photo.

``python -m poselifter_core.pose2d.latency [--photo PNG] [--long-side 256] [--repeats 50]``
prints, for 640x480 frames with 1, 3 and 6 copies of the photo, the people found, the
median / 90th-percentile time of ``MoveNet.estimate`` (letterbox + inference + decoding) and
the median of each of those three stages. The
default photo is scikit-image's ``astronaut`` (NASA, public domain), when installed.
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from PIL import Image

from .base import Pose2DEstimator, check_image

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
    from .transforms import CropTransform

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


def main(argv: list[str] | None = None) -> int:
    from .movenet import MoveNet

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", help="RGB photo of one person (default: skimage.data.astronaut)")
    parser.add_argument("--long-side", type=int, default=256, help="MoveNet letterbox size (multiple of 32)")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: its default)")
    args = parser.parse_args(argv)
    if args.photo:
        with Image.open(args.photo) as image:
            photo = np.asarray(image.convert("RGB"))
    else:
        from skimage.data import astronaut

        photo = astronaut()
    estimator = MoveNet(long_side=args.long_side, num_threads=args.threads)
    print(f"machine: {platform.machine()}, {platform.processor() or platform.system()}; "
          f"MoveNet long_side {args.long_side}, threads {args.threads or 'default'}")
    print("| people in frame | found | total median ms | total p90 ms | letterbox ms | inference ms | decode ms |")
    print("|---|---|---|---|---|---|---|")
    for people in (1, 3, 6):
        frame = tiled_frame(photo, people)
        found = len(estimator.estimate(frame))
        times = time_estimator(estimator, frame, args.repeats) * 1000
        stages = movenet_stage_times(estimator, frame, args.repeats)
        print(f"| {people} | {found} | {np.median(times):.1f} | {np.percentile(times, 90):.1f} | "
              f"{stages['pre']:.2f} | {stages['inference']:.1f} | {stages['post']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
