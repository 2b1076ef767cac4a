"""Rotation matrices from Euler angles and batched forward kinematics of a joint tree.

Conventions: column vectors, ``x_parent = R @ x_local + t``. An Euler sequence ``"ZYX"`` with
angles (a, b, c) means ``R = Rz(a) @ Ry(b) @ Rx(c)``, the BVH reading of
``CHANNELS ... Zrotation Yrotation Xrotation`` (intrinsic rotations in the listed order).
"""
from __future__ import annotations

import numpy as np

_AXES = {"X": 0, "Y": 1, "Z": 2}


def axis_rotation(axis: str, angles_rad: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about one principal axis by ``angles_rad`` (...)."""
    if axis not in _AXES:
        raise ValueError(f"unknown rotation axis {axis!r}; expected one of X, Y, Z")
    angles_rad = np.asarray(angles_rad, dtype=np.float64)
    c, s = np.cos(angles_rad), np.sin(angles_rad)
    one, zero = np.ones_like(c), np.zeros_like(c)
    if axis == "X":
        rows = ((one, zero, zero), (zero, c, -s), (zero, s, c))
    elif axis == "Y":
        rows = ((c, zero, s), (zero, one, zero), (-s, zero, c))
    else:
        rows = ((c, -s, zero), (s, c, zero), (zero, zero, one))
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def euler_to_matrix(angles_deg: np.ndarray, sequence: str) -> np.ndarray:
    """``R = R_{sequence[0]}(a0) @ R_{sequence[1]}(a1) @ ...`` for angles (..., len(sequence)) in degrees.

    An empty sequence gives the identity (a joint without rotation channels).
    """
    angles = np.asarray(angles_deg, dtype=np.float64)
    if angles.shape[-1] != len(sequence):
        raise ValueError(f"{angles.shape[-1]} angles for the Euler sequence {sequence!r}")
    rotation = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for k, axis in enumerate(sequence.upper()):
        rotation = rotation @ axis_rotation(axis, np.deg2rad(angles[..., k]))
    return rotation


def forward_kinematics(
    parents: list[int] | tuple[int, ...],
    local_rotations: np.ndarray,
    local_translations: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Global positions (F, J, 3) and rotations (F, J, 3, 3) of a joint tree.

    ``local_rotations`` (F, J, 3, 3) rotate joint j's frame into its parent's; ``local_translations``
    (F, J, 3) or (J, 3) place joint j's origin in its parent's frame (for a root: in the world).
    Parents must come before their children (``parents[j] < j``), as in every BVH file.
    """
    num_joints = len(parents)
    local_rotations = np.asarray(local_rotations, dtype=np.float64)
    frames = local_rotations.shape[0]
    translations = np.broadcast_to(np.asarray(local_translations, dtype=np.float64), (frames, num_joints, 3))
    if local_rotations.shape != (frames, num_joints, 3, 3):
        raise ValueError(f"local_rotations must be (F, {num_joints}, 3, 3), got {local_rotations.shape}")
    positions = np.empty((frames, num_joints, 3))
    rotations = np.empty((frames, num_joints, 3, 3))
    for j, p in enumerate(parents):
        if p >= j:
            raise ValueError(f"joint {j} has parent {p}: parents must precede their children")
        if p < 0:
            rotations[:, j] = local_rotations[:, j]
            positions[:, j] = translations[:, j]
        else:
            rotations[:, j] = rotations[:, p] @ local_rotations[:, j]
            positions[:, j] = positions[:, p] + np.einsum("fab,fb->fa", rotations[:, p], translations[:, j])
    return positions, rotations
