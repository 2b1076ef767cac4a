"""``poselifter evaluate-sequence``: tracked + filtered vs per-frame 3D over time."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import load_yaml
from ..infer import CameraSpec, build_cascade
from ..runtime.factory import BACKEND_SETTINGS
from ..tracking.evaluation import (
    SequenceEvalConfig,
    default_model,
    evaluate_clips,
    evaluate_crossing,
    evaluate_video,
    report_markdown,
)
from .common import add_config_arguments, load_config

PARTS = ("clips", "crossing", "video")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate-sequence", help="temporal metrics: per-frame vs tracked + filtered (MPJPE, MRPE, accel, lag, ids)",
        description=(
            "Play the held-out mocap clips (config mocap / split) as continuous sequences through a fixed and a "
            "slowly orbiting virtual camera at each fps, with temporally correlated 2D noise and missing joints, "
            "and report MPJPE, MRPE, acceleration error, root-depth jitter and lag for the per-frame lifts and "
            "for the same lifts tracked and filtered; then people crossing in front of the camera (id switches, "
            "fragments, occlusions bridged); with --video, the stability of tracks in a real video (no ground "
            "truth). Writes results.md and results.json to --output."))
    add_config_arguments(parser, required=False, config_help="SequenceEvalConfig YAML (mocap, split, fps, cameras, "
                         "camera, noise, crossing_duration_s, seed, tracking)",
                         set_example="--set 'fps=[10,30]' --set split=val")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=["clips", "crossing"],
                        help="what to evaluate (default: clips crossing, and video when --video is given)")
    parser.add_argument("--video", help="a video for the 'video' part (e.g. OpenCV's vtest.avi)")
    parser.add_argument("--fov", type=float, default=60.0, metavar="DEG", help="the video's horizontal field of view")
    parser.add_argument("--tracking-config", metavar="YAML", help="tracker and filter settings (config/tracking.yaml)")
    parser.add_argument("--error-model", help="2D error model YAML for the noise (default: the shipped one)")
    parser.add_argument("--lifter", help="lifter checkpoint or ONNX file (default: the shipped model)")
    parser.add_argument("--backend", default="auto", choices=BACKEND_SETTINGS, help="inference backend of the lifter "
                        "(and of the 2D model for --video)")
    parser.add_argument("--output", default="runs/evaluate_sequence", help="folder for results.md / results.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(SequenceEvalConfig, args)
    if args.tracking_config:
        config.tracking = load_yaml(type(config.tracking), args.tracking_config)
    parts = set(args.parts) | ({"video"} if args.video else set())
    if "video" in parts and not args.video:
        raise ValueError("the video part needs --video")
    cascade = build_cascade(args.lifter, None, backend=args.backend, lift_only="video" not in parts)
    model = default_model(args.error_model)
    clips = evaluate_clips(cascade, config, model) if "clips" in parts else []
    crossing = evaluate_crossing(cascade, config, model) if "crossing" in parts else []
    video = []
    if "video" in parts:
        import imageio.v2 as iio2

        with iio2.get_reader(args.video) as reader:
            height, width = reader.get_data(0).shape[:2]
        intrinsics = CameraSpec(hfov_deg=args.fov).intrinsics(width, height)
        video = evaluate_video(cascade, args.video, intrinsics, config.tracking, progress=not args.no_progress)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    report = report_markdown(clips, crossing, video)
    (output / "results.md").write_text(report, encoding="utf-8")
    (output / "results.json").write_text(json.dumps({"clips": clips, "crossing": crossing, "video": video}, indent=1),
                                         encoding="utf-8")
    print(report)
    print(f"written: {output / 'results.md'}, {output / 'results.json'}")
    return 0
