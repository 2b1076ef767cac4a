"""``poselifter bag``: a recorded rosbag2 bag -> a bag of absolute 3D skeletons and RViz markers."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import asdict, fields, is_dataclass, replace
from pathlib import Path

from ..config import to_dict
from ..infer import build_cascade
from ..rosmsg.bag import (
    MARKERS_TYPE,
    SKELETONS_TYPE,
    STORAGES,
    STREAM_TYPES,
    TF_TYPE,
    BagConfig,
    BagTopics,
    plan_bag,
    process_bag,
)
from ..rosmsg.frames import MODES
from ..runtime.factory import BACKEND_SETTINGS
from .common import add_config_arguments, add_threads_argument, apply_threads_argument, load_config
from .run_record import run_record

DESCRIPTION = """\
Process a rosbag2 bag (a folder with metadata.yaml, or a bare .mcap or .db3 file) as the
pose3d node would, without a ROS install: the same timestamp synchronizer, CameraInfo checks
and cascade, with the raw images' lens distortion (CameraInfo D) undone on the 2D keypoints
before lifting (frame.undistort). Writes a new bag with poselifter_msgs/msg/Skeleton3DArray on
/pose3d/skeletons and visualization_msgs/msg/MarkerArray on /pose3d/markers, stamped with each
image's stamp and frame_id, for 'ros2 bag play', RViz or Foxglove. Add --copy-inputs to replay
the images (and the bag's /tf and /tf_static) with them.

Modes (--mode):
  bottom_up  image (sensor_msgs/Image or CompressedImage) + CameraInfo; MoveNet finds the people
  top_down   image + vision_msgs/Detection2DArray person boxes + CameraInfo
  keypoints  poselifter_msgs/Keypoints2DArray from your 2D detector + CameraInfo; lifter only
An input topic option left out is found by message type when the bag has exactly one topic of
that type. Without a valid CameraInfo, frames are skipped (--set frame.require_camera_info=false
assumes cascade.default_hfov_deg and flags the skeletons metric_depth=false).

A known camera mount places standing people at the depth where their ankle's ray meets the floor
(README, "Known camera mount"): --set cascade.floor.camera_height_m=M (above the floor; 0: none),
cascade.floor.camera_pitch_deg (below the horizon: positive looking down) and
cascade.floor.camera_roll_deg (about the optical axis: positive clockwise seen from behind the
camera), or fit-floor's mount.yaml as --config; or per image from the bag's own TF with
--floor-frame (the transform from the image's frame_id to a z-up floor frame gives all three).

{settings}"""
SETTINGS_END = ("--tf-topic /tf also writes the people's TF body frames (REP-155 body_<id>). The options below "
                "override both. At the end, a summary: frames processed and skipped (by reason), people lifted and "
                "skipped (and of those, located by their head only: not written to the bag), second looks (run, "
                "passed, failed, over the limit), with a camera mount (cascade.floor.*, e.g. fit-floor's mount.yaml as "
                "--config, or from the bag's TF: --floor-frame) the frames whose mount came from TF (from_tf, no_tf, "
                "tf_refused, and why) and the people's root depth from the floor (fused, no ankle on the floor, of these "
                "carried by their track's floor ratio, disagreed with the lifter), CameraInfos rejected, synchronizer counts; "
                "--summary-json PATH also writes it as JSON, with how the bag was made.")


def _keys(config: object) -> str:
    """The field names of a config dataclass instance, ``name.*`` for a nested one."""
    return ", ".join(f.name + (".*" if is_dataclass(getattr(config, f.name)) else "") for f in fields(config))


def settings_paragraph() -> str:
    """What ``--config`` and ``--set`` reach, read from :class:`BagConfig` so that no key is left out."""
    config = BagConfig()
    nested = [f.name for f in fields(config) if is_dataclass(getattr(config, f.name))]
    plain = [f.name for f in fields(config) if f.name not in nested]
    return textwrap.fill("Every setting is in a YAML config (--config) and --set key=value: "
                         + ", ".join(f"{name}.* ({_keys(getattr(config, name))})" for name in nested)
                         + ", and " + ", ".join(plain) + ". " + SETTINGS_END, width=95)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bag", help="rosbag2 bag (MCAP or sqlite3) -> bag of Skeleton3DArray + MarkerArray, no ROS needed",
        description=DESCRIPTION.format(settings=settings_paragraph()), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", metavar="IN", help="input bag: folder, .mcap or .db3 file")
    parser.add_argument("output", metavar="OUT", help="output bag folder (must not exist)")
    parser.add_argument("--mode", choices=MODES, help="input mode (default bottom_up)")
    outputs = {"skeletons": f"output {SKELETONS_TYPE} topic", "markers": f"output {MARKERS_TYPE} topic ('': none)",
               "tf": f"output {TF_TYPE} topic of the TF body frames, e.g. /tf ('': none)"}
    for name, default in asdict(BagTopics()).items():
        if name in outputs:
            what, fallback = outputs[name], "none"
        else:
            what, fallback = f"input {' or '.join(STREAM_TYPES[name])} topic", "the one of that type in the bag"
        parser.add_argument(f"--{name.replace('_', '-')}-topic", dest=f"{name}_topic", metavar="TOPIC",
                            help=f"{what} (default: {default or fallback})")
    parser.add_argument("--storage", choices=sorted(STORAGES), help="output storage (default: the input's)")
    parser.add_argument("--copy-inputs", action="store_true", default=None,
                        help="also copy the input topics, and the bag's /tf and /tf_static, into the output bag "
                             "(to replay it alone in RViz or Foxglove)")
    parser.add_argument("--floor-frame", metavar="FRAME",
                        help="the camera mount per image from the bag's /tf and /tf_static: the transform from the "
                             "image's frame_id to this floor frame (z up, e.g. base_footprint) at the image's stamp "
                             "replaces cascade.floor's height, pitch and roll; frames without it use cascade.floor "
                             "(counted in the summary); --set tf_tolerance_s=S allows S seconds past the first or "
                             "last /tf sample (default: floor_frame of the config, '': none)")
    parser.add_argument("--lifter", help="lifter checkpoint (.pt) or ONNX export (.onnx) (default: the shipped model)")
    parser.add_argument("--pose2d", help="2D model: MoveNet .onnx, exported top-down .onnx, train-2d checkpoint or "
                                         "keypoint-model .yaml (default: the shipped MoveNet)")
    parser.add_argument("--backend", choices=BACKEND_SETTINGS,
                        help="inference backend (default auto: TensorRT on an NVIDIA GPU, else ONNX Runtime)")
    add_config_arguments(parser, required=False, config_help="bag processing YAML (keys: see above)",
                         set_example="--set cascade.min_valid_joints=7 --set 'frame.detection_class_ids=[person]'")
    add_threads_argument(parser)
    parser.add_argument("--summary-json", metavar="PATH",
                        help="also write the summary as JSON: {\"summary\": its counts, keyed as README's 'bag' "
                             "section lists, \"run\": how the bag was made (the settings, the model files with "
                             "their SHA-256 and the backend and file that ran each, the version and the command "
                             "line, as infer's run.json)} (default: none)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def bag_config(args: argparse.Namespace) -> BagConfig:
    """The --config YAML and --set overrides, then the explicit options on top."""
    config = load_config(BagConfig, args)
    topics = {f.name: getattr(args, f"{f.name}_topic") for f in fields(BagTopics)}
    options = {name: getattr(args, name) for name in ("lifter", "pose2d", "backend", "storage", "copy_inputs", "floor_frame")}
    return replace(config, frame=replace(config.frame, mode=args.mode or config.frame.mode),
                   topics=replace(config.topics, **{k: v for k, v in topics.items() if v is not None}),
                   **{k: v for k, v in options.items() if v is not None})


def check_summary_path(path: str | None) -> None:
    """ValueError unless ``--summary-json`` (if given) names a file in an existing folder (checked
    before any model loads)."""
    if path and not Path(path).resolve().parent.is_dir():
        raise ValueError(f"--summary-json {path}: no folder {Path(path).resolve().parent} to write it into")


def run(args: argparse.Namespace) -> int:
    config = bag_config(args)
    check_summary_path(args.summary_json)
    plan = plan_bag(args.input, args.output, config)
    print("inputs: " + ", ".join(f"{stream} {topic}" for stream, topic in plan.streams.items()))
    floor = config.cascade.floor
    if not floor.enabled and (floor.camera_pitch_deg, floor.camera_roll_deg) != (0.0, 0.0):
        print("warning: cascade.floor.camera_pitch_deg or camera_roll_deg is set, but camera_height_m is 0: the "
              "floor is off (set the camera's height above it to use the mount)")
    apply_threads_argument(args)
    cascade = build_cascade(config.lifter or None, config.pose2d or None, config.cascade, config.backend,
                            lift_only=config.frame.mode == "keypoints")
    summary = process_bag(plan, cascade, progress=not args.no_progress)
    print(summary)
    print(f"written: {plan.output} ({plan.storage})")
    if args.summary_json:  # written even after a read error: the counts say how far it got
        record = run_record(args, to_dict(config), cascade, config.lifter or None, config.pose2d or None)
        Path(args.summary_json).write_text(json.dumps({"summary": summary.to_json(), "run": record}, indent=1) + "\n",
                                           encoding="utf-8")
        print(f"written: {args.summary_json}")
    if summary.read_error:
        print(f"poselifter bag: error: {summary.read_error}", file=sys.stderr)
        return 1
    return 0
