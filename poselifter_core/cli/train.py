"""``poselifter train``: train a lifter from a YAML config."""
from __future__ import annotations

import argparse

from ..train import train
from .common import add_config_arguments, load_train_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a PoseLifter model",
        description=(
            "Train the lifter of the config (architecture, data, optimiser, augmentation). Writes "
            "config.yaml, metrics.csv, training_curves.png, checkpoint_best.pt and checkpoint_last.pt to output_dir. "
            "Uses CUDA when present. For several GPUs: torchrun --nproc_per_node N -m poselifter_core train ..."
        ))
    add_config_arguments(parser)
    parser.add_argument("--output-dir", help="override output_dir of the config")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint_last.pt")
    parser.add_argument("--input-noise", choices=("none", "gaussian", "mixture"),
                        help="synthesise 2D detector errors on the training input (overrides augment.input_noise)")
    parser.add_argument("--error-model", help="error model YAML for --input-noise (default: the shipped one)")
    parser.add_argument("--outlier-mode", choices=("mixture", "paper-code"),
                        help="outliers as uniform samples in the window (mixture) or left unchanged as the official "
                             "code does (paper-code); overrides augment.outlier_mode")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_train_config(args)
    if args.output_dir:
        config.output_dir = args.output_dir
    if args.input_noise:
        config.augment.input_noise = args.input_noise
    if args.error_model:
        config.augment.error_model = args.error_model
    if args.outlier_mode:
        config.augment.outlier_mode = args.outlier_mode
    best = train(config, resume=args.resume, progress=not args.no_progress)
    print(f"best checkpoint: {best}")
    return 0
