"""Pose-coverage picture of two H36M-17 world sets: a 2D PCA embedding of heading-normalised,
root-relative, size-normalised poses and histograms of joint angles."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..skeleton import H36M17
from .convert import ConvertedClip

_J = {name: i for i, name in enumerate(H36M17.joint_names)}
#: Angle at the middle joint of each triple, left and right pooled.
ANGLE_TRIPLES: dict[str, list[tuple[str, str, str]]] = {
    "knee flexion": [("LHip", "LKnee", "LFoot"), ("RHip", "RKnee", "RFoot")],
    "hip flexion": [("Thorax", "LHip", "LKnee"), ("Thorax", "RHip", "RKnee")],
    "elbow flexion": [("LShoulder", "LElbow", "LWrist"), ("RShoulder", "RElbow", "RWrist")],
    "shoulder elevation": [("Hip", "LShoulder", "LElbow"), ("Hip", "RShoulder", "RElbow")],
}


def canonical_poses(joints: np.ndarray) -> np.ndarray:
    """Root-relative poses (N, 17, 3), turned about the vertical so the hips face +Z, scaled to unit
    mean bone length: what remains is the pose itself."""
    pose = joints - joints[:, :1]
    across = pose[:, _J["LHip"]] - pose[:, _J["RHip"]]
    yaw = np.arctan2(across[:, 2], across[:, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    x, z = pose[..., 0], pose[..., 2]
    turned = np.stack([c[:, None] * x + s[:, None] * z, pose[..., 1], -s[:, None] * x + c[:, None] * z], axis=-1)
    scale = H36M17.bone_lengths(joints).mean(-1)
    return turned / np.maximum(scale, 1e-6)[:, None, None]


def joint_angles(joints: np.ndarray) -> dict[str, np.ndarray]:
    """Degrees, both sides pooled, for each entry of :data:`ANGLE_TRIPLES` plus trunk lean from vertical."""
    out = {}
    for name, triples in ANGLE_TRIPLES.items():
        values = []
        for a, b, c in triples:
            u = joints[:, _J[a]] - joints[:, _J[b]]
            v = joints[:, _J[c]] - joints[:, _J[b]]
            cos = np.sum(u * v, -1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-9)
            values.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
        out[name] = np.concatenate(values)
    trunk = joints[:, _J["Thorax"]] - joints[:, _J["Hip"]]
    out["trunk lean from vertical"] = np.degrees(np.arccos(np.clip(trunk[:, 1] / np.maximum(np.linalg.norm(trunk, axis=-1), 1e-9), -1, 1)))
    return out


def coverage_figure(old: list[ConvertedClip], new: list[ConvertedClip], path: str | Path,
                    labels: tuple[str, str] = ("old", "new"), max_points: int = 20000, seed: int = 0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    sets = []
    for clips in (old, new):
        if not clips:
            raise ValueError("coverage needs two non-empty sets")
        joints = np.concatenate([c.joints for c in clips]).astype(np.float64)
        if len(joints) > max_points:
            joints = joints[rng.choice(len(joints), max_points, replace=False)]
        sets.append(joints)
    flat = [canonical_poses(j).reshape(len(j), -1) for j in sets]
    union = np.concatenate(flat)
    mean = union.mean(0)
    _, _, vt = np.linalg.svd(union - mean, full_matrices=False)
    embedded = [(f - mean) @ vt[:2].T for f in flat]

    angles = [joint_angles(j) for j in sets]
    names = list(angles[0])
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    colors = ("tab:red", "tab:blue")
    ax = axes[0, 0]
    ax.scatter(*embedded[1].T, s=1, alpha=0.15, color=colors[1], label=f"{labels[1]} ({len(sets[1])} sampled)")
    ax.scatter(*embedded[0].T, s=1, alpha=0.3, color=colors[0], label=f"{labels[0]} ({len(sets[0])} sampled)")
    ax.set_title("PCA of canonical poses\n(root-relative, hips facing +Z, unit mean bone)")
    ax.set_xlabel("PC 1"), ax.set_ylabel("PC 2")
    ax.legend(markerscale=8, loc="best")
    for ax, name in zip(axes.flat[1:], names):
        bins = np.linspace(0, 180, 61)
        for k in (1, 0):
            ax.hist(angles[k][name], bins=bins, density=True, histtype="step" if k == 0 else "stepfilled",
                    alpha=1.0 if k == 0 else 0.4, color=colors[k], linewidth=1.5, label=labels[k])
        ax.set_title(f"{name} (deg)")
        ax.legend()
    fig.suptitle(f"Pose coverage: {labels[0]} ({sum(len(c.joints) for c in old)} frames) vs "
                 f"{labels[1]} ({sum(len(c.joints) for c in new)} frames)")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
