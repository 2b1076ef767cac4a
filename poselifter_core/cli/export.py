"""``poselifter export``: a lifter or 2D-estimator checkpoint to ONNX, checked against PyTorch."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..lifter.export import DEFAULT_TOLERANCE, export_lifter, quantize_lifter_int8
from ..lifter.weights import int8_path
from ..pose2d.export import DEFAULT_POSE2D_TOLERANCE, export_integral_resnet
from ..runtime.export import DEFAULT_OPSET

LIFTER, POSE2D = "lifter", "2D estimator"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a lifter or 2D-estimator checkpoint to ONNX (dynamic batch, parity-checked)",
        description="Writes a checkpoint as ONNX with a dynamic batch axis N; what it holds is read from the "
                    "checkpoint. A lifter ('poselifter train'), normalization layer included: inputs 'keypoints' "
                    "(N, J, 2) raw pixels, 'intrinsics' (N, 4) [fx, fy, cx, cy] and (lifters since #18) 'visible' (N, J), "
                    "output 'raw' (N, 3J-2). The "
                    "top-down 2D estimator ('poselifter train-2d', integral-regression ResNet): input 'images' "
                    "(N, 3, S, S) float32 crops normalised with the ImageNet mean/std, outputs 'heatmaps' "
                    "(N, J, S/4, S/4) and 'coords' (N, J, 2) in crop pixels; run it with 'poselifter infer "
                    "--pose2d model.onnx'. The model's config goes into its metadata, so the export runs "
                    "without the checkpoint. Prints the max abs error against PyTorch on random valid inputs "
                    "and fails (no file) above --tolerance. With --int8 and an exported lifter (.onnx) instead of a "
                    "checkpoint, writes only its int8-weight variant (default: <name>.int8.onnx beside it, which "
                    "ONNX Runtime then runs on the CPU by default); on the shipped lifter's ONNX ('make lifter-int8') "
                    "it also checks the variant's accuracy on the check set and records it with its SHA-256.")
    parser.add_argument("checkpoint", help="lifter or 2D-estimator checkpoint (.pt); with --int8 also a lifter .onnx")
    parser.add_argument("-o", "--output", help="ONNX file to write (needed for a checkpoint)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset version")
    parser.add_argument("--tolerance", type=float, default=None,
                        help=f"largest accepted max abs error over the outputs (default: {DEFAULT_TOLERANCE:g} for a "
                             f"lifter's raw output, {DEFAULT_POSE2D_TOLERANCE:g} for a 2D estimator's heatmaps and "
                             "pixel coordinates)")
    parser.add_argument("--int8", action="store_true",
                        help="lifters only: also write <output>.int8.onnx with int8 weights (faster on CPUs at batch "
                             "1; ONNX Runtime on the CPU runs it by default, see --lifter-weights of infer; accuracy "
                             "changes slightly, check it with poselifter evaluate)")
    parser.set_defaults(func=run)


def checkpoint_kind(path: str | Path) -> str:
    """:data:`LIFTER` or :data:`POSE2D`, from the checkpoint's keys (tensors are memory-mapped, not read)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as error:  # torch raises several types for corrupt files
        raise ValueError(f"{path} is not a readable PoseLifter checkpoint: {error}") from error
    keys = set(payload) if isinstance(payload, dict) else set()
    if {"lifter_config", "state_dict"} <= keys:
        return LIFTER
    if {"config", "skeleton", "state_dict"} <= keys:
        return POSE2D
    raise ValueError(f"{path} is neither a lifter checkpoint (lifter_config, state_dict) nor a 2D-estimator "
                     "checkpoint (config, skeleton, state_dict)")


def run(args: argparse.Namespace) -> int:
    if Path(args.checkpoint).suffix.lower() == ".onnx":
        return quantize_exported(args)
    if args.output is None:
        raise ValueError("exporting a checkpoint needs -o/--output")
    kind = checkpoint_kind(args.checkpoint)
    if kind == POSE2D and args.int8:
        raise ValueError("--int8 is for lifters; this checkpoint holds a 2D estimator")
    export, tolerance = (export_lifter, DEFAULT_TOLERANCE) if kind == LIFTER else (export_integral_resnet, DEFAULT_POSE2D_TOLERANCE)
    report = export(args.checkpoint, args.output, opset=args.opset,
                    tolerance=tolerance if args.tolerance is None else args.tolerance)
    batches = ", ".join(str(b) for b in report.parity_batches)
    print(f"wrote {report.path} ({kind}, opset {report.opset}, dynamic batch axis)")
    print(f"parity vs PyTorch on random valid inputs (batches {batches}): max abs error {report.max_abs_error:.3e}")
    if args.int8:
        out = Path(report.path)
        print(f"wrote {quantize_lifter_int8(out, int8_path(out))} (int8 weights)")
    return 0


def quantize_exported(args: argparse.Namespace) -> int:
    """``--int8`` on an exported lifter: its int8 variant; on the shipped one, checked and recorded."""
    from .. import shipped

    if not args.int8:
        raise ValueError(f"{args.checkpoint} is already ONNX: give a checkpoint, or --int8 for its int8-weight variant")
    source = Path(args.checkpoint)
    out = Path(args.output) if args.output else int8_path(source)
    print(f"wrote {quantize_lifter_int8(source, out)} (int8 weights, quantised from {source})")
    if source.resolve() == shipped.ONNX.resolve() and out.resolve() == shipped.ONNX_INT8.resolve():
        section = shipped.record_int8(f"poselifter export --int8 {shipped.LIFTER_ONNX.relative_to(shipped.REPO_ROOT)}")
        print(f"recorded in {shipped.RECORD}: MPJPE cost on the check set {section['mpjpe_cost_mm']} mm "
              f"(limit {shipped.INT8_MAX_MPJPE_COST_MM} mm); root error (MRPE) cost {section['mrpe_cost']}")
    return 0
