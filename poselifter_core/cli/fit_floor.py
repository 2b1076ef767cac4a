"""``poselifter fit-floor``: a fixed camera's mount (height, pitch, roll) from the people it lifted."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from ..cascade import CascadeConfig
from ..floor import ANKLES, FloorConfig
from ..floor_fit import MIN_POINTS, FloorFit, FloorFitError, fit_floor, lowest_ankles
from ..settings import SettingError, check_settings

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
printed standard deviations are the fit's own (bootstrap over 20 blocks of consecutive frames, or
over the photos), and a short video's understate its error: on vtest.avi (10 frames/s) the first
30 s (420 lifted people) gave a pitch of 39.2 deg (sd 1.8), the first 60 s (974) 28.3 (sd 1.2) and
all 80 s (1446) 27.8 (sd 0.5). angle_error_deg is the larger of the default 0.5 deg and the pitch
and roll sds combined (root sum of squares).

  poselifter infer vtest.avi --fov 60 -o runs/vtest && poselifter fit-floor runs/vtest -o mount.yaml

mount.yaml holds a 'cascade: floor:' section for 'poselifter bag --config' and for the node's
parameters file (under ros__parameters)."""


#: A video's frames are resampled in this many blocks of consecutive frames for the fit's
#: standard deviations (people a few frames apart are the same people; see floor_fit.fit_floor).
BLOCKS = 20


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


def read_people(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(N, 17, 3) joints [m], (N, 17) observed mask and (N,) bootstrap group (a block of
    consecutive video frames, or the photo) of every lifted person in an infer results file, and
    whether any frame's intrinsics were assumed. ValueError when the file is not infer's, or when
    infer already placed people on the floor of a mount given to it (a fit would return that mount)."""
    frames = read_frames(path)
    block = max(1, len(frames) // BLOCKS) if path.suffix == ".jsonl" else 1
    people = [(index // block, person) for index, frame in enumerate(frames) for person in frame.get("people", [])]
    on_floor = sum(person.get("root_source") == "floor" for _, person in people)
    if on_floor:
        raise ValueError(f"{path}: infer placed {on_floor} of its {len(people)} lifted people on the floor of the "
                         "mount it was given (root_source: floor, --camera-height): a fit to them returns much of "
                         "that mount; run infer again without --camera-height")
    assumed = any(frame.get("intrinsics", {}).get("assumed", False) for frame in frames)
    if not people:
        return np.zeros((0, 17, 3)), np.zeros((0, 17), bool), np.zeros(0, int), assumed
    joints = np.array([person["joints_m"] for _, person in people], dtype=np.float64)
    valid = np.array([person["valid"] for _, person in people], dtype=bool)
    return joints, valid, np.array([group for group, _ in people]), assumed


def mount_settings(fit: FloorFit) -> dict:
    """The fit as the cascade's ``floor`` settings; FloorFitError when the node, ``bag`` and
    ``infer`` would refuse them (a roll beyond 90 degrees: the plane found is under an upside-down
    camera, or not the floor), rather than a mount file that fails where it is used."""
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
    joints, valid, groups, assumed = read_people(path)
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
    return 0
