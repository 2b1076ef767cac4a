"""``poselifter train-2d``: train the paper's 2D pose estimator on labelled images."""
from __future__ import annotations

import argparse

from ..pose2d.training import Train2DConfig, train_2d
from .common import add_config_arguments, load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-2d", help="train the integral-regression ResNet 2D pose estimator",
        description=(
            "Train the paper's 2D pose estimator (ResNet + deconvolution head + integral "
            "regression, section 4.1) on a folder of labelled images: annotations.json with "
            "person boxes and COCO-17 or H36M-17 keypoints (layout: docs/train_2d.md). Defaults "
            "are the paper's (RMSprop, lr 1e-4 -> 1e-5 after 30 of 60 epochs, batch 48, shift/flip/"
            "colour augmentation). Writes checkpoint.pt and history.json to output_dir; the "
            "checkpoint loads with IntegralPoseEstimator.from_checkpoint. Uses CUDA when present."
        ))
    add_config_arguments(parser, config_help="2D training YAML (see config/train_2d_example.yaml)",
                         set_example="--set data.root=/data/my_people --set optim.epochs=10")
    parser.add_argument("--output-dir", help="override output_dir of the config")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(Train2DConfig, args)
    if args.output_dir:
        config.output_dir = args.output_dir
    history = train_2d(config)
    last = history[-1]
    print(f"trained {len(history)} epochs: loss {history[0].loss:.4f} -> {last.loss:.4f}; "
          f"checkpoint: {config.output_dir}/checkpoint.pt")
    return 0
