"""``poselifter benchmark``: lifter speed on this machine (PyTorch eager, or per inference backend)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..benchmark import lifter_report
from ..lifter.model import LifterConfig
from ..runtime.backend import BACKEND_SETTINGS
from ..runtime.benchmark_backends import backend_report
from ..runtime.engine_cache import PRECISIONS
from ..train import resolve_device


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "benchmark", help="measure lifter latency and throughput (eager, or per inference backend)",
        description="Without --backends: PyTorch eager latency of the lifter per batch size and width, and training "
                    "samples/s. With --backends: per backend, latency at batch 1/8/64, poses/s at batch 1024, peak "
                    "RSS, and a plain-matmul FLOPs ceiling. Prints Markdown tables naming the machine.")
    parser.add_argument("--widths", nargs="+", type=int, default=None,
                        help=f"lifter widths (default: 1024 4096 eager; {LifterConfig().width} with --backends)")
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64, 1024], help="eager batch sizes")
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    cascade = parser.add_argument_group("cascade benchmark (image -> 3D per frame)")
    cascade.add_argument("--cascade", metavar="PHOTO_OR_VIDEO",
                         help="time the whole cascade: on a photo of one person, 640x480 frames tiling 1, 3 and 6 "
                              "copies of it; on a video, frames per second over its frames (up to 300)")
    cascade.add_argument("--lifter", help="lifter for --cascade (default: the shipped model)")
    cascade.add_argument("--cascade-backend", "--lifter-backend", dest="cascade_backend", default="auto",
                         choices=BACKEND_SETTINGS, help="backend of the 2D model and the lifter for --cascade")
    backends = parser.add_argument_group("per-backend benchmark")
    backends.add_argument("--backends", nargs="+", choices=BACKEND_SETTINGS, default=None,
                          help="e.g. --backends torch onnxruntime tensorrt")
    backends.add_argument("--latency-batches", nargs="+", type=int, default=[1, 8, 64])
    backends.add_argument("--throughput-batch", type=int, default=1024)
    backends.add_argument("--repeats", type=int, default=200, help="timed runs per latency (a tenth for throughput)")
    backends.add_argument("--threads", type=int, default=None, help="threads of every library measured (ONNX Runtime, torch, the BLAS ceiling); default: each library's own (ONNX Runtime: physical cores)")
    backends.add_argument("--int8", action="store_true", help="add ONNX Runtime on the int8-weight export")
    backends.add_argument("--precision", choices=PRECISIONS, default="fp16", help="TensorRT precision")
    backends.add_argument("--cache-dir", default=None, help="TensorRT engine cache (default: a temporary directory)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.cascade:
        from ..benchmark import cascade_report, cascade_video_report
        from ..infer import VIDEO_SUFFIXES, build_cascade, load_image

        cascade = build_cascade(args.lifter, backend=args.cascade_backend)
        source = Path(args.cascade)
        if source.suffix.lower() in VIDEO_SUFFIXES:
            print(cascade_video_report(cascade, source))
        else:
            print(cascade_report(cascade, load_image(source)))
        return 0
    if args.backends is None:
        print(lifter_report(args.widths or [1024, 4096], args.batches, args.train_batch, resolve_device(args.device)))
        return 0
    for width in args.widths or [LifterConfig().width]:
        print(backend_report(args.backends, width, tuple(args.latency_batches), args.throughput_batch, args.repeats,
                             args.cache_dir, args.threads, args.precision, args.int8))
    return 0
