"""Body geometry a track accumulates over time: bone lengths, facing, flips, depth from size.

All functions take root-relative H36M-17 joints (J, 3) in metres in the camera optical frame.
"""
from __future__ import annotations

import math

import numpy as np

from ..skeleton import H36M17

_PARENTS = np.array([p for p, _ in H36M17.bones])
_CHILDREN = np.array([c for _, c in H36M17.bones])
assert np.array_equal(_CHILDREN, np.arange(1, H36M17.num_joints)), "bone b ends at joint b + 1"
#: Bone index of each bone's left/right partner (bone b ends at joint b + 1).
_BONE_MIRROR = H36M17.flip_index[_CHILDREN] - 1
_L_HIP, _R_HIP = H36M17.index("LHip"), H36M17.index("RHip")
_L_SHOULDER, _R_SHOULDER = H36M17.index("LShoulder"), H36M17.index("RShoulder")
_THORAX, _HIP = H36M17.index("Thorax"), H36M17.root
#: Axis permutations of a cross product: (a x b)_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}.
_NEXT, _AFTER_NEXT = np.array([1, 2, 0]), np.array([2, 0, 1])
#: Frames between two refreshes of a full window's median bone lengths.
REFRESH_FRAMES = 5


def norms(vectors: np.ndarray) -> np.ndarray:
    """Euclidean norms over the last axis: ``np.linalg.norm(vectors, axis=-1)``, bit for bit, at
    half its call cost (the tracker's per-frame cost is mostly numpy call overhead)."""
    return np.sqrt(np.add.reduce(vectors * vectors, axis=-1))


def bone_vectors(relative: np.ndarray) -> np.ndarray:
    """(16, 3) each H36M-17 bone, parent to child (the children are joints 1..16: a slice)."""
    return relative[1:] - relative[_PARENTS]


def bone_lengths(relative: np.ndarray) -> np.ndarray:
    """(16,) length of each H36M-17 bone."""
    return norms(bone_vectors(relative))


def bones_observed(observed: np.ndarray) -> np.ndarray:
    """(16,) whether both ends of each bone were observed."""
    return observed[1:] & observed[_PARENTS]


class BoneLengthEstimate:
    """The track's skeleton: per bone, the median of its last ``window`` observed lengths,
    averaged with its left/right partner (a body is symmetric; this halves the noise). Once the
    window is full the median is refreshed every :data:`REFRESH_FRAMES` frames: it moves slowly,
    and sorting the window every frame was the filter's largest cost."""

    def __init__(self, window: int) -> None:
        self.history = np.full((window, len(_CHILDREN)), np.nan)
        self.count = 0
        self._lengths: np.ndarray | None = None
        self._computed_at = 0

    def add(self, relative: np.ndarray, observed: np.ndarray) -> None:
        lengths = np.where(bones_observed(observed), bone_lengths(relative), np.nan)
        self.history[self.count % len(self.history)] = lengths
        self.count += 1

    def lengths(self) -> np.ndarray | None:
        """(16,) current estimate (NaN for a bone never observed), None before any observation."""
        if self.count == 0:
            return None
        if self._lengths is None or self.count <= len(self.history) or self.count - self._computed_at >= REFRESH_FRAMES:
            self._lengths, self._computed_at = self._median(), self.count
        return self._lengths

    def _median(self) -> np.ndarray:
        rows = self.history[:min(self.count, len(self.history))]
        seen = np.isfinite(rows)
        # median of each column over its finite entries (np.nanmedian warns on all-NaN columns)
        ordered = np.sort(np.where(seen, rows, np.inf), axis=0)
        n = seen.sum(axis=0)
        columns = np.arange(rows.shape[1])
        low = ordered[np.maximum((n - 1) // 2, 0), columns]
        high = ordered[np.maximum(n // 2, 0), columns]
        median = np.where(n > 0, (low + high) / 2, np.nan)
        mirrored = median[_BONE_MIRROR]
        return np.where(np.isfinite(mirrored), np.where(np.isfinite(median), (median + mirrored) / 2, mirrored), median)


def _path_matrix() -> np.ndarray:
    """(J, 16): entry [j, b] is 1 when bone b lies on the path from the root to joint j."""
    path = np.zeros((H36M17.num_joints, len(_CHILDREN)))
    for joint in range(H36M17.num_joints):
        node = joint
        while H36M17.parents[node] >= 0:
            path[joint, node - 1] = 1.0  # bone b ends at joint b + 1
            node = H36M17.parents[node]
    return path


_PATH = _path_matrix()


def with_bone_lengths(relative: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The pose with every bone of known length rescaled to it, directions kept, root at 0."""
    vectors = bone_vectors(relative)
    length = norms(vectors)
    positive = length > 1e-9
    scale = np.where(positive & np.isfinite(lengths), lengths / np.where(positive, length, 1.0), 1.0)
    return _PATH @ (vectors * scale[:, None])


def facing(relative: np.ndarray) -> np.ndarray:
    """Unit normal of the torso (hips and shoulders, left-to-right, crossed with the spine):
    the direction the body faces."""
    across = (relative[_L_HIP] - relative[_R_HIP]) + (relative[_L_SHOULDER] - relative[_R_SHOULDER])
    up = relative[_THORAX] - relative[_HIP]
    # the cross product in the input's dtype, elementwise: np.cross, or one numpy scalar at a time,
    # costs several times more for one pair
    normal = across[_NEXT] * up[_AFTER_NEXT] - across[_AFTER_NEXT] * up[_NEXT]
    norm = np.sqrt(normal.dot(normal))  # np.linalg.norm's value without its dispatch
    return normal / norm if norm > 1e-9 else normal


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two unit vectors (180 when either is zero)."""
    ax, ay, az = a
    bx, by, bz = b
    if not ((ax or ay or az) and (bx or by or bz)):
        return 180.0
    return math.degrees(math.acos(max(-1.0, min(1.0, float(ax * bx + ay * by + az * bz)))))  # scalar: numpy is 10x slower


def turned_towards(relative: np.ndarray, reference_facing: np.ndarray, max_deg: float) -> np.ndarray:
    """``relative`` rotated about its spine so that its facing is ``reference_facing`` turned by at
    most ``max_deg`` towards ``relative``'s own facing (unchanged when already that close, or when
    either facing is undefined): a body turns at a bounded rate, a flipped lift does not."""
    up = relative[_THORAX] - relative[_HIP]
    norm = np.linalg.norm(up)
    own = facing(relative)
    if norm < 1e-9 or not np.any(own):
        return relative
    up = up / norm
    reference = reference_facing - np.dot(reference_facing, up) * up  # the reference in the plane of the turn
    if np.linalg.norm(reference) < 1e-6:
        return relative
    reference /= np.linalg.norm(reference)
    angle = float(np.arctan2(np.dot(up, np.cross(reference, own)), np.dot(reference, own)))  # reference -> own
    limit = np.radians(max_deg)
    if abs(angle) <= limit:
        return relative
    rotation = _rotation(up, np.copysign(limit, angle) - angle)
    return relative @ rotation.T


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix by ``angle`` (radians) about the unit ``axis`` (Rodrigues)."""
    x, y, z = axis
    cross = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * cross @ cross


def flip_candidates(relative: np.ndarray) -> dict[str, np.ndarray]:
    """The pose as lifted and its two classic single-view confusions: left/right swapped
    (the 2D detector swapped the sides) and mirrored in depth (facing the camera vs away: both
    project to the same 2D)."""
    return {"none": relative, "left_right": relative[H36M17.flip_index], "depth": relative * np.array([1.0, 1.0, -1.0])}


def depth_from_size(rays: np.ndarray, relative: np.ndarray, observed: np.ndarray) -> float | None:
    """Root depth at which ``relative``'s x/y extent matches the observed 2D extent (weak
    perspective, least squares; Mehta et al.): ``rays`` are focal-normalized image coordinates
    ``((u - cx) / fx, (v - cy) / fy)``. None when fewer than 3 joints or a degenerate extent."""
    p, q = rays[observed], relative[observed, :2]
    if len(p) < 3:
        return None
    p = p - p.mean(axis=0)
    q = q - q.mean(axis=0)
    qq, pq = float(np.vdot(q, q)), float(np.vdot(p, q))
    if qq <= 1e-12 or pq <= 1e-12:
        return None
    return qq / pq
