"""The lift stage's cost beyond the lifter network, per frame of a video (#16 target: 0.2 ms).

The 2D stage runs once per frame up front; then each frame's ``lift_people`` is timed with the
lifter network replaced by its cached output, so what is left is the stage's own work (layout
conversion, selection, checks, decoding, results). Median and mean over the frames.

    python benchmarks/lift_overhead.py [--video V] [--frames 100]
"""
from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np

from poselifter_core.infer import build_cascade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    cascade = build_cascade()
    capture = cv2.VideoCapture(args.video)
    people, size = [], None
    for _ in range(args.frames):
        ok, frame = capture.read()
        if not ok:
            break
        size = (frame.shape[1], frame.shape[0])
        people.append(cascade.estimator.estimate(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
    backend, run, cached = cascade.lifter.backend, cascade.lifter.backend.run, {}

    def network(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        batch = len(next(iter(inputs.values())))
        if batch not in cached:
            cached[batch] = run(inputs)
        return cached[batch]

    backend.run = network
    per_frame = []
    for frame_people in people:
        for _ in range(3):
            cascade.lift_people(frame_people, None, size)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            cascade.lift_people(frame_people, None, size)
            times.append(time.perf_counter() - start)
        per_frame.append(np.median(times))
    print(f"lift stage without the network over {len(people)} frames of {args.video} "
          f"({np.mean([len(p) for p in people]):.2f} people/frame): median {1000 * np.median(per_frame):.3f} ms, "
          f"mean {1000 * np.mean(per_frame):.3f} ms per frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
