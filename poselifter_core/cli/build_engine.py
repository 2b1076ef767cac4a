"""``poselifter build-engine``: build a TensorRT engine into the cache ahead of time."""
from __future__ import annotations

import argparse
import sys

from ..runtime.backend import BackendError
from ..runtime.engine_cache import PRECISIONS, default_cache_dir
from ..runtime.tensorrt_backend import ensure_engine, tensorrt_status


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build-engine", help="build (or verify) the TensorRT engine of an ONNX model in the engine cache",
        description="Builds the engine the 'tensorrt' backend would build on first start, e.g. for a deployment "
                    "image. Does nothing if a valid engine for this TensorRT version, GPU, precision, profile and "
                    "ONNX file is already cached. Needs TensorRT and a CUDA GPU; exits with 2 otherwise.")
    parser.add_argument("onnx", help="ONNX model (poselifter export)")
    parser.add_argument("--cache-dir", help="engine cache directory (default: $POSELIFTER_ENGINE_CACHE, else "
                        "~/.cache/poselifter/engines: where infer, the ROS node and bag look)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp16", help="precision of the engine")
    parser.add_argument("--max-batch", type=int, default=64, help="largest batch (people per call) of the profile")
    parser.add_argument("--opt-batch", type=int, default=None, help="batch the profile is tuned for (default: max)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    usable, reason = tensorrt_status()
    if not usable:
        print(f"poselifter build-engine: TensorRT is not usable here: {reason}", file=sys.stderr)
        return 2
    try:
        path, built = ensure_engine(args.onnx, args.cache_dir or default_cache_dir(), args.precision, args.max_batch, args.opt_batch)
    except BackendError as error:
        print(f"poselifter build-engine: error: {error}", file=sys.stderr)
        return 2
    print(f"{'built' if built else 'already cached'}: {path}")
    return 0
