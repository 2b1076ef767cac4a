"""Horizontal-flip test-time averaging of the lifter's raw output.

Flip averaging at test time is the trick VideoPose3D uses (Pavllo et al., *3D human pose estimation
in video with temporal convolutions and semi-supervised training*, CVPR 2019): lift the pose and its
mirror image, mirror the second answer back and average the two. The lifter is trained with random
mirrors (:mod:`..data.flip`), so both lifts are equally good guesses and their noise partly cancels.

Mirroring the image about the vertical line through the principal point maps a pixel ``u`` to
``2 cx - u`` (focal-normalized ``x -> -x``) and swaps the left and right joints, their visibility
flags included; the intrinsics are unchanged. The mirrored lift is mirrored back in 3D
(``X -> -X``, left and right swapped again). Both lifts share one backend call (one batch of 2N),
so every backend (PyTorch, ONNX Runtime, TensorRT) gets it without code of its own.

The depth output ``raw[:, 0]`` needs no mirroring: the observed joints' scale ``sigma`` is the same
for the pose and its mirror, so the two encoded depths are directly comparable. The two are
averaged as encoded: for ``log_size`` that is the mean of ``ln Z`` (the geometric mean of the two
depths; on the validation split it and the arithmetic mean of ``Z`` are 0.002 points of MRPE % apart,
docs/benchmarks.md "Flip averaging at test time", so the simpler one); for the older ``canonical``
and ``metres`` outputs, linear in ``Z``, the arithmetic mean of ``Z``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..skeleton import Skeleton
from .inputs import LifterInput

#: Runs the network on a checked batch: its raw (N, 3J - 2) output.
RawRun = Callable[[LifterInput], np.ndarray]


def mirror_input(batch: LifterInput, skeleton: Skeleton) -> LifterInput:
    """The batch mirrored about the principal point's vertical line: ``u -> 2 cx - u``, left and
    right joints (and their visibility) swapped. Missing joints stay at 0, as the contract wants."""
    flip = skeleton.flip_index
    visible = np.ascontiguousarray(batch.visible[:, flip])
    keypoints = batch.keypoints[:, flip].copy()
    mirrored_u = 2.0 * batch.intrinsics[:, None, 2] - keypoints[..., 0]
    keypoints[..., 0] = np.where(visible > 0, mirrored_u, np.float32(0.0))
    return LifterInput(keypoints, batch.intrinsics, visible)


def unmirror_raw(raw: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """The raw output of a mirrored input mirrored back: every non-root joint's ``X -> -X`` and
    left and right swapped; the depth output unchanged. The root must map onto itself."""
    root = skeleton.root
    flip = skeleton.flip_index
    if flip[root] != root:
        raise ValueError(f"{skeleton.name}: the root joint must be its own mirror")
    joints = np.insert(raw[:, 1:].reshape(len(raw), -1, 3), root, 0.0, axis=1)[:, flip]
    joints[..., 0] = -joints[..., 0]
    return np.concatenate([raw[:, :1], np.delete(joints, root, axis=1).reshape(len(raw), -1)], axis=1)


def average_raw(raw: np.ndarray, unmirrored: np.ndarray) -> np.ndarray:
    """The mean of two raw outputs: joints arithmetically; the depth output as encoded (the mean of
    ``ln Z`` for ``log_size``, of ``Z`` for the linear encodings: module docstring)."""
    return ((np.asarray(raw, np.float64) + np.asarray(unmirrored, np.float64)) / 2.0).astype(np.float32)


def flip_averaged_raw(run: RawRun, batch: LifterInput, skeleton: Skeleton) -> np.ndarray:
    """The raw output of ``batch`` averaged with that of its mirror, both lifted in one call of ``run``."""
    mirrored = mirror_input(batch, skeleton)
    both = LifterInput(np.concatenate([batch.keypoints, mirrored.keypoints]),
                       np.concatenate([batch.intrinsics, mirrored.intrinsics]),
                       np.concatenate([batch.visible, mirrored.visible]))
    raw = run(both)
    count = len(batch)
    return average_raw(raw[:count], unmirror_raw(raw[count:], skeleton))


def lifter_raw(run: RawRun, batch: LifterInput, skeleton: Skeleton, flip_average: bool) -> np.ndarray:
    """The network's raw output for ``batch``: ``run`` alone, or flip-averaged."""
    return flip_averaged_raw(run, batch, skeleton) if flip_average else run(batch)
