"""Root depth per distance bin with enough samples in every bin, and the body-size oracle (#18).

The test split through the rig draws one camera distance per pose, so full bodies closer than 2 m
are rare there (most close views are cut by the image border): 30 of 3978 test samples. The
per-bin protocol renders the same poses again with the rig's distance drawn inside each bin of
true root depth (same rig otherwise, seeded per bin), until every bin holds ``per_bin`` full-body
samples, and reports the signed and absolute depth error per bin with their 2-standard-error
intervals.

The body-size oracle asks what is left of the root error once the lifter knows how big the person
is: the predicted root is scaled by (true summed bone length) / (the size the prediction assumed).
Two assumptions about that size: the lifter's own relative pose (its summed bone length; for the
analytic root exact, since that depth is proportional to the pose's scale), or the training
bodies' mean (a lifter that always assumes the average body). The eq. 6 root is the pelvis ray
times the depth, so scaling the whole root vector scales the depth and keeps the ray.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data.pose_set import PoseSet
from ..data.rig import RigConfig, render_views
from ..data.world_mocap import MocapClip
from ..skeleton import Skeleton


def bin_edges(low_m: float, high_m: float, width_m: float) -> np.ndarray:
    """``low``, then every multiple of ``width`` above it, up to ``high``: 0.8, 2, 4, ..., 20."""
    if not 0 < low_m < high_m or width_m <= 0:
        raise ValueError(f"need 0 < low < high and width > 0, got {low_m}, {high_m}, {width_m}")
    inner = np.arange(np.floor(low_m / width_m) + 1, np.ceil(high_m / width_m)) * width_m
    return np.concatenate([[low_m], inner, [high_m]])


def render_per_bin(clips: list[MocapClip], rig: RigConfig, edges_m: np.ndarray, per_bin: int, seed: int,
                   max_rounds: int = 30) -> PoseSet:
    """``per_bin`` samples of ``clips`` through ``rig`` with a true root depth in each bin of ``edges_m``.

    Each round renders every pose once with the rig distance drawn inside the bin (seed
    ``seed + 1000 * bin + round``) and keeps the samples the rig keeps (e.g. full bodies only) whose
    root depth falls in the bin, until there are ``per_bin``; then ``per_bin`` of them are drawn at
    random (seeded), so every clip keeps its share. Raises if a bin stays short."""
    sets = []
    for index, (low, high) in enumerate(zip(edges_m[:-1], edges_m[1:])):
        found: list[PoseSet] = []
        for round_ in range(max_rounds):
            try:
                views = render_views(clips, replace(rig, distance_m=(float(low), float(high))), 1,
                                     seed + 1000 * index + round_)
            except ValueError:  # no sample of this round passed the rig (e.g. all cut by the border)
                continue
            depth_m = views.joints_3d[:, views.skeleton.root, 2] / 1000.0
            found.append(views.subset((depth_m >= low) & (depth_m < high)))
            if sum(map(len, found)) >= per_bin:
                break
        else:
            raise ValueError(f"{low:g}-{high:g} m: {sum(map(len, found))} of {per_bin} samples after "
                             f"{max_rounds} rounds; lower per_bin or loosen the rig")
        pooled = PoseSet.concatenate(found)
        chosen = np.random.default_rng(seed + 1000 * index).choice(len(pooled), per_bin, replace=False)
        sets.append(pooled.subset(np.sort(chosen)))
    return PoseSet.concatenate(sets)


def body_size_mm(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Summed bone length per sample, (N, J, 3) -> (N,)."""
    return skeleton.bone_lengths(np.asarray(joints, dtype=np.float64)).sum(-1)


def size_oracle_root(root: np.ndarray, assumed_size_mm: np.ndarray | float, truth: np.ndarray,
                     skeleton: Skeleton) -> np.ndarray:
    """The root (N, 3) as if the body had its true size instead of ``assumed_size_mm``."""
    return root * (body_size_mm(truth, skeleton) / np.maximum(assumed_size_mm, 1.0))[:, None]  # 1 mm floor: no division by 0


def mean_with_2se(values: np.ndarray, signed: bool = True) -> str:
    """``mean ± 2 standard errors`` of the mean, one decimal (``nan`` interval for one value)."""
    values = np.asarray(values, dtype=np.float64)
    half = 2 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return f"{values.mean():{'+' if signed else ''}.1f} ± {half:.1f}"
