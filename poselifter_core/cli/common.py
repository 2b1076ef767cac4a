"""Helpers shared by CLI commands: config loading with --set overrides."""
from __future__ import annotations

import argparse
from typing import TypeVar

from ..config import apply_overrides, load_yaml
from ..train import TrainConfig

T = TypeVar("T")


def add_config_arguments(parser: argparse.ArgumentParser, required: bool = True,
                         config_help: str = "training/evaluation YAML (see config/*.yaml)") -> None:
    parser.add_argument("--config", required=required, help=config_help)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optim.epochs=5 --set lifter.width=512 (repeatable)")


def load_config(cls: type[T], args: argparse.Namespace) -> T:
    """The --config YAML as dataclass ``cls`` (its defaults without --config), with the --set overrides applied."""
    config = load_yaml(cls, args.config) if args.config else cls()
    return apply_overrides(config, args.overrides) if args.overrides else config


def load_train_config(args: argparse.Namespace) -> TrainConfig:
    return load_config(TrainConfig, args)
