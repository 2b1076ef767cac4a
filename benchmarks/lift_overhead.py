"""The lift stage's cost beyond the lifter network, per frame of a video (#16 target: 0.2 ms).

The 2D stage runs once per frame up front; then each frame's ``lift_people`` is timed with the
lifter network replaced by its cached output, so what is left is the stage's own work (layout
conversion, selection, checks, decoding, results). Median and mean over the frames.

    python benchmarks/lift_overhead.py [--video V] [--frames 100]
    python benchmarks/lift_overhead.py --tree before=/old/checkout --tree after=.   # interleaved
    python benchmarks/lift_overhead.py --tree off=. --tree on=. --floor-tree on     # the floor's cost

With ``--tree`` each source tree gets a worker process; the workers time blocks of 10 frames in
turn (order reversed every block), so every tree sees the same moments of a shared machine, and
the report gives ratios to the first tree. ``--floor-tree NAME`` runs that tree's cascade with the
camera mount known (``--camera-height``, ``--camera-pitch``: ``cascade.floor``); then every tree
gets the camera's intrinsics (a 60 degree field of view) instead of none, so the floor's fusion is
the only difference.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np

BLOCK = 10


def prepared_cascade(video: str, frames: int, floor: tuple[float, float] | None = None):
    """The default cascade (with the camera mount ``floor``: height [m], pitch [deg], when given)
    with its lifter network's output cached, and each frame's 2D people."""
    from poselifter_core.infer import build_cascade

    if floor is None:
        cascade = build_cascade()
    else:
        from poselifter_core.cascade import CascadeConfig
        from poselifter_core.floor import FloorConfig

        cascade = build_cascade(config=CascadeConfig(floor=FloorConfig(camera_height_m=floor[0],
                                                                       camera_pitch_deg=floor[1])))
    capture = cv2.VideoCapture(video)
    people, size = [], None
    for _ in range(frames):
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
    for frame_people in people:
        for _ in range(3):
            cascade.lift_people(frame_people, None, size)
    return cascade, people, size


def frame_times(cascade, people, size, repeats: int, intrinsics=None) -> list[float]:
    """Median seconds of ``lift_people`` per frame."""
    per_frame = []
    for frame_people in people:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            cascade.lift_people(frame_people, intrinsics, size)
            times.append(time.perf_counter() - start)
        per_frame.append(float(np.median(times)))
    return per_frame


def worker(args: argparse.Namespace) -> int:
    """Prepare, say ready, then time the frame blocks asked for on stdin ("first last")."""
    floor = (args.camera_height, args.camera_pitch) if args.floor_on else None
    cascade, people, size = prepared_cascade(args.video, args.frames, floor)
    intrinsics = None
    if args.known_camera:
        from poselifter_core.camera import Intrinsics

        intrinsics = Intrinsics.from_fov(size[0], size[1], 60.0)
    print(len(people), flush=True)
    for line in sys.stdin:
        first, last = map(int, line.split())
        print(json.dumps(frame_times(cascade, people[first:last], size, args.repeats, intrinsics)), flush=True)
    return 0


def interleaved(args: argparse.Namespace) -> int:
    names = [tree.partition("=")[0] for tree in args.tree]
    workers = {}
    for name, path in (tree.split("=", 1) for tree in args.tree):
        environment = {**os.environ, "PYTHONPATH": os.path.abspath(path)}
        floor = (["--known-camera"] if args.floor_tree else []) + (["--floor-on"] if name in args.floor_tree else [])
        workers[name] = subprocess.Popen([sys.executable, __file__, "--worker", "--video", args.video, "--frames",
                                          str(args.frames), "--repeats", str(args.repeats), "--camera-height",
                                          str(args.camera_height), "--camera-pitch", str(args.camera_pitch), *floor],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment)
    frames = min(int(w.stdout.readline()) for w in workers.values())
    times: dict[str, list[float]] = {name: [] for name in names}
    load = os.getloadavg()[0]
    for block, first in enumerate(range(0, frames, BLOCK)):
        for name in names if block % 2 == 0 else names[::-1]:
            workers[name].stdin.write(f"{first} {min(first + BLOCK, frames)}\n")
            workers[name].stdin.flush()
            times[name] += json.loads(workers[name].stdout.readline())
    for process in workers.values():
        process.stdin.close()
        process.wait()
    print(f"lift stage without the network, {frames} frames of {args.video}, trees interleaved in blocks of "
          f"{BLOCK} frames; load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    base = np.median(times[names[0]])
    for name in names:
        ms = 1000 * np.array(times[name])
        print(f"{name}: median {np.median(ms):.3f} ms, mean {ms.mean():.3f} ms per frame; "
              f"median / {names[0]}'s {np.median(ms) / 1000 / base:.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--tree", action="append", metavar="NAME=PATH", help="interleave these source trees")
    parser.add_argument("--floor-tree", action="append", default=[], metavar="NAME",
                        help="run this --tree with the camera mount known (the floor's cost)")
    parser.add_argument("--camera-height", type=float, default=5.9, help="the mount of --floor-tree [m]")
    parser.add_argument("--camera-pitch", type=float, default=28.0,
                        help="[deg]; the defaults are vtest.avi's fitted mount")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor-on", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--known-camera", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.tree:
        return interleaved(args)
    cascade, people, size = prepared_cascade(args.video, args.frames)
    per_frame = frame_times(cascade, people, size, args.repeats)
    print(f"lift stage without the network over {len(people)} frames of {args.video} "
          f"({np.mean([len(p) for p in people]):.2f} people/frame): median {1000 * np.median(per_frame):.3f} ms, "
          f"mean {1000 * np.mean(per_frame):.3f} ms per frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
