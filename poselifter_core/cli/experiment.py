"""``poselifter experiment``: the paper's comparison tables on your data."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..data.sources import load_pose_set
from ..experiments import run_ablation, run_focal, run_mismatch, run_noise
from ..lifter.inference import TorchLifter
from ..shipped import CHECKPOINT
from .common import add_config_arguments, load_train_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "experiment", help="train and compare variants (Table 2 ablation, focal-length study)",
        description=(
            "ablation: train the four normalization variants of the paper's Table 2 and compare them "
            "(with the analytic root of Mehta et al.) on test_data. noise: train on clean, Gaussian-noised and "
            "mixture-noised 2D (Table 3) and test on clean, mixture-noised and limb-swapped 2D. focal: train with and without canonical "
            "root depth and evaluate on cameras with focal lengths inside and outside the training range. "
            "mismatch: no training; evaluate --checkpoint (default: the shipped lifter) on test_data with the "
            "COCO->H36M conversion's head and hip rules applied to the exact 2D."
        ))
    parser.add_argument("which", choices=("ablation", "noise", "focal", "mismatch"))
    add_config_arguments(parser)
    parser.add_argument("--output", required=True, help="directory for the variants and the report")
    parser.add_argument("--focal", nargs="+", type=float, default=[1000.0],
                        help="test focal lengths in pixels for 'focal' (e.g. 480 680 1000 1380 1680)")
    parser.add_argument("--checkpoint", help="lifter for 'mismatch' (default: the shipped model)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_train_config(args)
    output = Path(args.output)
    if args.which == "ablation":
        print(run_ablation(config, output, progress=not args.no_progress))
    elif args.which == "mismatch":
        lifter = TorchLifter.from_checkpoint(args.checkpoint or CHECKPOINT)
        print(run_mismatch(lifter, load_pose_set(config.test_data), output))
    elif args.which == "noise":
        print(run_noise(config, output, progress=not args.no_progress))
    else:
        print(run_focal(config, output, args.focal, progress=not args.no_progress))
    print(f"written: {output}")
    return 0
