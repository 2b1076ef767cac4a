"""``poselifter experiment``: the paper's comparison tables on your data."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..data.sources import load_pose_set
from ..experiments import run_ablation, run_focal, run_mismatch, run_noise
from ..lifter.inference import TorchLifter
from ..pose2d.layout import HEAD_RATIO
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
            "mismatch: no training; evaluate --checkpoint (default: the shipped lifter) on test_data (--data val: "
            "val_data) with the COCO->H36M conversion's head and hip rules applied to the exact (or --input-noise) 2D."
        ))
    parser.add_argument("which", choices=("ablation", "noise", "focal", "mismatch"))
    add_config_arguments(parser)
    parser.add_argument("--output", required=True, help="directory for the variants and the report")
    parser.add_argument("--focal", nargs="+", type=float, default=[1000.0],
                        help="test focal lengths in pixels for 'focal', e.g. 480 680 1000 1380 1680")
    parser.add_argument("--checkpoint", help="lifter for 'mismatch' (default: the shipped model)")
    parser.add_argument("--data", choices=("test", "val"), default="test",
                        help="'mismatch' on the config's test_data or val_data (choose settings such as "
                             "--head-ratio on val, report them on test)")
    parser.add_argument("--head-ratio", type=float, nargs="+", default=[HEAD_RATIO], metavar="R",
                        help=f"'mismatch': the crown rule's ratio(s), one row each (default: {HEAD_RATIO:g}, "
                             "cascade.head_ratio's default); the hip rows use the first")
    parser.add_argument("--input-noise", choices=("none", "mixture", "gaussian"), default="none",
                        help="'mismatch': corrupt the 2D with the error model's synthesis (seeded) before the rules")
    parser.add_argument("--error-model", help="error model YAML for --input-noise (default: the shipped one)")
    parser.add_argument("--noise-seed", type=int, default=0, help="seed of --input-noise")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_train_config(args)
    output = Path(args.output)
    if args.which == "ablation":
        print(run_ablation(config, output, progress=not args.no_progress))
    elif args.which == "mismatch":
        lifter = TorchLifter.from_checkpoint(args.checkpoint or CHECKPOINT)
        spec = config.test_data if args.data == "test" else config.val_data
        if spec is None:
            raise ValueError(f"mismatch --data {args.data}: the config has no {args.data}_data")
        print(run_mismatch(lifter, load_pose_set(spec), output, args.head_ratio, args.input_noise,
                           args.error_model, args.noise_seed, args.data))
    elif args.which == "noise":
        print(run_noise(config, output, progress=not args.no_progress))
    else:
        print(run_focal(config, output, args.focal, progress=not args.no_progress))
    print(f"written: {output}")
    return 0
