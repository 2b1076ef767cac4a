"""``poselifter export``: a lifter checkpoint to ONNX, checked against PyTorch."""
from __future__ import annotations

import argparse

from pathlib import Path

from ..runtime.onnx_export import DEFAULT_OPSET, DEFAULT_TOLERANCE, export_lifter, quantize_lifter_int8


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a lifter checkpoint to ONNX (dynamic batch, parity-checked)",
        description="Writes the lifter, normalization layer included, as ONNX: inputs 'keypoints' (N, J, 2) raw "
                    "pixels and 'intrinsics' (N, 4) [fx, fy, cx, cy], output 'raw' (N, 3J-2); N is dynamic. The "
                    "lifter config is stored in the model's metadata. Prints the max abs error against PyTorch on "
                    "random valid inputs and fails (no file) above --tolerance.")
    parser.add_argument("checkpoint", help="lifter checkpoint (.pt)")
    parser.add_argument("-o", "--output", required=True, help="ONNX file to write")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="largest accepted max abs error of the raw output")
    parser.add_argument("--int8", action="store_true",
                        help="also write <output>.int8.onnx with int8 weights (faster on CPUs at batch 1; accuracy "
                             "changes slightly, check it with poselifter evaluate)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = export_lifter(args.checkpoint, args.output, opset=args.opset, tolerance=args.tolerance)
    batches = ", ".join(str(b) for b in report.parity_batches)
    print(f"wrote {report.path} (opset {report.opset}, dynamic batch axis)")
    print(f"parity vs PyTorch on random valid inputs (batches {batches}): max abs error {report.max_abs_error:.3e}")
    if args.int8:
        out = Path(report.path)
        print(f"wrote {quantize_lifter_int8(out, out.with_suffix('.int8.onnx'))} (int8 weights)")
    return 0
