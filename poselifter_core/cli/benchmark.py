"""``poselifter benchmark``: speed on this machine: the lifter (PyTorch eager, or per inference backend), the
whole cascade, and (as sub-suites with their own options) the 2D stage and the error-model fit."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..lifter.config import LifterConfig
from ..lifter.weights import LIFTER_WEIGHTS
from ..runtime.engine_cache import PRECISIONS
from ..runtime.factory import BACKEND_SETTINGS
from .common import apply_threads_argument

if TYPE_CHECKING:
    from ..cascade import CascadeConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "benchmark", help="measure lifter latency and throughput (eager, or per inference backend)",
        description="Without --backends: PyTorch eager latency of the lifter per batch size and width, and training "
                    "samples/s. With --backends: per backend, latency at batch 1/8/64, poses/s at batch 1024, peak "
                    "RSS, and a plain-matmul FLOPs ceiling. Prints Markdown tables naming the machine.")
    parser.add_argument("--widths", nargs="+", type=int, default=None,
                        help=f"lifter widths (default: 1024 4096 eager; {LifterConfig().width} with --backends)")
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64, 1024], help="eager batch sizes")
    parser.add_argument("--train-batch", type=int, default=64, help="batch size of the training samples/s column")
    parser.add_argument("--device", default="cpu", help="device of the eager benchmark: auto | cpu | cuda")
    cascade = parser.add_argument_group("cascade benchmark (image -> 3D per frame)")
    cascade.add_argument("--cascade", metavar="PHOTO_OR_VIDEO",
                         help="time the whole cascade: on a photo of one person, 640x480 frames tiling 1, 3 and 6 "
                              "copies of it; on a video, per frame wall and CPU time, stage times, people found and "
                              "lifted, peak RSS, and each network against a reference measured in the same run (sgemm "
                              "ceiling, memory-bandwidth floor of the batch-1 lifter); --threads sets the ONNX Runtime "
                              "thread policy")
    cascade.add_argument("--lifter", help="lifter for --cascade (default: the shipped model)")
    cascade.add_argument("--lifter-weights", default="auto", choices=LIFTER_WEIGHTS,
                         help="lifter weights on ONNX Runtime's CPU for --cascade (auto: the int8 variant when beside "
                              "the lifter; its network row then times the fp32 file too)")
    cascade.add_argument("--frames", type=int, default=300, help="video frames timed (after 3 warm-up frames)")
    cascade.add_argument("--cascade-backend", "--lifter-backend", dest="cascade_backend", default="auto",
                         choices=BACKEND_SETTINGS, help="backend of the 2D model and the lifter for --cascade")
    share = parser.add_argument_group("share of the people found by the 2D stage that get lifted (#18)")
    share.add_argument("--lifted-share", nargs="+", metavar="PHOTO_FOLDER_OR_VIDEO",
                       help="count people found, lifted and skipped (by reason) per source, for each --lifter and "
                            "--pose2d-sizes, with the cascade's ms per frame")
    share.add_argument("--pose2d-sizes", nargs="+", type=pose2d_sizes, default=[(256, 0)], metavar="PX[+PX]",
                       help="MoveNet input long sides to compare: 384 (one bottom-up pass), or 256+384 (a second "
                            "pass at 384 merged with the first: cascade.pose2d_extra_size; 256+256: refused) (default: 256)")
    share.add_argument("--lifters", nargs="+", help="lifters to compare for --lifted-share (default: the shipped one)")
    share.add_argument("--every", type=int, default=10, help="every n-th video frame for --lifted-share")
    share.add_argument("--max-frames", type=int, default=80, help="frames (or photos) per source for --lifted-share")
    files = parser.add_argument_group("given lifter files (e.g. the shipped model, old and new)")
    files.add_argument("--lifter-files", nargs="+", metavar="ONNX",
                       help="time these lifter exports on ONNX Runtime CPU in interleaved rounds: the network call and "
                            "lift (checks + network + decoding) at each --latency-batches size; --repeats calls per "
                            "round, --threads")
    files.add_argument("--rounds", type=int, default=10, help="interleaved rounds for --lifter-files")
    parser.add_argument("--flip-average", action="store_true",
                        help="--lifter-files: time each file also flip-averaged (cascade.lifter_flip_average); "
                             "--lifted-share: each cascade also with its lifter flip-averaged; in the same rounds")
    backends = parser.add_argument_group("per-backend benchmark")
    backends.add_argument("--backends", nargs="+", choices=BACKEND_SETTINGS, default=None,
                          help="e.g. --backends torch onnxruntime tensorrt")
    backends.add_argument("--latency-batches", nargs="+", type=int, default=[1, 8, 64],
                          help="batch sizes timed for latency (also those of --lifter-files)")
    backends.add_argument("--throughput-batch", type=int, default=1024, help="batch size of the poses/s column")
    backends.add_argument("--repeats", type=int, default=200, help="timed runs per latency (a tenth for throughput)")
    backends.add_argument("--threads", type=int, default=None,
                          help="threads of every library measured (ONNX Runtime, torch, the BLAS ceiling); "
                               "default: each library's own (ONNX Runtime: physical cores)")
    backends.add_argument("--int8", action="store_true", help="add ONNX Runtime on the int8-weight export")
    backends.add_argument("--precision", choices=PRECISIONS, default="fp16", help="TensorRT precision")
    backends.add_argument("--cache-dir", default=None, help="TensorRT engine cache (default: a temporary directory)")
    parser.set_defaults(func=run)
    suites = parser.add_subparsers(title="other suites (each with its own options; see 'poselifter benchmark SUITE -h')",
                                   dest="suite", metavar="{pose2d,error-model-fit}", required=False)
    pose2d = suites.add_parser("pose2d", help="2D stage (MoveNet) latency on 640x480 frames tiling a photo 1, 3 and 6 "
                                              "times: median/p90 per frame and per stage")
    pose2d.add_argument("--photo", help="RGB photo of one person (default: scikit-image's astronaut)")
    pose2d.add_argument("--long-side", type=int, default=256, help="MoveNet letterbox size (multiple of 32)")
    pose2d.add_argument("--repeats", type=int, default=50, help="timed calls per frame")
    pose2d.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: its default)")
    pose2d.set_defaults(func=run_pose2d)
    fit = suites.add_parser("error-model-fit", help="time the single-Gaussian and EM fits of the 2D error model on "
                                                    "samples of the default model, and what EM recovers")
    fit.add_argument("--samples", type=int, default=1_000_000, help="error samples per joint")
    fit.add_argument("--repeats", type=int, default=3, help="timed repetitions (the best is reported)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the samples")
    fit.set_defaults(func=run_error_model_fit)


def pose2d_sizes(text: str) -> tuple[int, int]:
    """``--pose2d-sizes`` entry: ``384`` -> (384, 0); ``256+384`` -> (256, 384), the cascade's
    ``pose2d_size`` and ``pose2d_extra_size``."""
    try:
        sizes = [int(part) for part in text.split("+")]
    except ValueError:
        sizes = []
    if not 1 <= len(sizes) <= 2:
        raise argparse.ArgumentTypeError(f"expected PX or PX+PX (e.g. 256 or 256+384), got {text!r}")
    return sizes[0], sizes[1] if len(sizes) == 2 else 0


def check_cascade(config: CascadeConfig) -> CascadeConfig:
    """``config`` when its settings are valid, else the error naming the setting (before any model loads)."""
    from ..settings import check_settings

    check_settings(config, "cascade.")
    return config


def run(args: argparse.Namespace) -> int:
    if args.lifted_share:
        from ..benchmark.cascade import lifted_share_report
        from ..cascade import CascadeConfig
        from ..infer import build_cascade

        # with --flip-average: each cascade plain and flip-averaged, named so; else as configured by default
        flips = {False: ", no flip averaging", True: ", flip-averaged"} if args.flip_average else {
            CascadeConfig().lifter_flip_average: ""}
        cascades = {f"{Path(lifter).name if lifter else 'shipped'}{label}, 2D {'+'.join(str(s) for s in sizes if s)} px":
                    build_cascade(lifter, config=check_cascade(CascadeConfig(pose2d_size=sizes[0],
                                                                             pose2d_extra_size=sizes[1],
                                                                             lifter_flip_average=flip)),
                                  backend=args.cascade_backend)
                    for lifter in (args.lifters or [None]) for sizes in args.pose2d_sizes for flip, label in flips.items()}
        print(lifted_share_report(cascades, args.lifted_share, args.every, args.max_frames))
        return 0
    if args.lifter_files:
        from ..benchmark.lifter_files import lifter_files_report

        print(lifter_files_report(args.lifter_files, tuple(args.latency_batches), args.rounds, args.repeats, args.threads,
                                  args.flip_average))
        return 0
    if args.cascade:
        from ..benchmark.cascade import cascade_report, cascade_video_report
        from ..cascade import CascadeConfig
        from ..infer import VIDEO_SUFFIXES, build_cascade, load_image

        apply_threads_argument(args)
        cascade = build_cascade(args.lifter, config=CascadeConfig(lifter_weights=args.lifter_weights),
                                backend=args.cascade_backend)
        source = Path(args.cascade)
        if source.suffix.lower() in VIDEO_SUFFIXES:
            print(cascade_video_report(cascade, source, args.frames))
        else:
            print(cascade_report(cascade, load_image(source)))
        return 0
    if args.backends is None:  # torch: imported only for the lifter suites, not for --cascade (its peak RSS)
        from ..benchmark.lifter import lifter_report
        from ..train import resolve_device

        print(lifter_report(args.widths or [1024, 4096], args.batches, args.train_batch, resolve_device(args.device)))
        return 0
    from ..benchmark.backends import backend_report

    for width in args.widths or [LifterConfig().width]:
        print(backend_report(args.backends, width, tuple(args.latency_batches), args.throughput_batch, args.repeats,
                             args.cache_dir, args.threads, args.precision, args.int8))
    return 0


def run_pose2d(args: argparse.Namespace) -> int:
    from ..benchmark.pose2d_latency import pose2d_latency_report

    if args.photo:
        from ..infer import load_image

        photo = load_image(Path(args.photo))
    else:
        from skimage.data import astronaut

        photo = astronaut()
    print(pose2d_latency_report(photo, args.long_side, args.repeats, args.threads))
    return 0


def run_error_model_fit(args: argparse.Namespace) -> int:
    from ..benchmark.error_model_fit import fit_speed_report

    print(fit_speed_report(args.samples, args.repeats, args.seed))
    return 0
