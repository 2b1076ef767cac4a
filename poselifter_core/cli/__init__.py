"""``poselifter <command>``: the one command-line entry point of the core.

Each command lives in its own module of this package with a ``register(subparsers)`` function
that adds its parser and sets ``func``; :data:`COMMANDS` lists them in ``--help`` order.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ..runtime.backend import BackendError

COMMANDS: tuple[str, ...] = (
    "train",
    "evaluate",
    "experiment",
    "benchmark",
    "infer",
    "bag",
    "data",
    "fit-error-model",
    "plot-error-model",
    "train-2d",
    "export",
    "build-engine",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poselifter",
        description=(
            "Absolute 3D human pose from a single RGB camera (PoseLifter). "
            "Run 'poselifter <command> --help' for a command's options."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, BackendError) as error:
        if args.verbose:
            raise
        print(f"poselifter {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
