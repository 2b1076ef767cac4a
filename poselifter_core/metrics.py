"""3D pose metrics, per sample, in the unit of the inputs (millimetres throughout the project).

* MPJPE: mean joint distance after aligning the roots. Averages all J joints, the root (error 0)
  included, as the official PoseLifter evaluation does; ``include_root=False`` averages J - 1.
* PA-MPJPE: MPJPE after a similarity Procrustes alignment (rotation, uniform scale, translation),
  with the reflection fix: the rotation is forced to det = +1.
* MRPE: distance between predicted and true absolute root (paper eq. 11), and its |X|, |Y|, |Z|.
* 3DPCK: fraction of joints within 150 mm after root alignment; AUC: mean 3DPCK over the
  thresholds 0, 5, ..., 150 mm (the MPI-INF-3DHP convention).
"""
from __future__ import annotations

import numpy as np

PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.arange(0.0, 151.0, 5.0)


def _root_aligned_errors(pred: np.ndarray, gt: np.ndarray, root: int) -> np.ndarray:
    pred = pred - pred[:, root:root + 1]
    gt = gt - gt[:, root:root + 1]
    return np.linalg.norm(pred - gt, axis=-1)


def mpjpe(pred: np.ndarray, gt: np.ndarray, root: int = 0, include_root: bool = True) -> np.ndarray:
    """(N, J, 3) x2 -> (N,) per-sample MPJPE."""
    errors = _root_aligned_errors(pred, gt, root)
    if not include_root:
        errors = np.delete(errors, root, axis=1)
    return errors.mean(axis=1)


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Best similarity transform of each ``pred`` onto ``gt`` (N, J, 3), proper rotations only."""
    mu_p, mu_g = pred.mean(axis=1, keepdims=True), gt.mean(axis=1, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    cov = np.einsum("nji,njk->nik", p, g)  # (N, 3, 3) = p^T g
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))
    d[d == 0] = 1.0
    fix = np.ones_like(s)
    fix[:, -1] = d  # reflection fix: flip the weakest axis when the best orthogonal map is a mirror
    rotation = np.einsum("nij,nj,njk->nik", u, fix, vt)
    norm_p = (p**2).sum(axis=(1, 2))
    scale = (s * fix).sum(axis=1) / np.where(norm_p > 0, norm_p, 1.0)
    return scale[:, None, None] * np.einsum("nji,nik->njk", p, rotation) + mu_g


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    return np.linalg.norm(procrustes_align(pred, gt) - gt, axis=-1).mean(axis=1)


def root_errors(pred_root: np.ndarray, gt_root: np.ndarray) -> np.ndarray:
    """(N, 3) x2 -> (N, 4): MRPE and its |X|, |Y|, |Z| components per sample."""
    diff = pred_root - gt_root
    return np.concatenate([np.linalg.norm(diff, axis=1, keepdims=True), np.abs(diff)], axis=1)


def pck3d(pred: np.ndarray, gt: np.ndarray, root: int = 0, threshold: float = PCK_THRESHOLD_MM) -> np.ndarray:
    """(N,) fraction of joints within ``threshold`` after root alignment."""
    return (_root_aligned_errors(pred, gt, root) <= threshold).mean(axis=1)


def auc3d(pred: np.ndarray, gt: np.ndarray, root: int = 0) -> np.ndarray:
    """(N,) mean 3DPCK over thresholds 0..150 mm in steps of 5."""
    errors = _root_aligned_errors(pred, gt, root)
    return (errors[:, :, None] <= AUC_THRESHOLDS_MM).mean(axis=(1, 2))


def all_metrics(pred: np.ndarray, gt: np.ndarray, pred_root: np.ndarray, gt_root: np.ndarray, root: int = 0) -> dict[str, np.ndarray]:
    """Every per-sample metric, keyed by its table name."""
    roots = root_errors(pred_root, gt_root)
    return {
        "MPJPE": mpjpe(pred, gt, root),
        "PA-MPJPE": pa_mpjpe(pred - pred[:, root:root + 1], gt - gt[:, root:root + 1]),
        "MRPE": roots[:, 0],
        "MRPE-X": roots[:, 1],
        "MRPE-Y": roots[:, 2],
        "MRPE-Z": roots[:, 3],
        "3DPCK": 100.0 * pck3d(pred, gt, root),
        "AUC": 100.0 * auc3d(pred, gt, root),
    }
