"""2D detection errors in the error model's unit: pixels divided by the person's 2D scale."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..lifter.normalization import MIN_SCALE_PX, person_scale
from ..skeleton import H36M17, Skeleton, get_skeleton
from .keypoint_files import load_keypoints, load_visibility


def normalized_errors(predicted: np.ndarray, ground_truth: np.ndarray, visibility: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(predicted - ground_truth) / sigma, sigma = eq. 4 of the ground-truth pose.

    Returns errors (N, J, 2) in person_scale units and the (N, J) mask of joints to fit: visible
    (when ``visibility`` is given) and detected (finite prediction). The ground truth must be
    complete: sigma needs every joint.
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    ground_truth = np.asarray(ground_truth, dtype=np.float64)
    if predicted.shape != ground_truth.shape or predicted.ndim != 3 or predicted.shape[2] != 2:
        raise ValueError(f"predictions {predicted.shape} and ground truth {ground_truth.shape} must both "
                         "have shape (N, J, 2) for the same frames and skeleton")
    bad = ~np.isfinite(ground_truth).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"ground truth of frame(s) {np.flatnonzero(bad)[:10].tolist()} contains NaN or inf")
    sigma = person_scale(ground_truth)
    degenerate = sigma < MIN_SCALE_PX
    if degenerate.any():
        raise ValueError(f"ground truth of frame(s) {np.flatnonzero(degenerate)[:10].tolist()} is degenerate "
                         "(all joints coincide)")
    errors = (predicted - ground_truth) / sigma[:, None, None]
    valid = np.isfinite(errors).all(axis=2)
    if visibility is not None:
        visibility = np.asarray(visibility, dtype=bool)
        if visibility.shape != valid.shape:
            raise ValueError(f"visibility must have shape {valid.shape}, got {visibility.shape}")
        valid &= visibility
    return errors, valid


def errors_from_files(predicted_path: str | Path, ground_truth_path: str | Path,
                      visibility_path: str | Path | None = None, skeleton: str | None = None
                      ) -> tuple[np.ndarray, np.ndarray, Skeleton]:
    """Load detections and ground truth (see :mod:`.keypoint_files`) and compute the errors.

    The skeleton is ``skeleton`` if given, else the one the files name (they must agree), else
    H36M-17. Visibility comes from ``visibility_path``, else from the detections file if it has one.
    """
    predicted = load_keypoints(predicted_path)
    ground_truth = load_keypoints(ground_truth_path)
    named = {name for name in (predicted.skeleton, ground_truth.skeleton) if name}
    if skeleton is None and len(named) > 1:
        raise ValueError(f"the files name different skeletons {sorted(named)}; pick one with --skeleton")
    chosen = get_skeleton(skeleton or (named.pop() if named else H36M17.name))
    chosen.check_joint_count(predicted.keypoints, f"{predicted_path}")
    chosen.check_joint_count(ground_truth.keypoints, f"{ground_truth_path}")
    if len(predicted.keypoints) != len(ground_truth.keypoints):
        raise ValueError(f"{predicted_path} has {len(predicted.keypoints)} frames, {ground_truth_path} has "
                         f"{len(ground_truth.keypoints)}: they must hold the same frames in the same order")
    visibility = (load_visibility(visibility_path, predicted.keypoints.shape[:2]) if visibility_path
                  else predicted.visibility)
    errors, valid = normalized_errors(predicted.keypoints, ground_truth.keypoints, visibility)
    return errors, valid, chosen
