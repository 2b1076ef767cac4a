"""The cascade side by side with MediaPipe Pose (what a user would pick instead), interleaved.

MediaPipe is not a project dependency: install ``mediapipe==0.10.21`` (its wheel ships its pose
models) and ``opencv-python-headless`` into a separate virtual environment and name its Python:

    python3 -m venv /tmp/mp && /tmp/mp/bin/pip install mediapipe==0.10.21 opencv-python-headless
    python benchmarks/speed_compare.py --mediapipe-python /tmp/mp/bin/python --tree after=. \\
        --photo /usr/share/doc/opencv-doc/examples/data/messi5.jpg --frames 60

The MediaPipe worker runs Pose in video mode (``static_image_mode=False``, model complexity 1,
at most one person) through the same turn-taking driver as ``interleaved_cascade.py``; its
"found" and "lifted" count the one person it tracks, and its 2D keypoints are not compared.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interleaved_cascade import Worker, arguments, run_interleaved, serve  # noqa: E402


def mediapipe_worker() -> int:
    import mediapipe as mp

    pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)

    def process_frame(frame, boxes) -> tuple:
        found = int(pose.process(frame).pose_landmarks is not None)
        return float("nan"), float("nan"), found, found, [], []

    return serve(process_frame)


def main(argv: list[str] | None = None) -> int:
    parser = arguments()
    parser.add_argument("--mediapipe-python", help="the Python of a virtual environment with mediapipe 0.10.21")
    args = parser.parse_args(argv)
    if args.worker:
        return mediapipe_worker()
    if not args.mediapipe_python:
        parser.error("--mediapipe-python is required")
    here = Path(__file__).resolve()
    trees = [item.partition("=") for item in args.tree]
    workers = [Worker(name, Path(path), {}) for name, _, path in trees]
    workers.append(Worker("mediapipe", here.parent, {}, [args.mediapipe_python, str(here), "--worker"]))
    print(run_interleaved(workers, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
