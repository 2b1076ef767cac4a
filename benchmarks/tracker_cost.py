"""CPU cost of the tracker + filter per person and frame, on cached per-frame lifts (#14).

``evaluate-sequence`` times the tracker inside a run that also lifts; this replays cached lifts
through :func:`poselifter_core.tracking.evaluation.track` only, so that two versions of the
tracking code can be timed against each other on the same input (run it alternately with
``PYTHONPATH`` pointing at each tree) and their outputs compared.

The caches are pickles (``cache`` makes them, with the default lifter and backend):
``--clips``: {(fps, camera): [(truth joints, intrinsics, people per frame), ...]}, the held-out
clips as ``evaluate-sequence`` plays and lifts them; ``--video``: {"fps": fps, "frames": [(people,
intrinsics, timings), ...]}, a video (vtest.avi) through the whole cascade.

    python benchmarks/tracker_cost.py cache --clips CLIPS.pkl --video VIDEO.pkl \
        --source /usr/share/doc/opencv-doc/examples/data/vtest.avi
    PYTHONPATH=TREE python benchmarks/tracker_cost.py time --clips CLIPS.pkl --video VIDEO.pkl --dump out.pkl
    python benchmarks/tracker_cost.py compare old.pkl new.pkl
"""
from __future__ import annotations

import argparse
import pickle
import sys
import time

import numpy as np

from poselifter_core.cascade import CascadeResult
from poselifter_core.tracking.config import TrackingConfig
from poselifter_core.tracking.evaluation import track
from poselifter_core.tracking.tracker import Tracker

#: The fields of a tracked person that the comparison checks.
FIELDS = ("track_id", "track_age", "track_state", "joints_m", "root_m", "relative_m", "canonical_depth",
          "keypoints_2d", "box", "root_trail_m")


def _outputs(people) -> list[dict]:
    return [{name: getattr(p, name) for name in FIELDS} for p in people]


def time_clips(path: str, rates: list[float], camera: str, count: int) -> tuple[float, int, list]:
    """CPU seconds, person-frames and outputs of ``track`` over the first ``count`` clips per rate."""
    with open(path, "rb") as f:
        data = pickle.load(f)
    spent, person_frames, outputs = 0.0, 0, []
    for fps in rates:
        for _, intrinsics, by_frame in data[(fps, camera)][:count]:
            tracked, seconds = track(by_frame, intrinsics, fps, TrackingConfig())
            spent, person_frames = spent + seconds, person_frames + sum(len(people) for people in by_frame)
            outputs.append([_outputs(people) for people in tracked])
    return spent, person_frames, outputs


def time_video(path: str) -> tuple[float, int, list]:
    """CPU seconds, person-frames and outputs of one tracker over the cached video frames."""
    with open(path, "rb") as f:
        data = pickle.load(f)
    tracker, spent, person_frames, outputs = Tracker(TrackingConfig()), 0.0, 0, []
    for index, (people, intrinsics, _) in enumerate(data["frames"]):
        result = CascadeResult(list(people), intrinsics, False)
        started = time.thread_time()
        tracker.update(result, index / data["fps"])
        spent += time.thread_time() - started
        person_frames += len(people)
        outputs.append(_outputs(result.people))
    return spent, person_frames, [outputs]


def make_caches(clips_path: str, video_path: str, source: str, fov_deg: float, backend: str) -> None:
    """Write the clips' lifts (as evaluate-sequence makes them) and ``source``'s cascade results."""
    import imageio.v2 as iio2

    from poselifter_core.infer import CameraSpec, build_cascade
    from poselifter_core.tracking.evaluation import (
        SequenceEvalConfig,
        clip_combinations,
        default_model,
        lifted_clips,
    )

    cascade = build_cascade(None, None, backend=backend)
    config = SequenceEvalConfig()
    combinations = clip_combinations(config)
    clips: dict = {}
    for combination, sequence, by_frame in lifted_clips(cascade, config, default_model(None)):
        clips.setdefault(combinations[combination], []).append((sequence.joints, sequence.intrinsics, by_frame))
    with open(clips_path, "wb") as f:
        pickle.dump(clips, f)
    frames = []
    with iio2.get_reader(source) as reader:
        fps = float(reader.get_meta_data().get("fps", 30.0))
        for frame in reader:
            image = np.ascontiguousarray(np.asarray(frame)[..., :3])
            result = cascade.process(image, CameraSpec(hfov_deg=fov_deg).intrinsics(image.shape[1], image.shape[0]))
            frames.append((result.people, result.intrinsics, result.timings_ms))
    with open(video_path, "wb") as f:
        pickle.dump({"fps": fps, "frames": frames}, f)


def _differences(old, new, path: str = "") -> tuple[int, float]:
    """(values compared, largest relative difference); raises on a structural or exact-field mismatch."""
    if isinstance(old, dict):
        compared, worst = 0, 0.0
        for key in old:
            c, w = _differences(old[key], new[key], f"{path}.{key}")
            compared, worst = compared + c, max(worst, w)
        return compared, worst
    if isinstance(old, list):
        if len(old) != len(new):
            raise AssertionError(f"{path}: {len(old)} against {len(new)} items")
        compared, worst = 0, 0.0
        for index, (a, b) in enumerate(zip(old, new)):
            c, w = _differences(a, b, f"{path}[{index}]")
            compared, worst = compared + c, max(worst, w)
        return compared, worst
    if old is None or isinstance(old, str) or isinstance(old, (int, np.integer)) and not isinstance(old, bool):
        if old != new:
            raise AssertionError(f"{path}: {old!r} against {new!r}")
        return 1, 0.0
    a, b = np.asarray(old, dtype=np.float64), np.asarray(new, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"{path}: shape {a.shape} against {b.shape}")
    scale = np.maximum(np.abs(a), 1e-3)  # relative, with an absolute floor of 1e-3 (mm in metres, sub-pixel)
    return a.size, float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    timing = commands.add_parser("time", help="time track() on cached lifts")
    timing.add_argument("--clips", required=True, help="pickle of the clips' per-frame lifts")
    timing.add_argument("--video", help="pickle of vtest.avi's per-frame people")
    timing.add_argument("--rates", type=float, nargs="+", default=[10.0, 30.0])
    timing.add_argument("--camera", default="fixed")
    timing.add_argument("--count", type=int, default=12, help="clips per rate")
    timing.add_argument("--label", default="", help="printed in front of the numbers")
    timing.add_argument("--dump", help="write the tracked outputs here (for compare)")
    caching = commands.add_parser("cache", help="lift the clips and run the cascade over a video, once")
    caching.add_argument("--clips", required=True, help="output pickle of the clips' per-frame lifts")
    caching.add_argument("--video", required=True, help="output pickle of the video's per-frame people")
    caching.add_argument("--source", required=True, help="the video (e.g. OpenCV's vtest.avi)")
    caching.add_argument("--fov", type=float, default=60.0, help="its horizontal field of view [deg]")
    caching.add_argument("--backend", default="onnxruntime-cpu")
    compare = commands.add_parser("compare", help="check two dumps hold the same outputs")
    compare.add_argument("old")
    compare.add_argument("new")
    compare.add_argument("--tolerance", type=float, default=1e-9, help="largest relative difference allowed")
    args = parser.parse_args(argv)

    if args.command == "cache":
        make_caches(args.clips, args.video, args.source, args.fov, args.backend)
        return 0
    if args.command == "compare":
        with open(args.old, "rb") as f, open(args.new, "rb") as g:
            compared, worst = _differences(pickle.load(f), pickle.load(g))
        print(f"{compared} values compared, largest relative difference {worst:.3g}")
        return 0 if worst <= args.tolerance else 1

    dump = {}
    spent, person_frames, dump["clips"] = time_clips(args.clips, args.rates, args.camera, args.count)
    print(f"{args.label} clips: {1000 * spent / person_frames:.3f} ms CPU per person-frame over {person_frames}",
          flush=True)
    if args.video:
        spent, person_frames, dump["video"] = time_video(args.video)
        print(f"{args.label} vtest: {1000 * spent / person_frames:.3f} ms CPU per person-frame over {person_frames}",
              flush=True)
    if args.dump:
        with open(args.dump, "wb") as f:
            pickle.dump(dump, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
