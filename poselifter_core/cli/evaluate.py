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
    parser.add_argument("--partial-bodies", action="store_true",
                        help="instead of the standard tables: the checkpoints side by side on the same samples, "
                             "overall, per subject and per action, learned vs analytic root per subject, with 3, 6 "
                             "and 9 joints missing (limbs, lower body, image border) and the signed depth error per "
                             "2 m (written to partial_bodies.md); .onnx files are accepted too")
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
    keypoints = None
    if args.input_noise != "none":
        keypoints = noisy_keypoints(data, args.input_noise, args.error_model, args.noise_seed)
    if args.partial_bodies:
        from ..benchmark.partial_bodies import accuracy_report
        from ..infer import load_lifter_runtime

        lifters = {Path(c).parent.name + "/" + Path(c).stem: load_lifter_runtime(c, "onnxruntime-cpu" if
                   Path(c).suffix == ".onnx" else "torch") for c in args.checkpoint}
        report = accuracy_report(lifters, data, keypoints, seed=args.noise_seed)
        Path(args.output).mkdir(parents=True, exist_ok=True)
        (Path(args.output) / "partial_bodies.md").write_text(report, encoding="utf-8")
        print(report)
        return 0
    lifters = {Path(c).parent.name + "/" + Path(c).stem: TorchLifter.from_checkpoint(c, device) for c in args.checkpoint}
    evaluation = evaluate_lifters(lifters, data, with_analytic_root=not args.no_analytic_root, keypoints=keypoints)
    evaluation.save(args.output)
    print(evaluation.markdown())
    print(f"written: {Path(args.output) / 'results.md'}, {Path(args.output) / 'results.json'}")
    return 0
