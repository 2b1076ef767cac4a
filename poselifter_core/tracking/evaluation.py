"""``poselifter evaluate-sequence``: per-frame lifting vs tracked + filtered, on the same lifts.

* **Held-out clips** (:func:`evaluate_clips`): each test clip played through a fixed and a slowly
  orbiting virtual camera at each frame rate, with correlated detector noise; reports MPJPE,
  MRPE, the acceleration error (mm/frame^2, absolute joints), the root-depth jitter (median
  |second difference| of the root depth, mm; the truth's own is given beside it) and the lag
  (frames, of the root-relative pose and of the root; :func:`~.metrics.lag_from_errors`).
* **Crossings** (:func:`evaluate_crossing`): people crossing and hiding each other; id switches
  per 100 person-frames, fragments, and whether each occlusion was bridged by the same id.
* **A video without ground truth** (:func:`evaluate_video`): per track, the root depth's steps
  and second differences, steps over 0.5 m, torso facing flips over 120 degrees, track lengths,
  and the tracker's cost per person and frame next to the cascade's.

Both methods see exactly the same lifted people: "per-frame" is the cascade's output, "tracked
+ filtered" is what the tracker makes of it.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..camera import MM_PER_M, Intrinsics
from ..cascade import CascadeResult, Person3D, Pose3DEstimator
from ..data.world_mocap import load_world_mocap
from ..metrics import mpjpe
from ..noise.error_model import ErrorModel, default_error_model
from ..pose2d.base import Person2D
from ..skeleton import H36M17
from .config import TrackingConfig
from .metrics import (
    acceleration_errors,
    facing_changes,
    identity_errors,
    lag_from_errors,
    second_difference,
    shift_errors,
)
from .sequences import NoiseConfig, Sequence, SequenceCamera, crossing_scene, detector_noise, play_clip
from .tracker import Tracker

METHODS = ("per-frame", "tracked+filtered")
#: Shortest run of consecutive frames used for the lag.
MIN_LAG_RUN = 40
FACING_FLIP_DEG = 120.0
#: Occlusions up to this long must keep the person's id (the issue's target).
SHORT_OCCLUSION_S = 1.0


@dataclass
class SequenceEvalConfig:
    mocap: str = "data/open_mocap/open_mocap_h36m17_world_mm.npz"
    split: str = "test"
    fps: list[float] = field(default_factory=lambda: [10.0, 30.0])
    cameras: list[str] = field(default_factory=lambda: ["fixed", "orbiting"])
    camera: SequenceCamera = field(default_factory=SequenceCamera)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    min_clip_s: float = 3.0  # shorter clips are left out (too short to show lag or smoothness)
    crossing_duration_s: float = 10.0
    seed: int = 0
    tracking: TrackingConfig = field(default_factory=TrackingConfig)


def lift_frames(cascade: Pose3DEstimator, keypoints: np.ndarray, scores: np.ndarray, intrinsics: np.ndarray,
                image_size: tuple[int, int], names: list[str] | None = None) -> list[Person3D]:
    """Lift (N, J, 2) H36M-17 people in one batch; each result's ``id`` is its index (or name)."""
    people = []
    for index, (xy, score) in enumerate(zip(keypoints, scores)):
        seen = xy[score > 0]
        box = np.concatenate([seen.min(axis=0), seen.max(axis=0)])
        people.append(Person2D(xy, score, box, 1.0, H36M17, names[index] if names else str(index)))
    return cascade.lift_people(people, Intrinsics(*intrinsics), image_size).people


def track(people_per_frame: list[list[Person3D]], intrinsics: np.ndarray, fps: float,
          config: TrackingConfig) -> tuple[list[list[Person3D]], float]:
    """The tracker's output per frame (observed people only, in the input order) and the CPU time
    it took [s] (this thread's: on a shared machine, wall time would count other processes)."""
    tracker = Tracker(config)
    k = Intrinsics(*intrinsics)
    out, spent = [], 0.0
    for index, people in enumerate(people_per_frame):
        result = CascadeResult([replace(p, id="") for p in people], k, False)
        started = time.thread_time()
        tracker.update(result, index / fps)
        spent += time.thread_time() - started
        out.append(result.people[:len(people)])
    return out, spent


def _runs(present: np.ndarray) -> list[np.ndarray]:
    """Index arrays of the runs of consecutive True frames."""
    index = np.flatnonzero(present)
    return [run for run in np.split(index, np.flatnonzero(np.diff(index) > 1) + 1) if len(run)]


def sequence_metrics(pred: np.ndarray, truth: np.ndarray, present: np.ndarray) -> dict[str, float]:
    """Metrics of (T, J, 3) mm predictions (valid where ``present``) against the truth."""
    runs = _runs(present)
    frames = np.concatenate(runs)
    triples = [run for run in runs if len(run) >= 3]
    accel = np.concatenate([acceleration_errors(pred[r], truth[r]).ravel() for r in triples])
    jitter = np.concatenate([np.abs(second_difference(pred[r, 0, 2])) for r in triples])
    truth_jitter = np.concatenate([np.abs(second_difference(truth[r, 0, 2])) for r in triples])
    longest = max(runs, key=len)
    return {"frames": len(frames), "MPJPE": float(mpjpe(pred[frames], truth[frames]).mean()),
            "MRPE": float(np.linalg.norm(pred[frames, 0] - truth[frames, 0], axis=-1).mean()),
            "Accel": float(accel.mean()), "RootJitter": float(np.median(jitter)),
            "TruthJitter": float(np.median(truth_jitter)),
            "lag_errors": _lag_curves(pred[longest], truth[longest]) if len(longest) >= MIN_LAG_RUN else None}


def _lag_curves(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Shift error curves of the root-relative pose and of the root."""
    return np.stack([shift_errors(pred - pred[:, :1], truth - truth[:, :1]), shift_errors(pred[:, 0], truth[:, 0])])


def _as_array(people: list[Person3D | None], frames: int, joints: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros((frames, joints, 3))
    present = np.zeros(frames, dtype=bool)
    for t, person in enumerate(people):
        if person is not None:
            out[t], present[t] = person.joints_m * MM_PER_M, True
    return out, present


def clip_combinations(config: SequenceEvalConfig) -> list[tuple[float, str]]:
    """The (frame rate, camera) combinations the clips are played at, in order: each gives its own
    rows of :func:`evaluate_clips`, even when a rate or a camera is listed twice."""
    return list(itertools.product(config.fps, config.cameras))


def lifted_clips(cascade: Pose3DEstimator, config: SequenceEvalConfig,
                 model: ErrorModel) -> Iterator[tuple[int, Sequence, list[list[Person3D]]]]:
    """(index in :func:`clip_combinations`, sequence, lifted people per frame) of each held-out
    clip as :func:`evaluate_clips` plays it (the same order, the same noise)."""
    clips = [c for c in load_world_mocap(config.mocap, splits=[config.split])
             if (len(c.joints) - 1) / c.fps >= config.min_clip_s]
    if not clips:
        raise ValueError(f"no {config.split} clip of {config.mocap} lasts min_clip_s = {config.min_clip_s} s")
    rng = np.random.default_rng(config.seed)
    for combination, (fps, camera_kind) in enumerate(clip_combinations(config)):
        for clip in clips:
            sequence = play_clip(clip, fps, config.camera, camera_kind == "orbiting", float(rng.uniform(-180, 180)))
            if sequence is None:
                continue
            keypoints, scores = detector_noise(sequence.keypoints, fps, model, config.noise, rng)
            lifted = lift_frames(cascade, keypoints, scores, sequence.intrinsics, sequence.image_size)
            by_frame: list[list[Person3D]] = [[] for _ in range(len(keypoints))]
            for person in lifted:
                by_frame[int(person.id)].append(person)
            yield combination, sequence, by_frame


@dataclass
class _PlayedClips:
    """What the clips played at one (frame rate, camera) combination gave."""

    per_method: dict[str, list[dict]] = field(default_factory=lambda: {m: [] for m in METHODS})
    tracker_s: float = 0.0
    person_frames: int = 0


def evaluate_clips(cascade: Pose3DEstimator, config: SequenceEvalConfig, model: ErrorModel) -> list[dict]:
    """One row per (fps, camera, method), frame-weighted over the clips; the lag from the shift
    error curves summed over the clips' longest runs. A combination at which no clip could be
    played (none fits the image from up to 30 m) still has its rows: ``clips`` 0, metrics NaN."""
    combinations = clip_combinations(config)
    played = [_PlayedClips() for _ in combinations]
    for combination, sequence, by_frame in lifted_clips(cascade, config, model):
        fps, here = combinations[combination][0], played[combination]
        tracked, seconds = track(by_frame, sequence.intrinsics, fps, config.tracking)
        here.tracker_s, here.person_frames = here.tracker_s + seconds, here.person_frames + sum(map(len, by_frame))
        for method, people in zip(METHODS, (by_frame, tracked)):
            pred, present = _as_array([p[0] if p else None for p in people], *sequence.joints.shape[:2])
            here.per_method[method].append(sequence_metrics(pred, sequence.joints, present))
    rows = []
    for (fps, camera_kind), here in zip(combinations, played):
        tracker_ms = 1000 * here.tracker_s / max(here.person_frames, 1) if here.per_method[METHODS[0]] else float("nan")
        for method, results in here.per_method.items():
            rows.append({"fps": fps, "camera": camera_kind, "method": method, "clips": len(results),
                         **_combine(results), "tracker_ms_per_person": tracker_ms})
    return rows


def _combine(results: list[dict]) -> dict[str, float]:
    """Frame-weighted metrics over the clips; ``frames`` 0 and NaN metrics when no clip played."""
    weights = np.array([r["frames"] for r in results], dtype=np.float64)
    out = {"frames": int(weights.sum())}
    for key in ("MPJPE", "MRPE", "Accel", "RootJitter", "TruthJitter"):
        out[key] = float(np.average([r[key] for r in results], weights=weights)) if results else float("nan")
    curves = [r["lag_errors"] for r in results if r["lag_errors"] is not None]
    pooled = np.sum(curves, axis=0) if curves else None  # over the clips
    out["Lag"] = lag_from_errors(pooled[0]) if curves else float("nan")
    out["RootLag"] = lag_from_errors(pooled[1]) if curves else float("nan")
    return out


def evaluate_crossing(cascade: Pose3DEstimator, config: SequenceEvalConfig, model: ErrorModel) -> list[dict]:
    """Identity through crossings and occlusions, per frame rate (see the module doc); the walkers
    are the split's three longest clips, animated in place."""
    clips = sorted(load_world_mocap(config.mocap, splits=[config.split]), key=lambda c: -len(c.joints) / c.fps)[:3]
    rng = np.random.default_rng(config.seed + 1)
    rows = []
    for fps in config.fps:
        scene = crossing_scene(clips, fps, config.crossing_duration_s, config.camera)
        frames, count = scene.visible.shape
        noisy = [detector_noise(scene.keypoints[:, p], fps, model, config.noise, rng) for p in range(count)]
        truth_ids, people_per_frame = [], []
        for t in range(frames):
            shown = [p for p in range(count) if scene.visible[t, p]]
            people = lift_frames(cascade, np.array([noisy[p][0][t] for p in shown]).reshape(-1, 17, 2),
                                 np.array([noisy[p][1][t] for p in shown]).reshape(-1, 17), scene.intrinsics,
                                 scene.image_size, [f"person{p}" for p in shown]) if shown else []
            truth_ids.append([p.id for p in people])
            people_per_frame.append(people)
        tracked, _ = track(people_per_frame, scene.intrinsics, fps, config.tracking)
        track_ids = [[p.track_id for p in people] for people in tracked]
        rows.append({"fps": fps, "people": count, **identity_errors(truth_ids, track_ids),
                     **_occlusions(truth_ids, track_ids, fps)})
    return rows


def _occlusions(truth_ids: list[list[str]], track_ids: list[list[str]], fps: float) -> dict[str, float]:
    """Gaps in each true person's detections: how many, how many ended with the id the person had
    before the gap (bridged), the same for the gaps of at most :data:`SHORT_OCCLUSION_S`, and the
    longest gap."""
    seen: dict[str, tuple[int, str]] = {}
    gaps, bridged, short, short_bridged, longest = 0, 0, 0, 0, 0.0
    for t, (truths, tracks) in enumerate(zip(truth_ids, track_ids)):
        for person, track_id in zip(truths, tracks):
            if person in seen and seen[person][0] < t - 1:
                length = (t - seen[person][0] - 1) / fps
                kept = seen[person][1] == track_id
                gaps, bridged, longest = gaps + 1, bridged + kept, max(longest, length)
                if length <= SHORT_OCCLUSION_S:
                    short, short_bridged = short + 1, short_bridged + kept
            seen[person] = (t, track_id)
    return {"occlusions": gaps, "occlusions_bridged": bridged, "short_occlusions": short,
            "short_occlusions_bridged": short_bridged, "longest_occlusion_s": longest}


def evaluate_video(cascade: Pose3DEstimator, video: str | Path, intrinsics: Intrinsics | None,
                   tracking: TrackingConfig, progress: bool = True) -> list[dict]:
    """Stability of the people in a real video, per method (see the module doc)."""
    import imageio.v2 as iio2
    from tqdm import tqdm

    reader = iio2.get_reader(video)
    fps = float(reader.get_meta_data().get("fps", 30.0))
    tracker = Tracker(tracking)
    series: dict[str, dict[str, list]] = {}  # track id -> frames, raw people, tracked people
    cascade_ms = tracker_ms = 0.0
    person_frames = frames = 0
    for index, frame in enumerate(tqdm(reader, desc="frames", disable=not progress)):
        image = np.ascontiguousarray(np.asarray(frame)[..., :3])
        result = cascade.process(image, intrinsics)
        raw = list(result.people)
        tracker.update(result, index / fps)
        frames += 1
        person_frames += len(raw)
        cascade_ms += result.timings_ms.get("pose2d", 0.0) + result.timings_ms.get("lift", 0.0)
        tracker_ms += result.timings_ms.get("tracking", 0.0)
        for before, after in zip(raw, result.people):
            entry = series.setdefault(after.track_id, {"frames": [], "raw": [], "tracked": []})
            entry["frames"].append(index), entry["raw"].append(before), entry["tracked"].append(after)
    reader.close()
    lengths = [len(entry["frames"]) for entry in series.values()]
    rows = []
    for method, key in zip(METHODS, ("raw", "tracked")):
        depth_seconds, depth_first, flips, steps_big, steps = [], [], [], 0, 0
        for entry in series.values():
            for run in _runs(np.isin(np.arange(frames), entry["frames"])):
                people = [entry[key][entry["frames"].index(t)] for t in run]
                depth = np.array([p.root_m[2] for p in people])
                if len(depth) >= 2:
                    stats = np.abs(np.diff(depth))
                    depth_first.extend(stats)
                    steps_big += int((stats > 0.5).sum())
                    steps += len(stats)
                    flips.extend(facing_changes(np.array([p.relative_m for p in people])))
                if len(depth) >= 3:
                    depth_seconds.extend(np.abs(second_difference(depth)))
        rows.append({"method": method, "frames": frames, "person_frames": person_frames, "tracks": len(series),
                     "mean_track_length": float(np.mean(lengths)) if lengths else 0.0,
                     "depth_step_median_mm": 1000 * float(np.median(depth_first)) if depth_first else float("nan"),
                     "depth_second_difference_median_mm": 1000 * float(np.median(depth_seconds)) if depth_seconds else float("nan"),
                     "steps_over_0_5_m_percent": 100.0 * steps_big / max(steps, 1),
                     "facing_flips_over_120_percent": 100.0 * float(np.mean(np.array(flips) > FACING_FLIP_DEG)) if flips else 0.0,
                     "cascade_ms_per_person": cascade_ms / max(person_frames, 1),
                     "tracker_ms_per_person": tracker_ms / max(person_frames, 1) if method != "per-frame" else 0.0})
    return rows


def default_model(path: str | None) -> ErrorModel:
    return ErrorModel.load(path) if path else default_error_model()


def _table(rows: list[dict], columns: list[tuple[str, str, str]]) -> list[str]:
    """Markdown table: ``columns`` are (key, header, format)."""
    lines = ["| " + " | ".join(h for _, h, _ in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(format(row[k], f) for k, _, f in columns) + " |" for row in rows]
    return lines


def report_markdown(clips: list[dict], crossing: list[dict], video: list[dict]) -> str:
    lines = []
    if clips:
        lines += ["### Held-out clips", "", "MPJPE / MRPE mm; Accel: acceleration error of the absolute joints, "
                  "mm/frame^2; RootJitter: median |second difference| of the root depth, mm (truth: the true "
                  "motion's); Lag / root lag: delay of the root-relative pose / the root, frames; tracker: CPU ms "
                  "per person and frame. clips 0: no clip could be played at that rate and camera (metrics nan).",
                  ""]
        lines += _table(clips, [("fps", "fps", "g"), ("camera", "camera", "s"), ("method", "method", "s"),
                                ("clips", "clips", "d"), ("frames", "frames", "d"), ("MPJPE", "MPJPE", ".1f"),
                                ("MRPE", "MRPE", ".1f"),
                                ("Accel", "Accel", ".1f"), ("RootJitter", "RootJitter", ".1f"),
                                ("TruthJitter", "truth", ".1f"), ("Lag", "Lag", ".2f"), ("RootLag", "root lag", ".2f"),
                                ("tracker_ms_per_person", "tracker ms", ".3f")]) + [""]
    if crossing:
        lines += ["### Crossing people", ""]
        lines += _table(crossing, [("fps", "fps", "g"), ("people", "people", "d"), ("person_frames", "person-frames", "d"),
                                   ("id_switches", "id switches", "d"), ("id_switches_per_100", "per 100", ".2f"),
                                   ("fragments", "fragments", "d"), ("occlusions", "occlusions", "d"),
                                   ("occlusions_bridged", "bridged", "d"), ("short_occlusions", "occlusions <= 1 s", "d"),
                                   ("short_occlusions_bridged", "bridged", "d"), ("longest_occlusion_s", "longest s", ".2f")])
        lines += [""]
    if video:
        lines += ["### Video (no ground truth)", ""]
        lines += _table(video, [("method", "method", "s"), ("frames", "frames", "d"), ("tracks", "tracks", "d"),
                                ("mean_track_length", "mean track length", ".1f"),
                                ("depth_step_median_mm", "depth step median mm", ".0f"),
                                ("depth_second_difference_median_mm", "2nd difference median mm", ".0f"),
                                ("steps_over_0_5_m_percent", "steps > 0.5 m %", ".1f"),
                                ("facing_flips_over_120_percent", "facing flips > 120 deg %", ".2f"),
                                ("cascade_ms_per_person", "cascade ms/person", ".1f"),
                                ("tracker_ms_per_person", "tracker ms/person", ".3f")]) + [""]
    return "\n".join(lines)
