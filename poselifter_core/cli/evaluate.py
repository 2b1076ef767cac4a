"""``poselifter evaluate``: accuracy tables of one or more checkpoints."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..data.pose_set import PoseSet
from ..data.sources import load_pose_set
from ..evaluate import evaluate_lifters, noisy_keypoints
from ..lifter.inference import TorchLifter
from ..train import resolve_device
from .common import add_config_arguments, load_train_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="MPJPE, PA-MPJPE, MRPE (+X/Y/Z), 3DPCK and AUC of checkpoints",
        description=(
            "Evaluate checkpoints on the config's test_data (or a plain pose npz given with --data). "
            "Prints a Markdown table and writes results.md and results.json to --output. The first "
            "checkpoint is also evaluated with the analytic root of Mehta et al. for comparison."
        ))
    parser.add_argument("--checkpoint", nargs="+", required=True, help="checkpoint file(s)")
    add_config_arguments(parser, required=False)
    parser.add_argument("--data", help="a plain pose npz (PoseSet format) instead of the config's test_data")
    parser.add_argument("--output", default="runs/eval", help="directory for results.md / results.json")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--input-noise", choices=("none", "mixture", "gaussian"), default="none",
                        help="corrupt the test 2D with the error model's synthesis before lifting (seeded)")
    parser.add_argument("--error-model", help="error model YAML for --input-noise (default: the shipped one)")
    parser.add_argument("--noise-seed", type=int, default=0)
    parser.add_argument("--no-analytic-root", action="store_true", help="skip the analytic-root baseline")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.data:
        data = PoseSet.load(args.data)
    elif args.config:
        config = load_train_config(args)
        if config.test_data is None:
            raise ValueError(f"{args.config} has no test_data section; give --data instead")
        data = load_pose_set(config.test_data)
    else:
        raise ValueError("give --config (with a test_data section) or --data")
    device = resolve_device(args.device)
    lifters = {Path(c).parent.name + "/" + Path(c).stem: TorchLifter.from_checkpoint(c, device) for c in args.checkpoint}
    keypoints = None
    if args.input_noise != "none":
        keypoints = noisy_keypoints(data, args.input_noise, args.error_model, args.noise_seed)
    evaluation = evaluate_lifters(lifters, data, with_analytic_root=not args.no_analytic_root, keypoints=keypoints)
    evaluation.save(args.output)
    print(evaluation.markdown())
    print(f"written: {Path(args.output) / 'results.md'}, {Path(args.output) / 'results.json'}")
    return 0
