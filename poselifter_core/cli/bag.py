"""``poselifter bag``: a recorded rosbag2 bag -> a bag of absolute 3D skeletons and RViz markers."""
from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import asdict, fields, is_dataclass, replace

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

DESCRIPTION = """\
Process a rosbag2 bag (a folder with metadata.yaml, or a bare .mcap or .db3 file) as the
pose3d node would, without a ROS install: the same timestamp synchronizer, CameraInfo checks
and cascade, with the raw images' lens distortion (CameraInfo D) undone on the 2D keypoints
before lifting (frame.undistort). Writes a new bag with poselifter_msgs/msg/Skeleton3DArray on
/pose3d/skeletons and visualization_msgs/msg/MarkerArray on /pose3d/markers, stamped with each
image's stamp and frame_id, for 'ros2 bag play', RViz or Foxglove. Add --copy-inputs to replay
the images with them.

Modes (--mode):
  bottom_up  image (sensor_msgs/Image or CompressedImage) + CameraInfo; MoveNet finds the people
  top_down   image + vision_msgs/Detection2DArray person boxes + CameraInfo
  keypoints  poselifter_msgs/Keypoints2DArray from your 2D detector + CameraInfo; lifter only
An input topic option left out is found by message type when the bag has exactly one topic of
that type. Without a valid CameraInfo, frames are skipped (--set frame.require_camera_info=false
assumes cascade.default_hfov_deg and flags the skeletons metric_depth=false).

{settings}"""
SETTINGS_END = ("--tf-topic /tf also writes the people's TF body frames (REP-155 body_<id>). The options below "
                "override both. At the end, a summary: frames processed and skipped (by reason), people lifted and "
                "skipped (and of those, located by their head only: not written to the bag), second looks (run, "
                "passed, failed, over the limit), with a camera mount (cascade.floor.*, e.g. fit-floor's mount.yaml as "
                "--config) the people's root depth from the floor (fused, no ankle on the floor, of these carried by "
                "their track's floor ratio, disagreed with the lifter), CameraInfos rejected, synchronizer counts.")


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
                        help="also copy the input topics into the output bag")
    parser.add_argument("--lifter", help="lifter checkpoint (.pt) or ONNX export (.onnx) (default: the shipped model)")
    parser.add_argument("--pose2d", help="2D model: MoveNet .onnx, exported top-down .onnx, train-2d checkpoint or "
                                         "keypoint-model .yaml (default: the shipped MoveNet)")
    parser.add_argument("--backend", choices=BACKEND_SETTINGS,
                        help="inference backend (default auto: TensorRT on an NVIDIA GPU, else ONNX Runtime)")
    add_config_arguments(parser, required=False, config_help="bag processing YAML (keys: see above)",
                         set_example="--set cascade.min_valid_joints=7 --set 'frame.detection_class_ids=[person]'")
    add_threads_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def bag_config(args: argparse.Namespace) -> BagConfig:
    """The --config YAML and --set overrides, then the explicit options on top."""
    config = load_config(BagConfig, args)
    topics = {f.name: getattr(args, f"{f.name}_topic") for f in fields(BagTopics)}
    options = {name: getattr(args, name) for name in ("lifter", "pose2d", "backend", "storage", "copy_inputs")}
    return replace(config, frame=replace(config.frame, mode=args.mode or config.frame.mode),
                   topics=replace(config.topics, **{k: v for k, v in topics.items() if v is not None}),
                   **{k: v for k, v in options.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    config = bag_config(args)
    plan = plan_bag(args.input, args.output, config)
    print("inputs: " + ", ".join(f"{stream} {topic}" for stream, topic in plan.streams.items()))
    floor = config.cascade.floor
    if not floor.enabled and (floor.camera_pitch_deg, floor.camera_roll_deg) != (0.0, 0.0):
        print("warning: cascade.floor.camera_pitch_deg or camera_roll_deg is set, but camera_height_m is 0: the "
              "floor is off (set the camera's height above it to use the mount)")
    # cascade.pose2d_extra_size equal to cascade.pose2d_size (infer refuses it): build_cascade's
    # load_pose2d runs one pass and logs a warning, for bag and the node alike
    apply_threads_argument(args)
    cascade = build_cascade(config.lifter or None, config.pose2d or None, config.cascade, config.backend,
                            lift_only=config.frame.mode == "keypoints")
    summary = process_bag(plan, cascade, progress=not args.no_progress)
    print(summary)
    print(f"written: {plan.output} ({plan.storage})")
    if summary.read_error:
        print(f"poselifter bag: error: {summary.read_error}", file=sys.stderr)
        return 1
    return 0
