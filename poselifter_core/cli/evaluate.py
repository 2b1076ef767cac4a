"""``poselifter evaluate``: accuracy tables of one or more checkpoints."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..cascade import CascadeConfig
from ..data.pose_set import PoseSet
from ..data.sources import DataSpec, load_pose_set
from ..evaluate import evaluate_lifters, noisy_keypoints
from ..lifter.inference import Lifter, TorchLifter
from ..skeleton import H36M17
from ..train import resolve_device
from .common import add_config_arguments, load_train_config

if TYPE_CHECKING:
    import torch

    from ..train import TrainConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="MPJPE, PA-MPJPE, MRPE (+X/Y/Z), 3DPCK and AUC of checkpoints",
        description=(
            "Evaluate checkpoints on the config's test_data (or a plain pose npz given with --data). "
            "Prints a Markdown table and writes results.md and results.json to --output. The first "
            "checkpoint is also evaluated with the analytic root of Mehta et al. for comparison."
        ))
    parser.add_argument("--checkpoint", nargs="+", required=True,
                        help="lifter checkpoint(s) (.pt, run by PyTorch on --device) or ONNX exports (.onnx, run "
                             "by ONNX Runtime on the CPU: the very file named, so an int8 variant is evaluated "
                             "only when its .int8.onnx is named)")
    add_config_arguments(parser, required=False, set_example="--set test_data.every=4 --set test_data.seed=1")
    parser.add_argument("--data", help="a plain pose npz (PoseSet format) instead of the config's test_data")
    parser.add_argument("--output", default="runs/eval", help="directory for results.md / results.json")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--input-noise", choices=("none", "mixture", "gaussian"), default="none",
                        help="corrupt the test 2D with the error model's synthesis before lifting (seeded)")
    parser.add_argument("--error-model", help="error model YAML for --input-noise (default: the shipped one)")
    parser.add_argument("--noise-seed", type=int, default=0, help="seed of --input-noise and of --partial-bodies' missing joints")
    parser.add_argument("--flip-average", action=argparse.BooleanOptionalAction,
                        default=CascadeConfig().lifter_flip_average,
                        help="lift each pose and its mirror image and average the two (test-time flip averaging, "
                             "poselifter_core/lifter/flip.py); default: as the cascade does "
                             "(cascade.lifter_flip_average of infer, bag and the node)")
    parser.add_argument("--no-analytic-root", action="store_true", help="skip the analytic-root baseline")
    parser.add_argument("--partial-bodies", action="store_true",
                        help="instead of the standard tables: the checkpoints side by side on the same samples, "
                             "overall, per subject and per action, learned vs analytic root per subject, with 3, 6 "
                             "and 9 joints missing (limbs, lower body, image border) and the signed depth error per "
                             "2 m (written to partial_bodies.md)")
    parser.add_argument("--depth-bins", type=int, default=0, metavar="N",
                        help="with --partial-bodies: also render the test poses again with N full-body samples per "
                             "2 m bin of root depth (0.8-20 m, the test rig otherwise, seeded) and tabulate the depth "
                             "error per bin with 2-standard-error intervals (needs --config with a mocap test_data; "
                             "refused with --data, a plain npz that cannot be rendered again, so that every table "
                             "of the report is on the config's test data)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.depth_bins and not args.partial_bodies:
        raise ValueError("--depth-bins adds a table to --partial-bodies: give both")
    if args.depth_bins < 0:
        raise ValueError(f"--depth-bins must be at least 0 (0: no per-bin table), got {args.depth_bins}")
    if args.depth_bins and args.data:
        raise ValueError("--depth-bins renders the config's mocap test_data again, while --data would give the other "
                         "tables: leave out --data to have every table on the config's test_data, or run --depth-bins "
                         "in a call of its own")
    config = load_train_config(args) if args.config else None
    if args.depth_bins:
        _per_bin_spec(config)  # its error before the data, the lifters and the other tables, not after them
    if args.data:
        data = PoseSet.load(args.data)
    elif config is not None:
        if config.test_data is None:
            raise ValueError(f"{args.config} has no test_data section; give --data instead")
        data = load_pose_set(config.test_data)
    else:
        raise ValueError("give --config (with a test_data section) or --data")
    device = resolve_device(args.device)
    keypoints = None
    if args.input_noise != "none":
        keypoints = noisy_keypoints(data, args.input_noise, args.error_model, args.noise_seed)
    lifters = load_lifters(args.checkpoint, device, args.flip_average)
    if args.partial_bodies:
        from ..benchmark.partial_bodies import accuracy_report

        train_size = _training_body_size_mm(config) if config is not None else None
        report = accuracy_report(lifters, data, keypoints, seed=args.noise_seed, train_size_mm=train_size)
        if args.depth_bins:
            report += "\n" + _per_bin_section(lifters, config, args, train_size)
        Path(args.output).mkdir(parents=True, exist_ok=True)
        (Path(args.output) / "partial_bodies.md").write_text(report, encoding="utf-8")
        print(report)
        return 0
    evaluation = evaluate_lifters(lifters, data, with_analytic_root=not args.no_analytic_root, keypoints=keypoints)
    evaluation.save(args.output)
    print(evaluation.markdown())
    print(f"written: {Path(args.output) / 'results.md'}, {Path(args.output) / 'results.json'}")
    return 0


def load_lifters(paths: list[str], device: torch.device, flip_average: bool = False) -> dict[str, Lifter]:
    """Each lifter by ``parent/stem`` (by the path as given where two would share a name): a
    checkpoint on PyTorch, an ONNX export on ONNX Runtime's CPU with the weights of that very file
    (never the int8 variant beside it, which is evaluated only when named); each flip-averaged
    with ``flip_average`` (:mod:`..lifter.flip`)."""
    from ..infer import load_lifter_runtime

    files = [Path(path) for path in paths]
    names = [f"{path.parent.name}/{path.stem}" for path in files]
    # a/lifter.pt and a/lifter.onnx share parent/stem: parent/name; a/best/lifter.pt and
    # b/best/lifter.pt share that too: the path as given
    for longer in (lambda path: f"{path.parent.name}/{path.name}", str):
        names = [name if names.count(name) == 1 else longer(path) for name, path in zip(names, files)]
    return {name: load_lifter_runtime(path, "onnxruntime-cpu", weights="fp32", flip_average=flip_average)
            if path.suffix == ".onnx" else TorchLifter.from_checkpoint(path, device, flip_average)
            for name, path in zip(names, files)}


def _training_body_size_mm(config: "TrainConfig") -> float | None:
    """Mean summed bone length of the training frames (mocap train_data), else None."""
    spec = config.train_data
    if spec is None or spec.kind != "mocap":
        return None
    from ..benchmark.depth_bins import body_size_mm
    from ..data.world_mocap import load_world_mocap

    clips = load_world_mocap(spec.path, subjects=spec.subjects, splits=spec.splits, every=spec.every)
    return float(np.mean(np.concatenate([body_size_mm(c.joints, H36M17) for c in clips])))


def _per_bin_spec(config: "TrainConfig | None") -> DataSpec:
    """The mocap test_data that --depth-bins renders again; ValueError without one."""
    spec = config.test_data if config is not None else None
    if spec is None or spec.kind != "mocap":
        raise ValueError("--depth-bins renders the test poses again: give --config with a mocap test_data")
    return spec


def _per_bin_section(lifters: dict, config: "TrainConfig | None", args: argparse.Namespace,
                     train_size_mm: float | None) -> str:
    from ..benchmark.depth_bins import bin_edges, render_per_bin
    from ..benchmark.partial_bodies import per_bin_report
    from ..data.world_mocap import load_world_mocap

    spec = _per_bin_spec(config)
    clips = load_world_mocap(spec.path, subjects=spec.subjects, splits=spec.splits, every=spec.every)
    edges = bin_edges(*spec.rig.distance_m, 2.0)
    data = render_per_bin(clips, spec.rig, edges, args.depth_bins, spec.seed)
    keypoints = (data.keypoints_2d if args.input_noise == "none"
                 else noisy_keypoints(data, args.input_noise, args.error_model, args.noise_seed))
    return (f"### Signed root depth error per 2 m, {args.depth_bins} samples rendered in every bin "
            f"(mean %, mean |error| %, ± 2 standard errors)\n\n" + per_bin_report(lifters, data, keypoints, edges,
                                                                                  train_size_mm))
