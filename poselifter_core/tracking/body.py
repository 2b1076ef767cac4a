"""Body geometry a track accumulates over time: bone lengths, facing, flips, depth from size.

All functions take root-relative H36M-17 joints (J, 3) in metres in the camera optical frame.
"""
from __future__ import annotations

import numpy as np

from ..skeleton import H36M17

_PARENTS = np.array([p for p, _ in H36M17.bones])
_CHILDREN = np.array([c for _, c in H36M17.bones])
#: Bone index of each bone's left/right partner (bone b ends at joint b + 1).
_BONE_MIRROR = H36M17.flip_index[_CHILDREN] - 1
_L_HIP, _R_HIP = H36M17.index("LHip"), H36M17.index("RHip")
_L_SHOULDER, _R_SHOULDER = H36M17.index("LShoulder"), H36M17.index("RShoulder")
_THORAX, _HIP = H36M17.index("Thorax"), H36M17.root
#: Frames between two refreshes of a full window's median bone lengths.
REFRESH_FRAMES = 5


def bone_lengths(relative: np.ndarray) -> np.ndarray:
    """(16,) length of each H36M-17 bone."""
    return np.linalg.norm(relative[_CHILDREN] - relative[_PARENTS], axis=-1)


def bones_observed(observed: np.ndarray) -> np.ndarray:
    """(16,) whether both ends of each bone were observed."""
    return observed[_CHILDREN] & observed[_PARENTS]


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
    vectors = relative[_CHILDREN] - relative[_PARENTS]
    norms = np.linalg.norm(vectors, axis=-1)
    scale = np.where((norms > 1e-9) & np.isfinite(lengths), lengths / np.where(norms > 1e-9, norms, 1.0), 1.0)
    return _PATH @ (vectors * scale[:, None])


def facing(relative: np.ndarray) -> np.ndarray:
    """Unit normal of the torso (hips and shoulders, left-to-right, crossed with the spine):
    the direction the body faces."""
    across = (relative[_L_HIP] - relative[_R_HIP]) + (relative[_L_SHOULDER] - relative[_R_SHOULDER])
    up = relative[_THORAX] - relative[_HIP]
    normal = np.array([across[1] * up[2] - across[2] * up[1], across[2] * up[0] - across[0] * up[2],
                       across[0] * up[1] - across[1] * up[0]])  # np.cross costs 10x more for one pair
    norm = np.linalg.norm(normal)
    return normal / norm if norm > 1e-9 else normal


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two unit vectors (180 when either is zero)."""
    cos = float(np.dot(a, b))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))) if np.any(a) and np.any(b) else 180.0


def flip_candidates(relative: np.ndarray) -> dict[str, np.ndarray]:
    """The pose as lifted and its two classic single-view confusions: left/right swapped
    (the 2D detector swapped the sides) and mirrored in depth (facing the camera vs away: both
    project to the same 2D)."""
    return {"none": relative, "left_right": relative[H36M17.flip_index], "depth": relative * np.array([1.0, 1.0, -1.0])}


def depth_from_size(rays: np.ndarray, relative: np.ndarray, observed: np.ndarray) -> float | None:
    """Root depth at which ``relative``'s x/y extent matches the observed 2D extent (weak
    perspective, least squares; Mehta et al.): ``rays`` are focal-normalized image coordinates
    ``((u - cx) / fx, (v - cy) / fy)``. None when fewer than 3 joints or a degenerate extent."""
    if observed.sum() < 3:
        return None
    p = rays[observed] - rays[observed].mean(axis=0)
    q = relative[observed, :2] - relative[observed, :2].mean(axis=0)
    qq = float((q * q).sum())
    pq = float((p * q).sum())
    if qq <= 1e-12 or pq <= 1e-12:
        return None
    return qq / pq
