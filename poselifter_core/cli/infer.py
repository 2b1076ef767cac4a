"""``poselifter infer``: absolute 3D people from images, folders or videos."""
from __future__ import annotations

import argparse

from ..cascade import CascadeConfig
from ..infer import CameraSpec, build_cascade, run
from ..runtime.backend import BACKEND_SETTINGS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "infer", help="image / video / folder -> absolute 3D poses (JSON) and pictures",
        description=(
            "Run the cascade (2D stage, by default MoveNet MultiPose -> PoseLifter) and write results.json (images) or "
            "results.jsonl (video, one line per frame) with every person's 2D keypoints, scores and absolute 3D "
            "joints in metres in the camera optical frame (x right, y down, z forward), plus <name>_2d.png "
            "(skeletons on the image), <name>_3d.png (3D view) or <name>_annotated.mp4. Give the camera with "
            "--fx [--fy --cx --cy] or --fov; without either, a 60 degree horizontal field of view is assumed and "
            "every pose is flagged metric_depth=false (the canonical depth is still valid)."))
    parser.add_argument("source", help="an image, a folder of images, or a video file")
    parser.add_argument("-o", "--output", default="runs/infer", help="output folder")
    parser.add_argument("--fx", type=float, help="focal length in pixels (x)")
    parser.add_argument("--fy", type=float, help="focal length in pixels (y); default fx")
    parser.add_argument("--cx", type=float, help="principal point x; default the image centre")
    parser.add_argument("--cy", type=float, help="principal point y; default the image centre")
    parser.add_argument("--fov", type=float, metavar="DEG", help="horizontal field of view instead of --fx")
    parser.add_argument("--boxes", help="JSON person boxes: {image name: [[x1, y1, x2, y2], ...]} (top-down mode)")
    parser.add_argument("--lifter", help="lifter checkpoint (.pt) or ONNX export (.onnx) (default: the shipped model)")
    parser.add_argument("--pose2d", "--movenet", dest="pose2d",
                        help="2D model (default: the shipped MoveNet): a MoveNet ONNX file, a 'poselifter train-2d' "
                             "checkpoint (.pt) or its export (.onnx from 'poselifter export'), or a YAML description "
                             "of a top-down ONNX keypoint model; all but MoveNet need --boxes")
    parser.add_argument("--backend", default="auto", choices=BACKEND_SETTINGS,
                        help="inference backend of the 2D model and the lifter (auto: TensorRT on an NVIDIA GPU, "
                             "else ONNX Runtime with CUDA, else on the CPU; the choice is logged per model). 'torch' "
                             "needs PyTorch checkpoints for both: MoveNet exists only as ONNX")
    parser.add_argument("--min-joint-score", type=float, default=CascadeConfig.min_joint_score)
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    if args.fx is not None and args.fov is not None:
        raise ValueError("give either --fx or --fov, not both")
    cascade = build_cascade(args.lifter, args.pose2d, CascadeConfig(min_joint_score=args.min_joint_score),
                            args.backend)
    camera = CameraSpec(args.fx, args.fy, args.cx, args.cy, args.fov)
    out = run(args.source, cascade, camera, args.output, args.boxes, progress=not args.no_progress)
    print(f"written: {out} and pictures in {args.output}")
    return 0
