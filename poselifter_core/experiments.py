"""Paper-style comparison experiments, each training several lifters from one base config.

* ``ablation`` (Table 2): the normalization layer's features ``none`` (baseline), ``location``,
  ``scale`` and ``both``, plus the analytic root of Mehta et al. on the ``both`` model's relative
  pose (Table 4).
* ``noise`` (Table 3 analogue): trained on clean, Gaussian-noised and mixture-noised 2D (the
  error model's synthesis), each tested on clean 2D, 2D corrupted by the default mixture, and 2D
  corrupted by a process none of them saw (left/right limb swaps plus jitter).
* ``mismatch``: what the difference between the training joints (defined on a CMU skeleton) and
  the joints the COCO-17 -> H36M-17 conversion produces costs a trained lifter, by applying the
  conversion's rules to exact test 2D poses (see :func:`layout_perturbations`).
* ``focal`` (Table 6 effect): canonical root depth on/off, trained on the config's focal range
  and evaluated with cameras at fixed focal lengths inside and outside that range.
"""
from __future__ import annotations

import copy
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .data.pose_set import PoseSet
from .data.sources import load_pose_set
from .evaluate import METRIC_ORDER, MethodResult, _table, evaluate_lifters, noisy_keypoints
from .lifter.inference import TorchLifter
from .pose2d.layout import HEAD_RATIO, fit_head_ratio
from .train import TrainConfig, train

log = logging.getLogger(__name__)

SWAP_PROBABILITY = 0.2  # per limb
SWAP_JITTER_SIGMA_FRACTION = 0.03
ABLATION_NAMES = {"none": "Baseline (normalized 2D only)", "location": "+ Location", "scale": "+ Scale",
                  "both": "+ Location & scale (PoseLifter)"}


def _train_variant(base: TrainConfig, output: Path, name: str, progress: bool, **lifter_changes: object) -> TorchLifter:
    config = copy.deepcopy(base)
    config.lifter = replace(config.lifter, **lifter_changes)
    config.output_dir = str(output / name)
    log.info("training variant %s", name)
    return TorchLifter.from_checkpoint(train(config, progress=progress))


def run_ablation(base: TrainConfig, output: Path, progress: bool = True) -> str:
    if base.test_data is None:
        raise ValueError("the ablation needs a test_data section in the config")
    test = load_pose_set(base.test_data)
    lifters = {ABLATION_NAMES[f]: _train_variant(base, output, f"features_{f}", progress, features=f)
               for f in ("none", "location", "scale", "both")}
    # evaluate_lifters adds the analytic root to its first lifter: put the full model first
    order = [ABLATION_NAMES["both"]] + [ABLATION_NAMES[f] for f in ("none", "location", "scale")]
    evaluation = evaluate_lifters({k: lifters[k] for k in order}, test)
    rows = {m.name: m.mean() for m in _ablation_order(evaluation.methods)}
    report = f"Test samples: {len(test)}.\n\n" + _table(rows) + "\n"
    _write(output, "ablation", report, rows)
    return report


def _ablation_order(methods: list[MethodResult]) -> list[MethodResult]:
    by_name = {m.name: m for m in methods}
    names = [ABLATION_NAMES[f] for f in ("none", "location", "scale", "both")]
    return [by_name[n] for n in names] + [m for m in methods if m.name not in names]


def run_focal(base: TrainConfig, output: Path, focal_lengths: list[float], progress: bool = True) -> str:
    if base.test_data is None or base.test_data.kind != "mocap":
        raise ValueError("the focal study renders its test cameras with the rig: test_data must be of kind mocap")
    low, high = base.train_data.rig.focal_px
    lifters = {
        "log size ln(Z sigma)": _train_variant(base, output, "log_size", progress, depth_output="log_size"),
        "canonical depth": _train_variant(base, output, "canonical", progress, depth_output="canonical"),
        "raw depth (no canonical)": _train_variant(base, output, "raw_depth", progress, depth_output="metres"),
    }
    rows: dict[str, dict[str, float]] = {}
    for focal in focal_lengths:
        spec = copy.deepcopy(base.test_data)
        spec.rig = replace(spec.rig, focal_px=(focal, focal))
        test = load_pose_set(spec)
        outside = (low - focal) / low if focal < low else (focal - high) / high
        where = "inside" if low <= focal <= high else f"{100 * outside:.0f}% outside"
        for method in evaluate_lifters(lifters, test, with_analytic_root=False).methods:
            rows[f"f = {focal:.0f} px ({where}), {method.name}"] = method.mean()
    report = f"Trained on focal lengths {low:.0f}-{high:.0f} px.\n\n" + _table(rows, first="Test camera, model") + "\n"
    _write(output, "focal", report, rows)
    return report


def corrupted_inputs(test: PoseSet, seed: int = 0) -> dict[str, np.ndarray]:
    """The three test inputs of the noise experiment, reproducible for a seed."""
    from .noise.synthesis import swap_limbs_with_jitter

    clean = torch.as_tensor(test.keypoints_2d)
    mixture = noisy_keypoints(test, "mixture", None, seed)
    swapped = swap_limbs_with_jitter(clean, test.skeleton, SWAP_PROBABILITY, SWAP_JITTER_SIGMA_FRACTION,
                                     torch.Generator().manual_seed(seed + 1))
    return {"clean 2D": test.keypoints_2d, "mixture-noised 2D": mixture,
            f"limb swaps (p={SWAP_PROBABILITY}) + jitter": np.asarray(swapped)}


def run_noise(base: TrainConfig, output: Path, progress: bool = True) -> str:
    if base.test_data is None:
        raise ValueError("the noise experiment needs a test_data section in the config")
    test = load_pose_set(base.test_data)
    lifters = {}
    for kind in ("none", "gaussian", "mixture"):
        config = copy.deepcopy(base)
        config.augment = replace(config.augment, input_noise=kind)
        config.output_dir = str(output / f"noise_{kind}")
        log.info("training with input noise %s", kind)
        lifters[kind] = TorchLifter.from_checkpoint(train(config, progress=progress))
    names = {"none": "ground-truth 2D", "gaussian": "single-Gaussian noise", "mixture": "mixture noise"}
    rows: dict[str, dict[str, float]] = {}
    for test_name, keypoints in corrupted_inputs(test).items():
        evaluation = evaluate_lifters({names[k]: v for k, v in lifters.items()}, test, with_analytic_root=False,
                                      keypoints=keypoints)
        for method in evaluation.methods:
            rows[f"trained on {method.name}, tested on {test_name}"] = method.mean()
    report = (f"Test samples: {len(test)}. All 2D inputs are synthetic (projected mocap, corrupted by "
              "sampled noise), unlike the paper's real detector outputs.\n\n" + _table(rows, first="Training input, test input") + "\n")
    _write(output, "noise", report, rows)
    return report


def layout_perturbations(test: PoseSet, head_ratios: Sequence[float] = (HEAD_RATIO,),
                         hip_scales: tuple[float, ...] = (1.25, 1.5),
                         keypoints: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Exact test 2D, and the same poses with joints replaced the way the COCO conversion makes them.

    * Head: the conversion has no crown keypoint and extrapolates Neck/Nose + ``head_ratio`` x
      (Neck/Nose - Thorax); here that rule replaces the true crown, once per ``head_ratios``.
    * Hips: COCO's hip keypoints sit further apart than the CMU hip joints; here the hips are moved
      away from the pelvis (which stays) by each factor of ``hip_scales``, with the first head ratio's
      crown.
    The Neck/Nose (COCO mid-ears vs CMU upper neck) cannot be derived from mocap and is left exact.
    ``keypoints`` replaces the test 2D the rules are applied to (e.g. noisy 2D: the rules then
    work from noisy Neck/Nose and Thorax, as they do on a detector's keypoints).
    """
    if not head_ratios:
        raise ValueError("layout_perturbations needs at least one head ratio")
    skeleton = test.skeleton
    head, neck, thorax = (skeleton.index(n) for n in ("Head", "Neck/Nose", "Thorax"))
    pelvis, hips = skeleton.root, [skeleton.index("LHip"), skeleton.index("RHip")]
    exact = np.array(test.keypoints_2d if keypoints is None else keypoints, dtype=np.float64)
    variants = {"exact training joints": exact}
    heads = []
    for head_ratio in head_ratios:
        heads.append(exact.copy())
        heads[-1][:, head] = exact[:, neck] + head_ratio * (exact[:, neck] - exact[:, thorax])
        variants[f"Head from the COCO rule (ratio {head_ratio:g})"] = heads[-1]
    for scale in hip_scales:
        wide = heads[0].copy()
        wide[:, hips] = exact[:, pelvis:pelvis + 1] + scale * (exact[:, hips] - exact[:, pelvis:pelvis + 1])
        variants[f"Head rule ({head_ratios[0]:g}) + hips {scale:g}x wider"] = wide
    return variants


def run_mismatch(lifter: TorchLifter, test: PoseSet, output: Path, head_ratios: Sequence[float] = (HEAD_RATIO,),
                 input_noise: str = "none", error_model: str | None = None, noise_seed: int = 0,
                 data_name: str = "test") -> str:
    """The lifter on ``test`` (the config's test or validation data, named by ``data_name``) with
    the conversion's rules applied to its 2D (:func:`layout_perturbations`), after ``input_noise``
    (none, gaussian or mixture: the error model's synthesis, seeded) when there is one."""
    keypoints = None if input_noise == "none" else noisy_keypoints(test, input_noise, error_model, noise_seed)
    rows = {}
    for name, variant in layout_perturbations(test, head_ratios, keypoints=keypoints).items():
        rows[name] = evaluate_lifters({"lifter": lifter}, test, with_analytic_root=False, keypoints=variant).methods[0].mean()
    fitted = fit_head_ratio(test.keypoints_2d)
    noise = "exact projected 2D" if input_noise == "none" else f"projected 2D with {input_noise} noise (seed {noise_seed})"
    report = (f"{data_name.capitalize()} samples: {len(test)}; {noise} with the conversion's rules applied. "
              f"The crown's least-squares ratio on this data's 2D (fit_head_ratio) is {fitted:.3f}.\n\n"
              + _table(rows, first="2D input") + "\n")
    _write(output, "mismatch", report, rows)
    return report


def _write(output: Path, name: str, report: str, rows: dict[str, dict[str, float]]) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{name}.md").write_text(report, encoding="utf-8")
    (output / f"{name}.json").write_text(json.dumps({"metrics": list(METRIC_ORDER), "rows": rows}, indent=1), encoding="utf-8")
