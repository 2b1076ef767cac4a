"""Before/after speed of the cascade, interleaved: two (or more) source trees timed turn by turn.

Timings on a shared machine drift by tens of percent within minutes, so comparing a run made now
with one made an hour ago says little. This script keeps one worker process per source tree (its
``poselifter_core`` on ``PYTHONPATH``), each with its cascade built once, and hands them the
same frames in small chunks, taking turns and reversing the order every chunk. The load both see
is then the same, and the ratio of their medians is what to report.

    python benchmarks/interleaved_cascade.py --tree before=/path/to/old/checkout --tree after=. \\
        --video /usr/share/doc/opencv-doc/examples/data/vtest.avi --frames 300

Per tree it prints the median and p90 wall time per frame, the CPU time per frame (all threads of
the worker), the 2D and lift stage medians, people found (2D detections) and lifted, the worker's
peak RSS, and the ratio of each time to the first tree's. ``--boxes K`` runs the 2D stage top-down
on K boxes tiled over the frame instead of bottom-up; ``--photo`` repeats one image instead of
reading a video. Agreement with the first tree: frames where the trees lifted a different number
of people, lifted people without a counterpart (box IoU >= 0.5) in the other tree's frame, and
the median 2D keypoint difference of the matched people.

Only ``build_cascade`` and ``Pose3DEstimator.process`` of each tree are used, so old checkouts
work as they are. Frames are decoded here with OpenCV (not timed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _frames(video: str | None, photo: str | None, start: int, count: int, state: dict) -> list[np.ndarray]:
    import cv2

    if photo is not None:
        if "photo" not in state:
            image = cv2.imread(photo, cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f"cannot read {photo}")
            state["photo"] = np.ascontiguousarray(image[..., ::-1])
        return [state["photo"]] * count
    if state.get("next") != start:  # reopen and skip: exact on any codec, unlike seeking
        state["capture"], state["next"] = cv2.VideoCapture(video), 0
        for _ in range(start):
            state["capture"].grab()
    capture = state["capture"]
    frames = []
    for _ in range(count):
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(frame[..., ::-1]))
    state["next"] = start + len(frames)
    return frames


def tiled_boxes(width: int, height: int, count: int) -> np.ndarray:
    """``count`` person-shaped boxes (1:2) on a grid covering a ``width`` x ``height`` frame."""
    cols = int(np.ceil(np.sqrt(count * height / (2 * width) * 2)))
    rows = int(np.ceil(count / cols))
    w, h = width / cols, height / rows
    boxes = [[c * w + 0.1 * w, r * h + 0.05 * h, (c + 0.9) * w, (r + 0.95) * h]
             for r in range(rows) for c in range(cols)]
    return np.asarray(boxes[:count], dtype=np.float64)


def serve(process_frame) -> int:
    """Answer one JSON command per stdin line: time ``process_frame(frame, boxes)`` (which returns
    ``(pose2d_ms, lift_ms, found, lifted, keypoints, boxes)``) on the commanded frames."""
    state: dict = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        frames = _frames(command.get("video"), command.get("photo"), command["start"], command["count"], state)
        boxes = None
        if command.get("boxes") and frames:
            boxes = tiled_boxes(frames[0].shape[1], frames[0].shape[0], command["boxes"])
        if command.get("warmup"):
            for frame in frames[:3]:
                process_frame(frame, boxes)
        records = []
        for frame in frames:
            cpu, wall = time.process_time(), time.perf_counter()
            pose2d_ms, lift_ms, found, lifted, keypoints, person_boxes = process_frame(frame, boxes)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            records.append({"wall_ms": 1000 * wall, "cpu_ms": 1000 * cpu, "pose2d_ms": pose2d_ms, "lift_ms": lift_ms,
                            "found": found, "lifted": lifted, "keypoints": keypoints, "boxes": person_boxes})
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"records": records, "peak_rss_mib": peak_mib}), flush=True)
    return 0


def worker() -> int:
    """Serve the cascade of the tree on ``PYTHONPATH`` (built once, with its defaults)."""
    from poselifter_core.infer import build_cascade

    cascade = build_cascade()

    def process_frame(frame: np.ndarray, boxes: np.ndarray | None) -> tuple:
        result = cascade.process(frame, None, boxes)
        return (result.timings_ms.get("pose2d", float("nan")), result.timings_ms.get("lift", float("nan")),
                len(result.people) + sum(result.skipped.values()), len(result.people),
                [p.keypoints_2d.round(2).tolist() for p in result.people], [p.box.round(1).tolist() for p in result.people])

    return serve(process_frame)


class Worker:
    """One worker process: by default this script's cascade worker on ``tree``'s code."""

    def __init__(self, name: str, tree: Path, env: dict[str, str], command: list[str] | None = None) -> None:
        self.name = name
        environment = {**os.environ, "PYTHONPATH": str(tree.resolve()), **env}
        self.process = subprocess.Popen(command or [sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=environment, cwd=tree)
        self._read()
        self.records: list[dict] = []
        self.peak_rss_mib = 0.0

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} died")
        return json.loads(line)

    def run(self, command: dict) -> None:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        if not command.get("discard"):
            self.records.extend(answer["records"])
        self.peak_rss_mib = answer["peak_rss_mib"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def machine() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            cpu = next(line.split(":", 1)[1].strip() for line in stream if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} logical cores, load average {os.getloadavg()[0]:.1f} at the start"


def _iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0


def _agreement(base: list[dict], other: list[dict]) -> tuple[int, int, float]:
    """Lifted people of ``other`` matched to ``base``'s frame by frame (greedy, box IoU >= 0.5):
    frames with a different count, people left unmatched on either side, and the median over
    matched people of their mean 2D keypoint difference (px)."""
    differing, unmatched, differences = 0, 0, []
    for a, b in zip(base, other):
        differing += a["lifted"] != b["lifted"]
        free = list(range(len(b["boxes"])))
        for i, box in enumerate(a["boxes"]):
            best = max(free, key=lambda j: _iou(box, b["boxes"][j]), default=None)
            if best is None or _iou(box, b["boxes"][best]) < 0.5:
                unmatched += 1
                continue
            free.remove(best)
            differences.append(float(np.mean(np.abs(np.array(a["keypoints"][i]) - np.array(b["keypoints"][best])))))
        unmatched += len(free)
    return differing, unmatched, float(np.median(differences)) if differences else 0.0


def report(workers: list[Worker]) -> str:
    base = workers[0]
    base_wall = np.median([r["wall_ms"] for r in base.records])
    base_cpu = np.mean([r["cpu_ms"] for r in base.records])
    lines = ["| tree | frames | wall median ms | wall p90 ms | CPU ms/frame | 2D median ms | lift median ms | "
             "found/frame | lifted/frame | peak RSS MiB | wall ratio | CPU ratio | frames lifting a different count | "
             "people unmatched | matched 2D diff px (median) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for w in workers:
        r = w.records
        wall = np.array([x["wall_ms"] for x in r])
        cpu = np.array([x["cpu_ms"] for x in r])
        differing, unmatched, difference = _agreement(base.records, r)
        lines.append(
            f"| {w.name} | {len(r)} | {np.median(wall):.1f} | {np.percentile(wall, 90):.1f} | {cpu.mean():.1f} | "
            f"{np.median([x['pose2d_ms'] for x in r]):.1f} | {np.median([x['lift_ms'] for x in r]):.2f} | "
            f"{np.mean([x['found'] for x in r]):.2f} | {np.mean([x['lifted'] for x in r]):.2f} | {w.peak_rss_mib:.0f} | "
            f"{np.median(wall) / base_wall:.2f} | {cpu.mean() / base_cpu:.2f} | {differing} | {unmatched} | "
            f"{difference:.2f} |")
    return "\n".join(lines)


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="a source tree to time (repeat; the first is the reference of the ratios)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME:VAR=VALUE",
                        help="an environment variable for one tree's worker (e.g. after:OMP_NUM_THREADS=1)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--video", default="/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    source.add_argument("--photo", help="time this one image, repeated, instead of a video")
    parser.add_argument("--frames", type=int, default=300, help="frames timed per tree")
    parser.add_argument("--chunk", type=int, default=20, help="frames per turn")
    parser.add_argument("--boxes", type=int, default=0, help="top-down on this many tiled boxes (0: bottom-up)")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes running beside the benchmark")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = arguments()
    args = parser.parse_args(argv)
    if args.worker:
        return worker()
    if not args.tree:
        parser.error("give at least one --tree NAME=PATH")
    env: dict[str, dict[str, str]] = {}
    for item in args.env:
        name, _, assignment = item.partition(":")
        var, _, value = assignment.partition("=")
        env.setdefault(name, {})[var] = value
    trees = [item.partition("=") for item in args.tree]
    workers = [Worker(name, Path(path), env.get(name, {})) for name, _, path in trees]
    print(run_interleaved(workers, args))
    return 0


def run_interleaved(workers: list[Worker], args: argparse.Namespace) -> str:
    """Time ``workers`` turn by turn as ``args`` say (see :func:`main`'s options); the report."""
    source = {"photo": args.photo} if args.photo else {"video": args.video}
    load = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        description = machine()
        for w in workers:  # warm-up, not recorded
            w.run({**source, "start": 0, "count": 3, "boxes": args.boxes, "warmup": True, "discard": True})
        for k, start in enumerate(range(0, args.frames, args.chunk)):
            count = min(args.chunk, args.frames - start)
            for w in (workers if k % 2 == 0 else workers[::-1]):
                w.run({**source, "start": start, "count": count, "boxes": args.boxes})
    finally:
        for process in load:
            process.kill()
        for w in workers:
            w.close()
    what = args.photo or f"{args.video}, first {args.frames} frames"
    mode = f"top-down on {args.boxes} boxes" if args.boxes else "bottom-up"
    return (f"Cascade per frame on {what} ({mode}), chunks of {args.chunk} frames taking turns; {args.load} busy "
            f"processes beside it. Machine: {description}.\n\n" + report(workers))


if __name__ == "__main__":
    sys.exit(main())
