"""Reading the 2D detections and ground truth an error model is fitted to.

Two formats, for the same N frames of one skeleton in the same order in both files:

* npz: key ``keypoints_2d`` (N, J, 2) pixels (a plain :class:`PoseSet` npz works as ground
  truth); optional ``skeleton`` (a string such as ``h36m17``) and ``visibility`` (N, J).
* JSON: either the bare nested list (N, J, 2) or an object
  ``{"keypoints_2d": [[[x, y], ...], ...], "skeleton": "h36m17", "visibility": [[1, 0, ...], ...]}``.

In detections, a joint the estimator did not output may be NaN (npz) or ``null`` (JSON); it is
left out of the fit like a joint marked invisible. Visibility: nonzero / true = use this joint.
A visibility file (``--visibility``) is an npz with key ``visibility`` or JSON (a bare (N, J)
list or ``{"visibility": ...}``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class KeypointFile:
    keypoints: np.ndarray  # (N, J, 2) float64, NaN where missing
    skeleton: str | None
    visibility: np.ndarray | None  # (N, J) bool


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    if path.suffix.lower() == ".json":
        with path.open(encoding="utf-8") as stream:
            try:
                values = json.load(stream)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: not valid JSON: {error}") from None
        return values if isinstance(values, dict) else {"": values}
    raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .npz or .json")


def _array(values: object, path: Path, key: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)  # JSON null -> NaN
    except (TypeError, ValueError):
        raise ValueError(f"{path}: {key} is not a numeric array") from None


def _entry(values: dict, path: Path, key: str) -> np.ndarray:
    """The ``key`` entry, or the whole content of a JSON file that is a bare array (stored under "")."""
    found = key if key in values else "" if "" in values else None
    if found is None:
        raise ValueError(f"{path}: no {key!r} entry; it has {sorted(values)}")
    return _array(values[found], path, key)


def _visibility(values: dict, path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """The (N, J) ``visibility`` entry as a bool mask (non-zero = visible)."""
    visibility = _entry(values, path, "visibility")
    if visibility.shape != tuple(shape):
        raise ValueError(f"{path}: visibility must have shape {tuple(shape)}, got {visibility.shape}")
    return np.nan_to_num(visibility) != 0


def load_keypoints(path: str | Path) -> KeypointFile:
    """Read (N, J, 2) keypoints (and skeleton, visibility if present) from npz or JSON."""
    path = Path(path)
    values = _read(path)
    keypoints = _entry(values, path, "keypoints_2d")
    if keypoints.ndim != 3 or keypoints.shape[2] != 2:
        raise ValueError(f"{path}: keypoints_2d must have shape (N, J, 2), got {keypoints.shape}")
    skeleton = str(values["skeleton"]) if "skeleton" in values else None
    visibility = _visibility(values, path, keypoints.shape[:2]) if "visibility" in values else None
    return KeypointFile(keypoints, skeleton, visibility)


def load_visibility(path: str | Path, shape: tuple[int, int]) -> np.ndarray:
    """Read an (N, J) visibility mask from npz (key ``visibility``) or JSON."""
    path = Path(path)
    return _visibility(_read(path), path, shape)
