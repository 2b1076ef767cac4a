"""Helpers shared by CLI commands: config loading with --set overrides."""
from __future__ import annotations

import argparse
from typing import TypeVar

from ..config import apply_overrides, load_yaml
from ..train import TrainConfig

T = TypeVar("T")


def add_config_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--config", required=required, help="training/evaluation YAML (see config/*.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optim.epochs=5 --set lifter.width=512 (repeatable)")


def load_config(cls: type[T], args: argparse.Namespace) -> T:
    """The --config YAML as dataclass ``cls``, with the --set overrides applied."""
    config = load_yaml(cls, args.config)
    return apply_overrides(config, args.overrides) if args.overrides else config


def load_train_config(args: argparse.Namespace) -> TrainConfig:
    return load_config(TrainConfig, args)
