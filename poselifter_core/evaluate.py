"""Evaluation of lifters on a PoseSet: metrics per method, overall and per subject/action/camera."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .baselines import analytic_root
from .data.pose_set import LABELS, PoseSet
from .lifter.inference import Lifter, LiftResult
from .metrics import all_metrics

METRIC_ORDER = ("MPJPE", "PA-MPJPE", "MRPE", "MRPE-X", "MRPE-Y", "MRPE-Z", "3DPCK", "AUC")
MPJPE_NOTE = ("MPJPE and PA-MPJPE average all 17 joints, the root included (as the official PoseLifter code does); "
              "millimetres. 3DPCK@150 mm and AUC (0-150 mm) in percent.")


@dataclass
class MethodResult:
    name: str
    per_sample: dict[str, np.ndarray]

    def mean(self, mask: np.ndarray | None = None) -> dict[str, float]:
        return {k: float(np.mean(v if mask is None else v[mask])) for k, v in self.per_sample.items()}


@dataclass
class Evaluation:
    samples: int
    methods: list[MethodResult]
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    def summary(self) -> dict:
        out: dict = {"samples": self.samples, "note": MPJPE_NOTE, "overall": {}, "by": {}}
        for method in self.methods:
            out["overall"][method.name] = method.mean()
        for label, values in self.groups.items():
            out["by"][label] = {
                value: {m.name: m.mean(values == value) for m in self.methods} for value in sorted(set(values))
            }
        return out

    def markdown(self) -> str:
        lines = [f"Samples: {self.samples}. {MPJPE_NOTE}", "", _table({m.name: m.mean() for m in self.methods})]
        for label, values in self.groups.items():
            lines += ["", f"### By {label} ({self.methods[0].name})", ""]
            rows = {str(v): self.methods[0].mean(values == v) for v in sorted(set(values))}
            lines.append(_table(rows, first=label))
        return "\n".join(lines) + "\n"

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "results.json").write_text(json.dumps(self.summary(), indent=1), encoding="utf-8")
        (directory / "results.md").write_text(self.markdown(), encoding="utf-8")


def _table(rows: dict[str, dict[str, float]], first: str = "Method") -> str:
    header = f"| {first} | " + " | ".join(METRIC_ORDER) + " |"
    rule = "|---|" + "---:|" * len(METRIC_ORDER)
    body = [f"| {name} | " + " | ".join(f"{values[m]:.1f}" for m in METRIC_ORDER) + " |" for name, values in rows.items()]
    return "\n".join([header, rule, *body])


def method_results(name: str, result: LiftResult, data: PoseSet, with_analytic_root: bool) -> list[MethodResult]:
    """PoseLifter's own metrics and, optionally, those of its relative pose + the analytic root."""
    root = data.skeleton.root
    gt = data.joints_3d.astype(np.float64)
    results = [MethodResult(name, all_metrics(result.absolute, gt, result.root, gt[:, root], root))]
    if with_analytic_root:
        analytic = analytic_root(data.keypoints_2d, result.relative, data.intrinsics, root)
        absolute = analytic[:, None, :] + result.relative
        results.append(MethodResult(f"{name} relative + analytic root (Mehta et al.)",
                                    all_metrics(absolute, gt, analytic, gt[:, root], root)))
    return results


def evaluate_lifters(lifters: dict[str, Lifter], data: PoseSet, with_analytic_root: bool = True,
                     keypoints: np.ndarray | None = None, visible: np.ndarray | None = None) -> Evaluation:
    """Evaluate named lifters on ``data``; ``keypoints`` replaces the 2D input (e.g. noisy 2D),
    ``visible`` (N, J) marks the joints the lifters see (default: all)."""
    input_data = data if keypoints is None else _with_keypoints(data, keypoints)
    methods: list[MethodResult] = []
    for i, (name, lifter) in enumerate(lifters.items()):
        result = lifter.lift(input_data.keypoints_2d, data.intrinsics, visible)
        methods += method_results(name, result, input_data, with_analytic_root and i == 0)
    groups = {label: getattr(data, label) for label in LABELS if len(set(getattr(data, label))) > 1}
    return Evaluation(len(data), methods, groups)


def _with_keypoints(data: PoseSet, keypoints: np.ndarray) -> PoseSet:
    subset = data.subset(slice(None))
    subset.keypoints_2d = np.asarray(keypoints, dtype=np.float32)
    return subset


def noisy_keypoints(data: PoseSet, kind: str, error_model: str | None, seed: int) -> np.ndarray:
    """The test 2D corrupted by the error model's synthesis (``kind`` gaussian or mixture), seeded."""
    from .noise.error_model import ErrorModel, default_error_model
    from .noise.synthesis import make_input_noise

    model = ErrorModel.load(error_model) if error_model else default_error_model()
    noise = make_input_noise(kind, model, "mixture")
    return noise(torch.as_tensor(data.keypoints_2d), torch.Generator().manual_seed(seed)).numpy()
