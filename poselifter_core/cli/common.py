"""Helpers shared by CLI commands: config loading with --set overrides, the thread option.

Imports nothing heavy (no torch): the run-time commands use it too.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeVar

from ..config import apply_overrides, load_yaml

if TYPE_CHECKING:
    from ..train import TrainConfig

T = TypeVar("T")


def add_config_arguments(parser: argparse.ArgumentParser, required: bool = True,
                         config_help: str = "training/evaluation YAML (see config/*.yaml)",
                         set_example: str = "--set optim.epochs=5 --set lifter.width=512") -> None:
    """``--config`` and ``--set``; ``set_example`` must name keys of the command's own config."""
    parser.add_argument("--config", required=required, help=config_help)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config value, e.g. {set_example} (repeatable)")


def load_config(cls: type[T], args: argparse.Namespace) -> T:
    """The --config YAML as dataclass ``cls`` (its defaults without --config), with the --set overrides applied."""
    config = load_yaml(cls, args.config) if args.config else cls()
    return apply_overrides(config, args.overrides) if args.overrides else config


def load_train_config(args: argparse.Namespace) -> "TrainConfig":
    from ..train import TrainConfig

    return load_config(TrainConfig, args)


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="ONNX Runtime intra-op threads of every model (default: the physical cores, or the "
                             "POSELIFTER_ORT_THREADS environment variable; idle pools sleep unless POSELIFTER_ORT_SPINNING=1)")


def apply_threads_argument(args: argparse.Namespace) -> None:
    """Make ``--threads`` the process's thread policy (before any model is loaded)."""
    if args.threads is not None:
        from ..runtime.threads import set_thread_policy

        set_thread_policy(intra_op_threads=args.threads)
