"""Shared fixtures: small generated world-mocap files (no dependency on ../shared)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from poselifter_core.camera import project
from poselifter_core.cli import data as data_cli
from poselifter_core.floor import ANKLES
from poselifter_core.skeleton import H36M17

# A plausible standing T-ish pose (world mm, Y up), H36M-17 order.
REST_POSE = np.array([
    [0, 950, 0], [-120, 950, 0], [-125, 520, 20], [-130, 90, 0], [120, 950, 0], [125, 520, 20], [130, 90, 0],
    [0, 1180, 0], [0, 1420, 0], [0, 1520, 20], [0, 1680, 0], [170, 1400, 0], [420, 1390, 0], [660, 1380, 0],
    [-170, 1400, 0], [-420, 1390, 0], [-660, 1380, 0],
], dtype=np.float64)


def synthetic_motion(frames: int, seed: int, scale: float = 1.0) -> np.ndarray:
    """Frames of the rest pose with swinging limbs, walking along X: (F, 17, 3) world mm."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, frames)
    poses = np.repeat(REST_POSE[None] * scale, frames, axis=0)
    for joint in (12, 13, 15, 16, 2, 3, 5, 6):
        phase = rng.uniform(0, 2 * np.pi)
        amplitude = rng.uniform(50, 250)
        poses[:, joint, 2] += amplitude * np.sin(t * rng.integers(1, 4) + phase)
        poses[:, joint, 1] += 0.3 * amplitude * np.cos(t + phase)
    poses[:, :, 0] += np.linspace(0, 1500, frames)[:, None]
    return poses.astype(np.float32)


#: The intrinsics of the mounted camera of the floor helpers below (1280x720).
MOUNTED_K = np.array([800.0, 800.0, 640.0, 360.0])
#: A camera mount and image size for MOUNTED_K (the floor tests': camera 1.5 m up, looking 10 deg down).
MOUNTED_AT = {"camera_height_m": 1.5, "camera_pitch_deg": 10.0, "camera_roll_deg": 2.0}
MOUNTED_IMAGE = (1280, 720)


def world_to_camera(height_m: float, pitch_deg: float, roll_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation (world Y-up, Z forward -> optical frame) and camera centre, written independently of
    FloorPlane.from_mount: a level camera, pitched down about its x axis, then rolled about z."""
    p, r = np.radians(pitch_deg), np.radians(roll_deg)
    level = np.diag([1.0, -1.0, 1.0])  # world x right, y up, z forward -> camera x right, y down, z forward
    pitch = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])  # look down by p
    roll = np.array([[np.cos(r), np.sin(r), 0], [-np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return roll @ pitch @ level, np.array([0.0, height_m, 0.0])


def standing_person(size: float, distance_m: float, side_m: float = 0.3, swing_m: float = 0.0) -> np.ndarray:
    """(17, 3) world metres (Y up): a mocap pose scaled by ``size`` with its lower ankle 0.08 m above
    the floor, the other ankle ``swing_m`` higher."""
    pose = synthetic_motion(1, seed=3)[0].astype(np.float64) / 1000.0
    pose = (pose - pose[0]) * size
    right, left = ANKLES
    pose[left, 1] = pose[right, 1] + swing_m
    pose[:, 1] -= pose[[right, left], 1].min() - 0.08
    return pose + np.array([side_m, 0.0, distance_m])


def camera_view(world: np.ndarray, height_m: float, pitch_deg: float, roll_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """World points seen by the camera at that mount: (camera-frame metres, MOUNTED_K pixels)."""
    rotation, centre = world_to_camera(height_m, pitch_deg, roll_deg)
    camera = (world - centre) @ rotation.T
    return camera, project(camera[None], MOUNTED_K[None])[0]


def run_data_cli(*argv: str) -> int:
    """``poselifter data <argv>`` in this process; returns the command's exit status."""
    parser = argparse.ArgumentParser(prog="poselifter")
    data_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", *argv])
    return args.func(args)


def write_world_mocap(path: Path, clips: dict[str, tuple[str, np.ndarray]]) -> Path:
    np.savez(path, joint_names=np.array(H36M17.joint_names), parents=np.array(H36M17.parents),
             **{clip: joints for clip, (_, joints) in clips.items()})
    meta = {"clips": {clip: {"subject": subject, "fps": 30.0, "frames": len(joints)}
                      for clip, (subject, joints) in clips.items()}}
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


@pytest.fixture(scope="session")
def mocap_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("mocap")
    clips = {"s1_a": ("s1", synthetic_motion(240, 1)), "s2_a": ("s2", synthetic_motion(240, 2, 0.95)),
             "s3_a": ("s3", synthetic_motion(120, 3, 1.05))}
    return write_world_mocap(directory / "tiny_world_mm.npz", clips)
