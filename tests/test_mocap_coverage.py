"""Pose-coverage helpers: heading/size invariance, known joint angles, and the figure file."""
from pathlib import Path

import numpy as np

from poselifter_core.mocap.convert import ConvertedClip
from poselifter_core.mocap.coverage import canonical_poses, coverage_figure, joint_angles
from poselifter_core.skeleton import H36M17

J = H36M17.index


def standing(n: int = 1) -> np.ndarray:
    pose = np.zeros((17, 3))
    pose[J("RHip")], pose[J("LHip")] = [-100, 0, 0], [100, 0, 0]
    pose[J("RKnee")], pose[J("LKnee")] = [-100, -400, 0], [100, -400, 0]
    pose[J("RFoot")], pose[J("LFoot")] = [-100, -800, 0], [100, -800, 0]
    pose[J("Spine")], pose[J("Thorax")], pose[J("Neck/Nose")], pose[J("Head")] = [0, 250, 0], [0, 500, 0], [0, 600, 0], [0, 700, 0]
    pose[J("LShoulder")], pose[J("LElbow")], pose[J("LWrist")] = [180, 500, 0], [180, 220, 0], [180, 220, 250]
    pose[J("RShoulder")], pose[J("RElbow")], pose[J("RWrist")] = [-180, 500, 0], [-180, 220, 0], [-180, -30, 0]
    return np.repeat(pose[None], n, axis=0) + [0, 900, 0]


def test_canonical_pose_ignores_heading_position_and_size() -> None:
    pose = standing()
    yaw = np.deg2rad(70)
    turn = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    moved = 1.3 * pose @ turn.T + [500, 0, -2000]
    np.testing.assert_allclose(canonical_poses(moved), canonical_poses(pose), atol=1e-9)


def test_joint_angles_known_answers() -> None:
    angles = joint_angles(standing())
    np.testing.assert_allclose(angles["knee flexion"], [180, 180])
    np.testing.assert_allclose(angles["elbow flexion"], [90, 180])  # left forearm points forward
    np.testing.assert_allclose(angles["trunk lean from vertical"], [0])


def test_coverage_figure_is_written(tmp_path: Path) -> None:
    old = [ConvertedClip("a", standing(5).astype(np.float32))]
    new = [ConvertedClip("b", (standing(50) + np.random.default_rng(0).normal(0, 30, (50, 17, 3))).astype(np.float32))]
    path = tmp_path / "cov.png"
    coverage_figure(old, new, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
