"""Root depth where the feet are hidden: the lifter alone, the floor per frame, and the track's
carried floor ratio (``tracking.tracker.carry_floor_size``; poselifter_core/tracking/floor_size.py).

The held-out mocap clips are played as ``poselifter evaluate-sequence`` plays them (a fixed and a
slowly orbiting virtual camera 1.6 m above the clip's floor, correlated detector noise with
missing-joint bursts), the camera's mount known exactly (the clip's floor: ``Sequence.floor``);
on top, the knees and ankles are missing in alternating windows of ``--window-s`` seconds (a
random phase per clip): the lower body hidden behind a table. Every condition sees the same lifts:

* lifter: the lifter's own root (``Person3D.lifter_depth_m``, the root moved back along its ray);
* floor per frame: the cascade's output with the mount (``root_source`` floor / lifter);
* floor + carry: the same through the tracker with ``carry_floor_size`` on (and
  ``floor_size_min_frames`` from ``--min-frames``).

Each per frame and tracked (filtered, and unfiltered: the carry alone, without the pose filter's
depth bias). Reported: MRPE in % of the true root depth, mean over the frames, in the hidden-feet
frames and in the visible-feet frames, the share of frames the carry placed, the mean signed depth
error (% of the true depth; + too far), and the hidden-feet MRPE per subject.

    PYTHONPATH=. python benchmarks/floor_size_carry.py --split val --min-frames 1 5 10 30
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from poselifter_core.benchmark.partial_bodies import MOUNT_ERROR
from poselifter_core.camera import MM_PER_M
from poselifter_core.cascade import ROOT_LIFTER, ROOT_TRACK_FLOOR, Person3D
from poselifter_core.data.world_mocap import load_world_mocap
from poselifter_core.floor import FloorConfig, FloorPlane, along_ray
from poselifter_core.infer import build_cascade
from poselifter_core.noise.error_model import default_error_model
from poselifter_core.skeleton import H36M17
from poselifter_core.tracking.config import TrackingConfig
from poselifter_core.tracking.evaluation import lift_frames, track
from poselifter_core.tracking.sequences import NoiseConfig, SequenceCamera, detector_noise, play_clip

#: The joints behind the table: knees and ankles (H36M-17 "RFoot" / "LFoot" are COCO's ankles).
LOWER_LEGS = tuple(H36M17.index(name) for name in ("RKnee", "RFoot", "LKnee", "LFoot"))
MOCAP = "data/open_mocap/open_mocap_h36m17_world_mm.npz"


def lifter_only(person: Person3D) -> Person3D:
    """The person with the lifter's own root depth (moved back along its ray)."""
    scale = np.array([person.lifter_depth_m / float(person.root_m[2])])
    root, joints, depth = along_ray(person.root_m[None], person.relative_m[None], person.joints_m[None],
                                    np.array([person.canonical_depth]), scale)
    return replace(person, root_m=root[0], joints_m=joints[0], canonical_depth=float(depth[0]), root_source=ROOT_LIFTER)


def hidden_windows(frames: int, fps: float, window_s: float, rng: np.random.Generator) -> np.ndarray:
    """(T,) bool: the lower body hidden, in alternating windows of ``window_s`` (random phase; 0: never)."""
    phase = rng.uniform(0.0, 2.0 * window_s)
    if window_s <= 0:
        return np.zeros(frames, dtype=bool)
    return ((np.arange(frames) / fps + phase) // window_s) % 2 == 1


def root_errors(people: list[list[Person3D]], truth_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T,) root error and (T,) signed depth error, in % of the true depth (NaN where nobody was
    lifted), and (T,) carried."""
    error, signed = np.full(len(truth_m), np.nan), np.full(len(truth_m), np.nan)
    carried = np.zeros(len(truth_m), dtype=bool)
    for t, found in enumerate(people):
        if found:
            error[t] = 100.0 * np.linalg.norm(found[0].root_m - truth_m[t]) / truth_m[t, 2]
            signed[t] = 100.0 * (found[0].root_m[2] / truth_m[t, 2] - 1.0)
            carried[t] = found[0].root_source == ROOT_TRACK_FLOOR
    return error, signed, carried


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="val")
    parser.add_argument("--fps", nargs="+", type=float, default=[10.0, 30.0])
    parser.add_argument("--cameras", nargs="+", default=["fixed", "orbiting"])
    parser.add_argument("--window-s", type=float, default=2.0)
    parser.add_argument("--min-frames", nargs="+", type=int, default=[TrackingConfig().tracker.floor_size_min_frames],
                        help="tracker.floor_size_min_frames (default: the setting's)")
    parser.add_argument("--min-clip-s", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subjects", nargs="*", help="only these subjects' clips")
    parser.add_argument("--mount-error", action="store_true", help="the cascade gets a mount measured by hand: per "
                        "clip, 1-sigma errors of MOUNT_ERROR (pitch and roll 0.5 deg, height 3 cm; seeded apart)")
    args = parser.parse_args()
    started = time.perf_counter()
    cascade = build_cascade(None, None, backend="auto", lift_only=True)
    base = cascade.config
    model, noise, camera = default_error_model(), NoiseConfig(), SequenceCamera()
    clips = [c for c in load_world_mocap(MOCAP, splits=[args.split]) if (len(c.joints) - 1) / c.fps >= args.min_clip_s
             and (not args.subjects or c.subject in args.subjects)]
    off = TrackingConfig()
    off.tracker.carry_floor_size = False
    unfiltered = TrackingConfig()
    unfiltered.filter.enabled = False
    unfiltered.tracker.carry_floor_size = False
    methods = ["per-frame lifter", "per-frame floor", "tracked lifter", "tracked floor"]
    methods += [f"tracked floor + carry ({k})" for k in args.min_frames]
    methods += ["unfiltered floor"] + [f"unfiltered floor + carry ({k})" for k in args.min_frames]
    errors: dict[str, list] = {m: [] for m in methods}
    carried: dict[str, list] = {m: [] for m in methods}
    signed: dict[str, list] = {m: [] for m in methods}
    hidden_all, subjects = [], []
    rng = np.random.default_rng(args.seed)
    mount_rng = np.random.default_rng(args.seed + 1)  # apart: the same clips and noise with and without it
    for fps in args.fps:
        for kind in args.cameras:
            for clip in clips:
                sequence = play_clip(clip, fps, camera, kind == "orbiting", float(rng.uniform(-180, 180)))
                if sequence is None:
                    continue
                up, height_mm = sequence.floor[0, :3], sequence.floor[0, 3]
                assert np.allclose(sequence.floor[:, :3], up, atol=1e-6), "the clip's mount moves"
                pitch, roll = FloorPlane(up, height_mm / MM_PER_M).mount_angles_deg()
                height_m = height_mm / MM_PER_M
                if args.mount_error:
                    (pitch_error, roll_error), height_error = mount_rng.normal(0.0, MOUNT_ERROR[0], 2), \
                        mount_rng.normal(0.0, MOUNT_ERROR[1])
                    pitch, roll, height_m = pitch + pitch_error, roll + roll_error, height_m + height_error
                cascade.reconfigure(replace(base, floor=FloorConfig(camera_height_m=height_m, camera_pitch_deg=pitch,
                                                                    camera_roll_deg=roll)))
                keypoints, scores = detector_noise(sequence.keypoints, fps, model, noise, rng)
                hidden = hidden_windows(len(keypoints), fps, args.window_s, rng)
                scores[np.ix_(hidden, LOWER_LEGS)] = 0.0
                lifted = lift_frames(cascade, keypoints, scores, sequence.intrinsics, sequence.image_size)
                floor = [[] for _ in range(len(keypoints))]
                for person in lifted:
                    floor[int(person.id)].append(person)
                lifter = [[lifter_only(p) for p in people] for people in floor]
                truth = sequence.joints[:, 0] / MM_PER_M
                runs = {"per-frame lifter": lifter, "per-frame floor": floor,
                        "tracked lifter": track(lifter, sequence.intrinsics, fps, off)[0],
                        "tracked floor": track(floor, sequence.intrinsics, fps, off)[0],
                        "unfiltered floor": track(floor, sequence.intrinsics, fps, unfiltered)[0]}
                for k in args.min_frames:
                    for name, config in (("tracked", TrackingConfig()), ("unfiltered", TrackingConfig())):
                        if name == "unfiltered":
                            config.filter.enabled = False
                        config.tracker.carry_floor_size, config.tracker.floor_size_min_frames = True, k
                        runs[f"{name} floor + carry ({k})"] = track(floor, sequence.intrinsics, fps, config)[0]
                for method, people in runs.items():
                    error, bias, carry = root_errors(people, truth)
                    errors[method].append(error)
                    signed[method].append(bias)
                    carried[method].append(carry)
                hidden_all.append(hidden)
                subjects.append(np.full(len(hidden), clip.subject))
    hidden = np.concatenate(hidden_all)
    subject = np.concatenate(subjects)
    lifted = np.isfinite(np.concatenate(errors["per-frame floor"]))
    print(f"mount error: {args.mount_error}")
    print(f"split {args.split}, fps {args.fps}, cameras {args.cameras}, {len(clips)} clips, window {args.window_s:g} s; "
          f"frames lifted: {int((lifted & hidden).sum())} hidden-feet, {int((lifted & ~hidden).sum())} visible-feet; "
          f"{time.perf_counter() - started:.0f} s")
    names = sorted(set(subject))
    which = "hidden" if hidden.any() else "visible"
    print("\n| method | hidden feet: MRPE % | visible feet: MRPE % | hidden: carried % | visible: carried % | "
          "hidden: signed % | visible: signed % | "
          + " | ".join(f"{which} {s}" for s in names) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(names))
    for method in methods:
        error = np.concatenate(errors[method])
        carry = np.concatenate(carried[method])
        cells = [np.nanmean(error[hidden & lifted]), np.nanmean(error[~hidden & lifted]),
                 100.0 * carry[hidden & lifted].mean(), 100.0 * carry[~hidden & lifted].mean()]
        bias = np.concatenate(signed[method])
        cells += [np.nanmean(bias[hidden & lifted]), np.nanmean(bias[~hidden & lifted])]
        per_subject = [np.nanmean(error[(hidden if hidden.any() else ~hidden) & lifted & (subject == s)])
                       for s in names]
        print(f"| {method} | " + " | ".join(f"{v:.2f}" for v in cells + per_subject) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
