"""``poselifter infer``: absolute 3D people from images, folders or videos."""
from __future__ import annotations

import argparse
from dataclasses import replace

from ..cascade import CascadeConfig
from ..config import load_yaml, to_dict
from ..distortion import DISTORTION_MODELS, Distortion
from ..floor import floor_summary
from ..infer import (
    RUN_RECORD,
    VIDEO_SUFFIXES,
    CameraSpec,
    build_cascade,
    check_boxes,
    check_source,
    frame_counts,
    prepare_output,
    run,
)
from ..lifter.weights import LIFTER_WEIGHTS
from ..runtime.factory import BACKEND_SETTINGS
from ..settings import SettingError, check_settings
from ..tracking import TrackingConfig
from ..tracking.output_gates import tracking_summary
from .common import add_threads_argument, apply_threads_argument
from .run_record import run_record

#: The options of cascade settings whose option is not ``--<the setting's name>`` (after ``cascade.``).
OPTIONS = {"cascade.floor.camera_height_m": "--camera-height", "cascade.floor.camera_pitch_deg": "--camera-pitch",
           "cascade.floor.camera_roll_deg": "--camera-roll", "cascade.floor.angle_error_deg": "--camera-angle-error"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "infer", help="image / video / folder -> absolute 3D poses (JSON) and pictures",
        description=(
            "Run the cascade (2D stage, by default MoveNet MultiPose -> PoseLifter) and write results.json (images) or "
            "results.jsonl (video, one line per frame) with every person's 2D keypoints, scores and absolute 3D "
            f"joints in metres in the camera optical frame (x right, y down, z forward), {RUN_RECORD} (how they were "
            "made: the settings, the model files with their SHA-256 and the backend and file that ran each, the "
            "version and the command line), plus "
            "<name>_2d.png "
            "(skeletons on the image), <name>_3d.png (3D view) or <name>_annotated.mp4 (image and top view). In a video "
            "every person gets a stable track_id (with track_age and track_state) and temporally filtered 3D "
            "(settings: --tracking-config, see config/tracking.yaml). Give the camera with "
            f"--fx [--fy --cx --cy] or --fov; without either, a {CascadeConfig().default_hfov_deg:g} degree horizontal "
            "field of view is assumed (cascade.default_hfov_deg) and "
            "every pose is flagged metric_depth=false (the canonical depth is still valid). For raw images of a "
            "lens with distortion, give its coefficients with --dist (as in the camera's CameraInfo D): the 2D "
            "keypoints are undistorted before lifting."))
    parser.add_argument("source", help="an image, a folder of images, or a video file")
    parser.add_argument("-o", "--output", default="runs/infer", help="output folder")
    parser.add_argument("--fx", type=float, help="focal length in pixels (x)")
    parser.add_argument("--fy", type=float, help="focal length in pixels (y); default fx")
    parser.add_argument("--cx", type=float, help="principal point x; default the image centre")
    parser.add_argument("--cy", type=float, help="principal point y; default the image centre")
    parser.add_argument("--fov", type=float, metavar="DEG", help="horizontal field of view instead of --fx")
    parser.add_argument("--dist", type=float, nargs="+", metavar="D",
                        help="lens distortion coefficients (CameraInfo D; needs --fx): plumb_bob k1 k2 p1 p2 [k3], "
                             "rational_polynomial k1 k2 p1 p2 k3 k4 k5 k6, equidistant k1 k2 k3 k4")
    parser.add_argument("--dist-model", default="plumb_bob", choices=DISTORTION_MODELS,
                        help="distortion model of --dist (CameraInfo distortion_model)")
    parser.add_argument("--boxes", help="JSON person boxes, {image file name: [[x1, y1, x2, y2], ...]} or one list for "
                                        "every image: top-down mode for images and folders (an image the mapping does "
                                        "not name is processed bottom-up by MoveNet, or skipped with its error by a "
                                        "top-down-only --pose2d)")
    parser.add_argument("--lifter", help="lifter checkpoint (.pt) or ONNX export (.onnx) (default: the shipped model)")
    parser.add_argument("--pose2d", "--movenet", dest="pose2d",
                        help="2D model (default: the shipped MoveNet): a MoveNet ONNX file, a 'poselifter train-2d' "
                             "checkpoint (.pt) or its export (.onnx from 'poselifter export'), or a YAML description "
                             "of a top-down ONNX keypoint model; all but MoveNet need --boxes")
    parser.add_argument("--backend", default="auto", choices=BACKEND_SETTINGS,
                        help="inference backend of the 2D model and the lifter (auto: TensorRT on an NVIDIA GPU, "
                             "else ONNX Runtime with CUDA, else on the CPU; the choice is logged per model). 'torch' "
                             "needs PyTorch checkpoints for both: MoveNet exists only as ONNX")
    add_threads_argument(parser)
    defaults = CascadeConfig()
    parser.add_argument("--min-joint-score", type=float, default=defaults.min_joint_score,
                        help="a joint is observed when its 2D score reaches this; below it the lifter infers it")
    parser.add_argument("--min-person-score", type=float, default=defaults.min_person_score,
                        help="skip people whose 2D person score is below this")
    parser.add_argument("--min-valid-joints", type=int, default=defaults.min_valid_joints,
                        help="skip people with fewer observed joints than this (of 17)")
    parser.add_argument("--min-torso-joints", type=int, default=defaults.min_torso_joints,
                        help="skip people with fewer observed shoulders and hips than this (of 4)")
    parser.add_argument("--no-second-look", action="store_true",
                        help="bottom-up: no second, top-down look at the box of a person with too few joints")
    parser.add_argument("--max-second-looks", type=int, default=defaults.max_second_looks, metavar="N",
                        help="bottom-up: second looks per frame at most, the best-scored people first (each one "
                             "more 2D run)")
    parser.add_argument("--no-locate-heads", action="store_true",
                        help="do not locate the head of people too incomplete to lift (skipped_people[].head)")
    parser.add_argument("--min-face-keypoints", type=int, default=defaults.min_face_keypoints,
                        help="face keypoints (of nose, eyes, ears) observed to locate a head (3-5)")
    parser.add_argument("--pose2d-size", type=int, default=defaults.pose2d_size, metavar="PX",
                        help="MoveNet's bottom-up input long side, a multiple of 32 (larger finds smaller people, "
                             "costs more: docs/benchmarks.md)")
    parser.add_argument("--pose2d-extra-size", type=int, default=defaults.pose2d_extra_size, metavar="PX",
                        help="MoveNet: a second bottom-up pass at this long side (a multiple of 32 other than "
                             "--pose2d-size; 0: none), its "
                             "people merged with the first pass's: with 256, 384 or 512 also finds small, far people "
                             "at 3x or 5x the cascade's time per frame (docs/benchmarks.md)")
    parser.add_argument("--lifter-weights", default=defaults.lifter_weights, choices=LIFTER_WEIGHTS,
                        help="lifter weights on ONNX Runtime's CPU: auto runs the int8-weight variant beside the "
                             "lifter's ONNX file when there is one (the shipped lifter has one), fp32 never, int8 "
                             "requires it; GPU backends run fp32")
    parser.add_argument("--lifter-flip-average", action=argparse.BooleanOptionalAction,
                        default=defaults.lifter_flip_average,
                        help="lift each person and their mirror image and average the two (test-time flip "
                             "averaging; accuracy and cost: docs/benchmarks.md)")
    floor = defaults.floor
    parser.add_argument("--camera-height", type=float, default=floor.camera_height_m, metavar="M",
                        help="height of the camera above a flat floor in metres (a robot's or a fixed camera's "
                             "mount): a standing person's observed ankle then fixes their depth, fused with the "
                             "lifter's (README, 'Known camera mount'); each person's root_source then says floor, "
                             "lifter or track_floor, and the counts are printed at the end; 0: unknown (a fixed "
                             "camera's: 'poselifter fit-floor' fits it from a run without it). Needs the camera "
                             "(--fx or --fov)")
    parser.add_argument("--camera-pitch", type=float, default=floor.camera_pitch_deg, metavar="DEG",
                        help="with --camera-height: the camera's pitch below the horizon in degrees, positive "
                             "looking down")
    parser.add_argument("--camera-roll", type=float, default=floor.camera_roll_deg, metavar="DEG",
                        help="with --camera-height: the camera's roll about its optical axis in degrees, positive "
                             "clockwise seen from behind the camera")
    parser.add_argument("--camera-angle-error", type=float, default=floor.angle_error_deg, metavar="DEG",
                        help="with --camera-height: the 1-sigma error of the mount's angles and an ankle's ray in "
                             "degrees (fit-floor prints the one its fit warrants; lower it for a calibrated mount)")
    parser.add_argument("--max-frames", type=int, metavar="N",
                        help="process only the first N frames of a video, or the first N images of a folder in "
                             "name order (default: all)")
    parser.add_argument("--no-video", action="store_true",
                        help="video input: write only results.jsonl, not the annotated copy (saves its encoding)")
    parser.add_argument("--tracking-config", metavar="YAML",
                        help="videos: tracker and filter settings (see config/tracking.yaml; default: its values)")
    parser.add_argument("--no-tracking", action="store_true", help="videos: no track ids, no temporal filtering")
    parser.add_argument("--no-filter", action="store_true",
                        help="videos: track ids but the per-frame poses (no temporal filtering)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=execute)


def tracking_config(args: argparse.Namespace) -> TrackingConfig:
    """--tracking-config (its values within the node's ranges), then --no-tracking / --no-filter on top."""
    config = load_yaml(TrackingConfig, args.tracking_config) if args.tracking_config else TrackingConfig()
    check_settings(config)
    if args.no_filter:
        config = replace(config, filter=replace(config.filter, enabled=False))
    return replace(config, enabled=False) if args.no_tracking else config


def cascade_config(args: argparse.Namespace) -> CascadeConfig:
    """The options' cascade settings, checked: ValueError naming the option and the setting."""
    defaults = CascadeConfig()
    floor = replace(defaults.floor, camera_height_m=args.camera_height, camera_pitch_deg=args.camera_pitch,
                    camera_roll_deg=args.camera_roll, angle_error_deg=args.camera_angle_error)
    if not args.camera_height:  # the mount's angles alone were silently ignored (the floor is off without a height)
        alone = [option for option, value, default in (
            ("--camera-pitch", args.camera_pitch, defaults.floor.camera_pitch_deg),
            ("--camera-roll", args.camera_roll, defaults.floor.camera_roll_deg),
            ("--camera-angle-error", args.camera_angle_error, defaults.floor.angle_error_deg)) if value != default]
        if alone:
            raise ValueError(f"{' and '.join(alone)} need{'s' * (len(alone) == 1)} --camera-height (the camera's "
                             "height above the floor, in metres): without it the floor is off")
    try:  # each cascade.* setting set here has the option OPTIONS names, else --<its name>
        config = replace(defaults, min_person_score=args.min_person_score, min_joint_score=args.min_joint_score,
                         min_valid_joints=args.min_valid_joints, min_torso_joints=args.min_torso_joints,
                         pose2d_size=args.pose2d_size, pose2d_extra_size=args.pose2d_extra_size,
                         lifter_weights=args.lifter_weights, lifter_flip_average=args.lifter_flip_average,
                         second_look=not args.no_second_look, max_second_looks=args.max_second_looks,
                         locate_heads=not args.no_locate_heads, min_face_keypoints=args.min_face_keypoints,
                         floor=floor)
        check_settings(config, "cascade.")
    except SettingError as error:  # --min-face-keypoints 7: "--min-face-keypoints: cascade.min_face_keypoints must be ..."
        option = OPTIONS.get(error.name) or "--" + error.name.removeprefix("cascade.").replace("_", "-")
        raise ValueError(f"{option}: {error}") from None
    return config


def execute(args: argparse.Namespace) -> int:
    distortion = Distortion(args.dist_model, tuple(args.dist)) if args.dist else None
    camera = CameraSpec(args.fx, args.fy, args.cx, args.cy, args.fov, distortion)
    apply_threads_argument(args)
    source = check_source(args.source)
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be at least 1, got {args.max_frames}")
    if args.boxes:  # a broken or mismatched file is an error before the models load
        check_boxes(args.boxes, source, args.max_frames)
    config = cascade_config(args)
    if config.floor.enabled and args.fx is None and args.fov is None:
        raise ValueError("--camera-height needs the camera's intrinsics (the floor's rays): give --fx or --fov")
    prepare_output(args.output)
    tracking = tracking_config(args)
    cascade = build_cascade(args.lifter, args.pose2d, config, args.backend)
    is_video = source.suffix.lower() in VIDEO_SUFFIXES
    settings = {"cascade": to_dict(config), "camera": to_dict(camera), "backend": args.backend,
                "tracking": to_dict(tracking) if is_video else None}
    out = run(source, cascade, camera, args.output, args.boxes, progress=not args.no_progress,
              video=not args.no_video, tracking=tracking, max_frames=args.max_frames,
              record=run_record(args, settings, cascade, args.lifter, args.pose2d))
    pictures = not (args.no_video and is_video)
    if config.floor.enabled:  # the people the mount placed, as bag's summary says it (each person's root_source)
        print(f"{floor_summary(frame_counts(out, 'floor'))} (people; root_source in {out.name}: floor = fused, "
              "track_floor = carried)")
    if tracking.enabled and is_video and (refused := frame_counts(out, "tracking")):
        print(f"{tracking_summary(refused)} (people; the frames' tracking in {out.name})")  # as bag: when not 0
    print(f"written: {out}" + (f" and pictures in {args.output}" if pictures else ""))
    return 0
