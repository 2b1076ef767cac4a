"""``poselifter fit-floor``: a fixed camera's mount (height, pitch, roll) from the people it lifted."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from ..cascade import CascadeConfig
from ..floor import ANKLES, FLOOR_FRAME, ROOT_FLOOR, ROOT_TRACK_FLOOR, FloorConfig
from ..floor_fit import MIN_POINTS, FloorFit, FloorFitError, fit_floor, lowest_ankles
from ..settings import SettingError, check_settings
from ..tracking import COASTING

DESCRIPTION = """\
Fit the floor under a fixed camera from the people that 'poselifter infer' lifted in its video
(results.jsonl) or photos (results.json), and print the camera's mount: its height above the
floor, pitch (positive looking down) and roll (positive clockwise seen from behind). Given that
mount, the cascade places every person standing on the floor at the depth where their ankle's ray
meets it, whatever their size (cascade.floor.*, poselifter_core/floor.py).

People should walk about the floor, not all along one line, and the more the better: a minute or
more of a busy scene. Run infer with the camera's real intrinsics (--fx/--fy/--cx/--cy, or --fov);
with an assumed field of view the pitch is that camera's, not the real one. Run it without a mount
(--camera-height): people it placed on a given floor would return that floor (refused). The height
is in the lifter's scale: it assumes the people's mean size is that of the adults the lifter was
trained on (a room of children gives a camera too high); pitch and roll do not depend on it. The
printed standard deviations are a bootstrap over the people (infer's track ids; a file without
them, from infer --no-tracking, falls back to blocks of consecutive frames, which understate them,
and says so), each resample searching for the floor again, and the plane is fitted with an
offset per person (their size error). A short video has few people, and each person's size error
tilts the plane the same way in all their frames, so its mount is uncertain by several degrees,
and the sds say so: on vtest.avi (10 frames/s, --fov 60) the first 30 s (420 lifted people, 27
tracks) give a pitch of 30.5 deg (sd 3.6) against 26.6 (sd 1.7) from all 80 s, and all of 13
windows of 20, 30 and 40 s have the whole video's mount within 2 of their sds (docs/benchmarks.md,
"Fitting the mount from a video"). angle_error_deg is the larger of the default 0.5 deg and the
pitch and roll sds combined (root sum of squares).

  poselifter infer vtest.avi --fov 60 -o runs/vtest && poselifter fit-floor runs/vtest -o mount.yaml

mount.yaml holds a 'cascade: floor:' section for 'poselifter bag --config' and for the node's
parameters file (under ros__parameters). The mount is also printed as infer's options, bag's --set
lines and video-bag's --mount (a /tf_static for 'bag --floor-frame', which takes the height, pitch
and roll from TF: the angle error then comes from --set or --config mount.yaml)."""


#: A video's people without a track id are resampled in this many blocks of consecutive frames
#: for the fit's standard deviations (people a few frames apart are the same people; see
#: floor_fit.fit_floor); tracked people are resampled by track.
BLOCKS = 20
#: Fewer groups (people) than this, and the printed sds come with a warning: the bootstrap's
#: spread over a handful of people is itself unreliable.
FEW_GROUPS = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fit-floor", help="fit a fixed camera's mount (floor plane) from lifted people",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", help="infer's results.jsonl or results.json, or the folder that holds one")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the mount as YAML (cascade.floor settings)")
    parser.set_defaults(func=run)


def results_file(path: str | Path) -> Path:
    """The results file named, or the one in the folder named; FileNotFoundError naming both choices."""
    path = Path(path)
    if path.is_dir():
        for name in ("results.jsonl", "results.json"):
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path} holds neither results.jsonl (infer on a video) nor results.json (on images)")
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}")
    return path


def _not_results(path: Path, why: str) -> ValueError:
    return ValueError(f"{path} is not a results file of 'poselifter infer' ({why})")


def read_frames(path: Path) -> list[dict]:
    """The frames (a video's lines, or the photos, those with an ``error`` left out) of an infer
    results file; ValueError naming the file when it is not one."""
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            frames = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            photos = json.loads(text)
            if not isinstance(photos, dict):
                raise _not_results(path, "results.json maps each photo's name to its result")
            frames = list(photos.values())
    except json.JSONDecodeError as error:
        raise _not_results(path, f"not JSON: {error}") from None
    for frame in frames:
        if not isinstance(frame, dict) or not isinstance(frame.get("people", []), list):
            raise _not_results(path, "each frame or photo is an object with a 'people' list")
        for person in frame.get("people", []):
            if not isinstance(person, dict) or np.shape(person.get("joints_m")) != (17, 3) \
                    or np.shape(person.get("valid")) != (17,):
                raise _not_results(path, "each person has 'joints_m' (17 x 3) and 'valid' (17)")
    return [frame for frame in frames if "error" not in frame]


def read_people(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, str]:
    """(N, 17, 3) joints [m], (N, 17) observed mask and (N,) bootstrap group of every lifted person
    in an infer results file, whether any frame's intrinsics were assumed, and what the groups are
    (a sentence). A video's person is grouped with the other frames of its track (infer tracks by
    default: ``track_id``), as a person's size error repeats in every frame of theirs; people
    without a track id (infer --no-tracking) fall back to blocks of consecutive frames, a photo's
    people to their photo. Coasting tracks (``tracker.emit_coasting``: unseen in that frame, their
    last pose at a predicted root) are left out. ValueError when the file is not infer's, or when infer already placed
    people on the floor of a mount given to it (a fit would return that mount)."""
    frames = read_frames(path)
    video = path.suffix == ".jsonl"
    block = max(1, len(frames) // BLOCKS) if video else 1
    people = [(index // block, person) for index, frame in enumerate(frames) for person in frame.get("people", [])
              if person.get("track_state") != COASTING]  # an unseen track's predicted pose: no ankle was seen
    on_floor = sum(person.get("root_source") in (ROOT_FLOOR, ROOT_TRACK_FLOOR) for _, person in people)
    if on_floor:
        raise ValueError(f"{path}: infer placed {on_floor} of its {len(people)} lifted people on the floor of the "
                         "mount it was given (root_source: floor or track_floor, --camera-height): a fit to them "
                         "returns much of that mount; run infer again without --camera-height")
    assumed = any(frame.get("intrinsics", {}).get("assumed", False) for frame in frames)
    if not people:
        return np.zeros((0, 17, 3)), np.zeros((0, 17), bool), np.zeros(0, str), assumed, "no people"
    joints = np.array([person["joints_m"] for _, person in people], dtype=np.float64)
    valid = np.array([person["valid"] for _, person in people], dtype=bool)
    tracks = [str(person.get("track_id") or "") if video else "" for _, person in people]
    groups = np.array([f"track {track}" if track else f"block {group}" for track, (group, _) in zip(tracks, people)])
    tracked = sum(map(bool, tracks))
    if not video:
        grouping = f"over the {len(frames)} photos (each photo's people together)"
    elif tracked == len(people):
        grouping = f"over the {len(set(tracks))} tracks (people; each track's frames together)"
    elif tracked:
        grouping = (f"over the {len(set(tracks) - {''})} tracks (people), and {len(people) - tracked} lifted people "
                    f"without a track id in blocks of {block} consecutive frames")
    else:
        grouping = (f"over {len(set(groups))} blocks of {block} consecutive frames: no track ids in this file (infer "
                    "--no-tracking), so the same people in several blocks count as independent and the sds are "
                    "too small")
    return joints, valid, groups, assumed, grouping


def mount_settings(fit: FloorFit) -> dict:
    """The fit as the cascade's ``floor`` settings; FloorFitError when the node, ``bag`` and
    ``infer`` would refuse them (a roll beyond 90 degrees: the plane found is under an upside-down
    camera, or not the floor), or when the fit's standard deviations are unknown (its angle error
    would be a guess), rather than a mount file that fails where it is used."""
    if not np.isfinite(fit.angle_error_deg):
        raise FloorFitError(f"the mount's standard deviations are unknown: fewer than two of the bootstrap's "
                            f"resamples found a floor ({fit.resamples_failed} found none), so its angle error would be "
                            "a guess (is the plane most ankles lie on the floor? give a longer video with more people)")
    floor = {"camera_height_m": round(fit.camera_height_m, 3), "camera_pitch_deg": round(fit.camera_pitch_deg, 2),
             "camera_roll_deg": round(fit.camera_roll_deg, 2), "angle_error_deg": round(fit.angle_error_deg, 2)}
    try:
        check_settings(FloorConfig(**floor), "cascade.floor.")
    except SettingError as error:
        raise FloorFitError(f"the fitted mount is not one the cascade takes: {error} (is the plane most ankles lie "
                            "on the floor under an upright camera?)") from None
    return {"cascade": {"floor": floor}}


def run(args: argparse.Namespace) -> int:
    path = results_file(args.results)
    joints, valid, groups, assumed, grouping = read_people(path)
    ankles, rows = lowest_ankles(joints, valid, ANKLES)
    if len(ankles) < MIN_POINTS:  # say why: too short a run, or a camera that does not see feet
        remedy = ("the camera must see people's feet (the ankles were not observed)" if len(joints) >= MIN_POINTS
                  else "give a longer video or more of its frames (--max-frames)" if path.suffix == ".jsonl"
                  else "give more photos from this camera")
        raise FloorFitError(f"{path}: {len(joints)} lifted people, {len(ankles)} with an observed ankle; the fit "
                            f"needs at least {MIN_POINTS} with one: {remedy}")
    fit = fit_floor(ankles, groups[rows])
    print(f"{path}: {len(joints)} lifted people, {fit.points} with an observed ankle, {fit.inliers} on the floor "
          f"(log depth rms {fit.log_depth_rms:.3f})")
    print(f"camera height {fit.camera_height_m:.2f} m (sd {fit.height_sd_m:.2f}), pitch {fit.camera_pitch_deg:.1f} deg "
          f"(sd {fit.pitch_sd_deg:.1f}), roll {fit.camera_roll_deg:.1f} deg (sd {fit.roll_sd_deg:.1f})")
    print(f"sd: bootstrap {grouping}")
    if fit.groups < FEW_GROUPS:
        what = "photos" if path.suffix == ".json" else "tracks or blocks"  # the groups named in the "sd:" line
        remedy = "more photos from this camera" if path.suffix == ".json" else "a longer video with more people"
        print(f"warning: only {fit.groups} groups ({what}) to resample: a bootstrap over so few understates the sds; "
              f"give {remedy}")
    if fit.resamples_failed:
        print(f"warning: {fit.resamples_failed} of the resamples found no floor (left out of the sds): the fit is "
              "unstable")
    if assumed:
        print("warning: infer assumed the focal length (no --fx/--fov): the pitch and roll are in that assumed "
              "camera's geometry")
    settings = mount_settings(fit)
    if args.output:
        header = (f"# poselifter fit-floor {path}: {fit.inliers} of {fit.points} ankles on the floor; bootstrap sd: "
                  f"height {fit.height_sd_m:.3f} m, pitch {fit.pitch_sd_deg:.2f} deg, roll {fit.roll_sd_deg:.2f} deg\n")
        Path(args.output).write_text(header + yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        print(f"written: {args.output}")
    floor = settings["cascade"]["floor"]
    print(f"infer: --camera-height {floor['camera_height_m']} --camera-pitch {floor['camera_pitch_deg']} "
          f"--camera-roll {floor['camera_roll_deg']} --camera-angle-error {floor['angle_error_deg']} "
          + (f"--fov {CascadeConfig().default_hfov_deg:g} (the field of view infer assumed)" if assumed
             else "(and the same --fx/--fov)"))
    print("bag: " + " ".join(f"--set cascade.floor.{k}={v}" for k, v in floor.items()))
    # the mount as a bag's TF: TF gives the height, pitch and roll, not the angle error
    print(f"video-bag: --mount {floor['camera_height_m']} {floor['camera_pitch_deg']} {floor['camera_roll_deg']} "
          f"(then bag --floor-frame {FLOOR_FRAME} --set cascade.floor.angle_error_deg={floor['angle_error_deg']})")
    return 0
