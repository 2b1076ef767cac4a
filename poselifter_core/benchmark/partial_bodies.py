"""Accuracy of lifters side by side on the same samples, for full and partial bodies (#18).

:func:`accuracy_report` takes named lifters and one test PoseSet (full bodies, e.g. the test split
through the rig with ``min_visible_joints: 17``) and writes Markdown tables:

* overall, per subject and per action: MPJPE, PA-MPJPE, MRPE and MRPE in % of the root depth;
* per subject, the learned root against the analytic root of Mehta et al. on the same relative pose,
  and both with the body-size oracle of :mod:`.depth_bins` (:func:`root_scores`); on rig data (which
  records its floor) also the learned root fused with the floor (:mod:`..floor`), with the exact
  camera mount and with a hand-measured one (:data:`MOUNT_ERROR`);
* the same metrics with 3, 6 and 9 of the joints the 2D stage reports missing
  (:func:`..data.missingness.missing_masks`: forearms and lower legs, lower body, image border;
  derived joints follow);
* the signed depth error per 2 m bin of the true root depth, ± 2 standard errors;
  :func:`per_bin_report` makes the same table for a set rendered with enough samples in every bin.

A lifter without the mask input (before #18) is reported as ``n/a`` where joints are missing.
Every lifter sees the same 2D input (``keypoints``, e.g. mixture-noised) and the same masks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..baselines import analytic_root
from ..data.missingness import MISSING_PATTERNS, missing_masks
from ..data.pose_set import PoseSet
from ..floor import FloorConfig, FloorPlane, floor_root_depth, fuse_root_depth
from ..lifter.inference import Lifter
from ..metrics import all_metrics
from ..visibility import VisibilityRule
from .depth_bins import body_size_mm, mean_with_2se, size_oracle_root

SUMMARY_METRICS = ("MPJPE", "PA-MPJPE", "MRPE", "MRPE %")
#: 1-sigma error of a camera mount measured by hand (pitch and roll [deg], height [m]) for the
#: "floor, mount error" root.
MOUNT_ERROR = (0.5, 0.03)
ROOT_KINDS_NOTE = ("learned: the lifter's root; analytic: Mehta et al.'s root on the lifter's relative pose; size "
                   "oracle: that root scaled by the true summed bone length over the relative pose's; oracle vs "
                   "training mean: the learned root scaled by the true summed bone length over the training bodies' "
                   "mean; floor: the learned root moved along its ray to its depth fused with the floor's "
                   "(poselifter_core/floor.py, default settings), the camera's mount exact or with a hand-measured "
                   f"error (1 sigma: pitch and roll {MOUNT_ERROR[0]:g} deg, height {MOUNT_ERROR[1] * 100:g} cm).")


@dataclass
class _Scores:
    per_sample: dict[str, np.ndarray]

    def mean(self, mask: np.ndarray | None = None) -> dict[str, float]:
        return {k: float(np.mean(v if mask is None else v[mask])) for k, v in self.per_sample.items()}


def _scores(absolute: np.ndarray, root_mm: np.ndarray, data: PoseSet) -> _Scores:
    gt = data.joints_3d.astype(np.float64)
    root = data.skeleton.root
    metrics = all_metrics(absolute, gt, root_mm, gt[:, root], root)
    metrics["MRPE %"] = 100.0 * metrics["MRPE"] / gt[:, root, 2]
    metrics["depth error %"] = 100.0 * (root_mm[:, 2] - gt[:, root, 2]) / gt[:, root, 2]
    return _Scores(metrics)


def _lift(lifter: Lifter, keypoints: np.ndarray, data: PoseSet, visible: np.ndarray | None) -> _Scores | None:
    if visible is not None and not lifter.config.takes_mask:
        return None
    result = lifter.lift(keypoints, data.intrinsics, visible)
    return _scores(result.absolute.astype(np.float64), result.root.astype(np.float64), data)


def _action(clip: str) -> str:
    """HDM05 clips by motion (``HDM_dg_squat1Reps_025_120`` -> ``HDM_dg_squat1Reps``); others per clip."""
    return re.sub(r"_\d+_\d+$", "", clip) if clip.startswith("HDM_") else clip


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _side_by_side(title: str, rows: dict[str, dict[str, dict[str, float] | None]], names: list[str],
                  metrics: tuple[str, ...] = SUMMARY_METRICS, counts: dict[str, int] | None = None) -> list[str]:
    header = f"| {title} | " + ("n | " if counts else "") + " | ".join(f"{m} {n}" for m in metrics for n in names) + " |"
    lines = [header, "|---|" + ("---:|" if counts else "") + "---:|" * (len(metrics) * len(names))]
    for label, by_name in rows.items():
        cells = [_fmt(None if by_name[n] is None else by_name[n][m]) for m in metrics for n in names]
        lines.append(f"| {label} | " + (f"{counts[label]} | " if counts else "") + " | ".join(cells) + " |")
    return lines


def accuracy_report(lifters: dict[str, Lifter], data: PoseSet, keypoints: np.ndarray | None = None,
                    missing_counts: tuple[int, ...] = (3, 6, 9), bin_m: float = 2.0, seed: int = 0,
                    rule: VisibilityRule = VisibilityRule(), train_size_mm: float | None = None) -> str:
    """The Markdown tables of the module docstring for ``lifters`` on ``data`` (full bodies)."""
    keypoints = data.keypoints_2d if keypoints is None else np.asarray(keypoints, dtype=np.float32)
    names = list(lifters)
    full = {name: _lift(lifter, keypoints, data, None) for name, lifter in lifters.items()}
    lines = [f"{len(data)} samples, {len(set(data.subject))} subjects, {len(set(data.action))} clips; every lifter "
             "sees the same 2D input. MPJPE over all 17 joints (root included), millimetres; MRPE % is the root "
             "error in % of the true root depth.", "", "### Full bodies", ""]
    lines += _side_by_side("set", {"all": {n: full[n].mean() for n in names}}, names, counts={"all": len(data)})
    for label in ("subject", "action"):
        values = getattr(data, label) if label == "subject" else np.array([_action(a) for a in data.action])
        groups = {str(v): values == v for v in sorted(set(values))}
        lines += ["", f"### Per {label}", ""]
        lines += _side_by_side(label, {v: {n: full[n].mean(m) for n in names} for v, m in groups.items()}, names,
                               counts={v: int(m.sum()) for v, m in groups.items()})
    lines += ["", "### Learned root against the analytic root (Mehta et al.) per subject, MRPE % of depth", "",
              ROOT_KINDS_NOTE, ""]
    roots = {n: root_scores(lifter, keypoints, data, train_size_mm) for n, lifter in lifters.items()}
    size = body_size_mm(data.joints_3d, data.skeleton)
    columns = {f"{n} {kind}": scores for n in names for kind, scores in roots[n].items()}
    lines += ["| subject | n | true size vs training mean | " + " | ".join(f"{n} learned, signed depth error %"
                                                                          for n in names)
              + " | " + " | ".join(columns) + " |", "|---|---:|---:|" + "---:|" * (len(names) + len(columns))]
    for subject in sorted(set(data.subject)) + ["all"]:
        mask = np.ones(len(data), bool) if subject == "all" else data.subject == subject
        relative_size = "" if train_size_mm is None else f"{100 * (np.median(size[mask]) / train_size_mm - 1):+.1f} %"
        signed = [f"{roots[n]['learned'].mean(mask)['depth error %']:+.1f}" for n in names]
        cells = signed + [f"{s.mean(mask)['MRPE %']:.2f}" for s in columns.values()]
        lines.append(f"| {subject} | {int(mask.sum())} | {relative_size} | " + " | ".join(cells) + " |")
    lines += ["", "### Missing joints (of the 2D stage's 13; derived joints follow)", "",
              "Samples the lifting rule rejects (fewer than "
              f"{rule.min_joints} observed joints or {rule.min_torso_joints} of shoulders and hips) are left out and "
              "counted.", ""]
    rows: dict[str, dict[str, dict[str, float] | None]] = {}
    counts: dict[str, int] = {}
    for count in missing_counts:
        for pattern in MISSING_PATTERNS:
            visible = missing_masks(data, count, pattern, seed)
            keep = rule.passes(visible)
            if not keep.any():
                continue
            label = f"{count} missing, {pattern} ({(~visible[keep]).sum(1).mean():.1f} of 17 missing, " \
                    f"{100 * (1 - keep.mean()):.0f}% not liftable)"
            subset = data.subset(keep)
            rows[label] = {n: (None if (s := _lift(lifters[n], keypoints[keep], subset, visible[keep])) is None
                               else s.mean()) for n in names}
            counts[label] = int(keep.sum())
    lines += _side_by_side("missing", rows, names, counts=counts)
    lines += ["", f"### Signed root depth error per {bin_m:g} m of true depth (mean %, and mean |error| %, "
              "± 2 standard errors)", ""]
    depth = data.joints_3d[:, data.skeleton.root, 2] / 1000.0
    edges = np.arange(0.0, np.ceil(depth.max() / bin_m) * bin_m + bin_m / 2, bin_m)
    lines += depth_error_table(full, depth, edges)
    return "\n".join(lines) + "\n"


def depth_error_table(scores: dict[str, _Scores], depth_m: np.ndarray, edges_m: np.ndarray) -> list[str]:
    """Signed and absolute root depth error %, mean ± 2 standard errors, per bin of true depth and overall."""
    lines = ["| depth (m) | n | " + " | ".join(f"bias {n} | abs {n}" for n in scores) + " |",
             "|---|---:|" + "---:|---:|" * len(scores)]
    bins = {f"{low:g}-{high:g}": (depth_m >= low) & (depth_m < high) for low, high in zip(edges_m[:-1], edges_m[1:])}
    for label, mask in {**bins, "all": np.ones(len(depth_m), bool)}.items():
        if mask.any():
            cells = []
            for s in scores.values():
                error = s.per_sample["depth error %"][mask]
                cells.append(f"{mean_with_2se(error)} | {mean_with_2se(np.abs(error), signed=False)}")
            lines.append(f"| {label} | {int(mask.sum())} | " + " | ".join(cells) + " |")
    return lines


def root_scores(lifter: Lifter, keypoints: np.ndarray, data: PoseSet,
                train_size_mm: float | None = None) -> dict[str, _Scores]:
    """The lifter's learned root, the analytic root on its relative pose, and both with the
    body-size oracle (:mod:`.depth_bins`; against the training bodies' mean too, when given)."""
    skeleton = data.skeleton
    result = lifter.lift(keypoints, data.intrinsics)
    relative = result.relative.astype(np.float64)
    own_size = body_size_mm(relative, skeleton)
    roots = {"learned": result.root.astype(np.float64),
             "analytic": analytic_root(keypoints.astype(np.float64), relative, data.intrinsics, skeleton.root)}
    for kind in ("learned", "analytic"):
        roots[f"{kind}, size oracle"] = size_oracle_root(roots[kind], own_size, data.joints_3d, skeleton)
    if train_size_mm is not None:
        roots["learned, oracle vs training mean"] = size_oracle_root(roots["learned"], train_size_mm,
                                                                     data.joints_3d, skeleton)
    if data.floor is not None:
        roots["floor"] = floor_root(roots["learned"], relative, keypoints, data)
        roots["floor, mount error"] = floor_root(roots["learned"], relative, keypoints, data, MOUNT_ERROR)
    return {kind: _scores(root[:, None, :] + relative, root, data) for kind, root in roots.items()}


def floor_root(learned_mm: np.ndarray, relative_mm: np.ndarray, keypoints: np.ndarray, data: PoseSet,
               mount_error: tuple[float, float] | None = None, seed: int = 0) -> np.ndarray:
    """(N, 3) mm: the learned roots moved along their rays to the depth fused with the floor that
    ``data`` records (the rig's), seen through a mount with ``mount_error`` (1-sigma pitch and roll
    [deg], height [m]; seeded) when given."""
    up, height_m = data.floor[:, :3], data.floor[:, 3] / 1000.0
    if mount_error is not None:
        rng = np.random.default_rng(seed)
        pitch, roll = np.radians(rng.normal(0.0, mount_error[0], (2, len(up))))
        c, s = np.cos(pitch), np.sin(pitch)
        up = np.stack([up[:, 0], c * up[:, 1] - s * up[:, 2], s * up[:, 1] + c * up[:, 2]], axis=1)
        c, s = np.cos(roll), np.sin(roll)
        up = np.stack([c * up[:, 0] - s * up[:, 1], s * up[:, 0] + c * up[:, 1], up[:, 2]], axis=1)
        height_m = height_m + rng.normal(0.0, mount_error[1], len(up))
    config = FloorConfig()
    depth, sigma = floor_root_depth(keypoints, data.visible, data.intrinsics, relative_mm / 1000.0,
                                    FloorPlane(up, height_m), config)
    fused, _ = fuse_root_depth(learned_mm[:, 2] / 1000.0, depth, sigma, config)
    return learned_mm * (fused * 1000.0 / learned_mm[:, 2])[:, None]


def per_bin_report(lifters: dict[str, Lifter], data: PoseSet, keypoints: np.ndarray, edges_m: np.ndarray,
                   train_size_mm: float | None = None) -> str:
    """The depth error table, every root of :func:`root_scores`, on a set rendered per bin
    (:func:`.depth_bins.render_per_bin`)."""
    scores = {f"{n} {kind}": s for n, lifter in lifters.items()
              for kind, s in root_scores(lifter, keypoints, data, train_size_mm).items()}
    depth = data.joints_3d[:, data.skeleton.root, 2] / 1000.0
    return "\n".join([ROOT_KINDS_NOTE, "", *depth_error_table(scores, depth, edges_m)]) + "\n"
