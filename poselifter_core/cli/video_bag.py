"""``poselifter video-bag``: a video or a folder of images -> a rosbag2 bag of camera images and CameraInfo."""
from __future__ import annotations

import argparse
import json
import logging
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..cascade import CascadeConfig
from ..infer import DEFAULT_FPS, VIDEO_SUFFIXES, CameraSpec, VideoReader, check_source, image_files, load_image
from ..rosmsg.bag import STORAGES, check_new_output
from ..rosmsg.recording import (
    CAMERA_INFO_LEAD_NS,
    IMAGE_ENCODINGS,
    CameraCalibration,
    FrameClock,
    RecordConfig,
    record_frames,
)

LOG = logging.getLogger(__name__)
#: What 'poselifter bag' and the node assume without a CameraInfo (frame.require_camera_info false).
ASSUMED_HFOV_DEG = CascadeConfig().default_hfov_deg

DESCRIPTION = f"""\
Write a rosbag2 bag (MCAP or sqlite3) of a video, a folder of images (in name order) or one image,
as a camera driver would publish it, without a ROS install: per frame a sensor_msgs/msg/Image
(--encoding bgr8 or rgb8; jpeg or png: a sensor_msgs/msg/CompressedImage on <image topic>/compressed)
and a sensor_msgs/msg/CameraInfo on the camera_info topic beside it, both stamped with the frame's
time and the camera's optical frame id (REP-103: x right, y down, z forward); the CameraInfo is
logged {CAMERA_INFO_LEAD_NS // 1_000_000} ms before its image. Then run 'poselifter bag OUT OUT_3d' on it, or
'ros2 bag play OUT' into the node.

Stamps: the first frame at --start (default: the input's modification time), then a video's own
frame timestamps (its container's), or index / --fps when given (images: always, 30 by default).

Camera: --fov DEG (a distortion-free camera with that horizontal field of view, principal point
at the image centre, as 'poselifter infer --fov') or --camera-info FILE, a ROS camera_calibration
YAML (image_width, image_height, camera_matrix.data, distortion_model,
distortion_coefficients.data; as cameracalibrator writes it and camera_info_manager reads it),
checked as the node checks a CameraInfo. Without either, no CameraInfo is written: 'poselifter
bag' then needs --set frame.require_camera_info=false (it assumes cascade.default_hfov_deg, a
{ASSUMED_HFOV_DEG:g} degree field of view, and flags every skeleton metric_depth=false).

Camera mount: --mount HEIGHT_M PITCH_DEG ROLL_DEG (with --fov or --camera-info) also writes one
/tf_static transform, before the first frame, from the frame id to --floor-frame (default
{RecordConfig.floor_frame}), so that 'poselifter bag OUT OUT_3d --floor-frame {RecordConfig.floor_frame}' (or the node's
floor_frame) takes the mount from TF. Its terms are infer's --camera-height, --camera-pitch and
--camera-roll and cascade.floor's (fit-floor prints them): the height of the camera above the floor
in metres; the pitch of the optical axis below the horizon in degrees, positive looking down; the
roll about the optical axis in degrees, positive clockwise as seen from behind the camera. From a
robot's URDF: the rpy of the camera's body frame (camera_link: x forward, z up; not its optical
frame) over a level base, in degrees. TF carries no error: give bag the mount's angle error too
(--set cascade.floor.angle_error_deg=DEG, fit-floor prints it), else its default is assumed."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "video-bag", help="video / image folder -> rosbag2 bag of Image (or CompressedImage) + CameraInfo, no ROS needed",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", metavar="VIDEO",
                        help=f"a video ({', '.join(sorted(VIDEO_SUFFIXES))}), a folder of images or one image")
    parser.add_argument("output", metavar="OUT", help="output bag folder (must not exist)")
    camera = parser.add_mutually_exclusive_group()
    camera.add_argument("--fov", type=float, metavar="DEG", help="the camera's horizontal field of view in degrees")
    camera.add_argument("--camera-info", metavar="YAML", help="the camera's ROS camera_calibration YAML file")
    parser.add_argument("--fps", type=float, metavar="F",
                        help="stamp frame i at --start + i / F (default: a video's own timestamps; images: "
                             f"{DEFAULT_FPS:g})")
    parser.add_argument("--start", type=float, metavar="SECONDS",
                        help="stamp of the first frame, Unix time in seconds (default: the input's modification time)")
    parser.add_argument("--frame-id", default=RecordConfig.frame_id, help="the images' and CameraInfos' frame_id")
    parser.add_argument("--image-topic", default=RecordConfig.image_topic,
                        help="image topic (compressed encodings add /compressed)")
    parser.add_argument("--camera-info-topic", metavar="TOPIC",
                        help="CameraInfo topic (default: camera_info beside the image topic, e.g. /camera/camera_info)")
    parser.add_argument("--encoding", default=RecordConfig.encoding, choices=IMAGE_ENCODINGS,
                        help="image encoding: raw bgr8 or rgb8 (sensor_msgs/Image), or jpeg or png "
                             "(sensor_msgs/CompressedImage; jpeg at quality 90: 12x smaller on OpenCV's vtest.avi)")
    parser.add_argument("--jpeg-quality", type=int, default=RecordConfig.jpeg_quality, metavar="Q",
                        help="--encoding jpeg: quality, 1-100")
    parser.add_argument("--mount", nargs=3, type=float, metavar=("HEIGHT_M", "PITCH_DEG", "ROLL_DEG"),
                        help="the camera's known mount: height above the floor (m), pitch (deg, positive looking "
                             "down) and roll (deg, positive clockwise seen from behind), as fit-floor prints them: "
                             "also written as a /tf_static transform from the frame id to --floor-frame, for "
                             "'poselifter bag --floor-frame' or the node's floor_frame")
    parser.add_argument("--floor-frame", help="with --mount: the floor frame (z up, its xy-plane on the floor; "
                                              f"REP-105) (default: {RecordConfig.floor_frame})")
    parser.add_argument("--storage", default=RecordConfig.storage, choices=sorted(STORAGES), help="bag storage")
    parser.add_argument("--max-frames", type=int, metavar="N",
                        help="write only the first N frames (default: all)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _readable_images(paths: list[Path], unreadable: Counter) -> Iterator[tuple[np.ndarray, None]]:
    """The images of ``paths`` that can be read; each one that cannot is logged and counted."""
    for path in paths:
        try:
            yield load_image(path), None
        except ValueError as error:
            LOG.warning("skipped %s", error)
            unreadable[f"unreadable image ({error})"] += 1


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    check_new_output(output)
    source = check_source(args.source)
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be at least 1, got {args.max_frames}")
    for option, value in (("--fps", args.fps), ("--start", args.start)):
        if value is not None and not (math.isfinite(value) and value >= 0 and (value > 0 or option == "--start")):
            raise ValueError(f"{option} must be a {'positive' if option == '--fps' else 'non-negative'} number, "
                             f"got {value}")
    if args.mount and args.fov is None and not args.camera_info:
        raise ValueError("--mount needs the camera, --fov or --camera-info: without a CameraInfo, bag and the node "
                         "assume the intrinsics and never use the floor (as infer refuses --camera-height without "
                         "--fx or --fov)")
    if args.floor_frame is not None and not args.mount:
        raise ValueError("--floor-frame names the parent frame of --mount's /tf_static transform: give --mount "
                         "HEIGHT_M PITCH_DEG ROLL_DEG too")
    config = RecordConfig(image_topic=args.image_topic, camera_info_topic=args.camera_info_topic or "",
                          frame_id=args.frame_id, encoding=args.encoding, jpeg_quality=args.jpeg_quality,
                          storage=args.storage, mount=tuple(args.mount) if args.mount else None,
                          floor_frame=args.floor_frame or RecordConfig.floor_frame)
    if args.camera_info:
        calibration = CameraCalibration.from_yaml(args.camera_info)

        def camera(width: int, height: int) -> CameraCalibration | None:
            calibration.check_image(width, height)
            return calibration
    elif args.fov is not None:
        spec = CameraSpec(hfov_deg=args.fov)  # infer's --fov: the same range and intrinsics

        def camera(width: int, height: int) -> CameraCalibration | None:
            return CameraCalibration.from_intrinsics(spec.intrinsics(width, height), width, height)
    else:
        def camera(width: int, height: int) -> CameraCalibration | None:
            return None
    start_ns = round(args.start * 1e9) if args.start is not None else source.stat().st_mtime_ns
    custom = {"poselifter.source": str(source),
              "poselifter.video_bag": json.dumps({k: v for k, v in vars(args).items() if k != "func"})}
    unreadable: Counter = Counter()
    if source.suffix.lower() in VIDEO_SUFFIXES:
        reader = VideoReader(source, args.max_frames)
        clock = FrameClock(start_ns, args.fps or reader.fps, use_source_times=args.fps is None)
        try:
            summary = record_frames(reader, output, config, camera, clock, reader.expected, not args.no_progress,
                                    custom, source_name=str(source))
        finally:
            reader.close()
        reader.warn_if_short()
    else:
        paths = image_files(source)[:args.max_frames]
        clock = FrameClock(start_ns, args.fps or DEFAULT_FPS, use_source_times=False)
        summary = record_frames(_readable_images(paths, unreadable), output, config, camera, clock, len(paths),
                                not args.no_progress, custom, source_name=str(source))
        summary.skipped.update(unreadable)
    print(summary)
    floor = f" --floor-frame {config.floor_frame}" if config.mount else ""
    if args.camera_info or args.fov is not None:
        print(f"next: poselifter bag {output} {output}_3d{floor}")
        if config.mount:  # TF carries no error: without it, bag (and the node) assume the default
            print(f"      and the mount's angle error, which TF does not carry (fit-floor prints it; default "
                  f"{CascadeConfig().floor.angle_error_deg:g} deg): --set cascade.floor.angle_error_deg=DEG")
    else:
        print("note: no --fov or --camera-info, so no CameraInfo was written: 'poselifter bag' and the node skip "
              f"every frame unless frame.require_camera_info is false (then a {ASSUMED_HFOV_DEG:g} degree camera is "
              f"assumed and every skeleton flagged metric_depth=false)\nnext: poselifter bag {output} {output}_3d "
              f"--set frame.require_camera_info=false{floor}")
    return 0
