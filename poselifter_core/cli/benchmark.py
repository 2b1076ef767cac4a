"""``poselifter benchmark``: lifter speed on this machine."""
from __future__ import annotations

import argparse

from ..benchmark import lifter_report
from ..train import resolve_device


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "benchmark", help="measure lifter latency and training throughput",
        description="PyTorch eager latency of the lifter per batch size and width, and training samples/s; "
                    "prints a Markdown table naming the machine.")
    parser.add_argument("--widths", nargs="+", type=int, default=[1024, 4096])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64, 1024])
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(lifter_report(args.widths, args.batches, args.train_batch, resolve_device(args.device)))
    return 0
