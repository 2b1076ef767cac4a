"""The node's settings: the core's config dataclasses plus the node's own, one ROS parameter per
leaf setting with a dotted name (``cascade.min_joint_score``, as ``poselifter bag --set`` names
them), its description, range and whether it is live (``ros2 param set`` while running) or
read-only (read when the node configures: models, backend, input topology).

``config/pose3d.yaml`` is generated from here (``python -m poselifter_ros.node_config >
config/pose3d.yaml``); tests/test_node_config.py fails when the two disagree.
"""
from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any

import yaml

from poselifter_core.cascade import CascadeConfig
from poselifter_core.rosmsg.floor_tf import floor_frame_setting
from poselifter_core.rosmsg.frames import FrameConfig
from poselifter_core.runtime.factory import BACKEND_SETTINGS
from poselifter_core.settings import SettingSpec, setting, setting_specs


@dataclass
class InputConfig:
    compressed: bool = setting(False, "Subscribe to '<image>/compressed' (sensor_msgs/CompressedImage, jpeg/png; "
                               "image_transport naming) instead of 'image' (sensor_msgs/Image)", live=False)
    expected_rate: float = setting(0.0, "Expected rate of processed frames [Hz]: /diagnostics warns when the rate "
                                   "falls below it by more than rate_tolerance; 0: no check", low=0.0, high=1000.0)
    rate_tolerance: float = setting(0.1, "Fraction of expected_rate the processed rate may fall short of",
                                    low=0.0, high=1.0)


@dataclass
class OutputConfig:
    markers: bool = setting(True, "Publish ~/markers (visualization_msgs/MarkerArray) for RViz")
    marker_lifetime_s: float = setting(0.5, "Markers vanish this long after the last update [s]; 0: never",
                                       low=0.0, high=60.0)
    debug_image: bool = setting(False, "Publish ~/debug_image: the image with the 2D skeletons drawn")
    detections: bool = setting(True, "Publish ~/detections (vision_msgs/Detection3DArray): one detection per "
                               "person, box around the joints, root pose with covariance")
    tf: bool = setting(False, "Broadcast a TF frame body_<id> per person at the root (pelvis), parented to the "
                       "image's frame, x forward and z up (REP-155)")
    joint_frames: bool = setting(False, "With tf: also a frame <link>_<id> per valid joint (REP-155 link names: "
                                 "l_knee, torso, head, ...), parented to body_<id>")
    target_frame: str = setting("", "Express skeletons, markers and detections in this frame (TF lookup at the "
                                "image stamp); '': the image's optical frame")


@dataclass
class NodeConfig:
    backend: str = setting("auto", "Inference backend for every model: auto picks TensorRT (NVIDIA GPU), else ONNX "
                           "Runtime CUDA, else ONNX Runtime CPU; torch needs torch models (MoveNet is ONNX only)",
                           choices=BACKEND_SETTINGS, live=False)
    lifter: str = setting("", "Lifter checkpoint (.pt) or ONNX file; '': the shipped default lifter", live=False)
    pose2d: str = setting("", "2D model: MoveNet MultiPose .onnx, an exported top-down .onnx, a train-2d checkpoint "
                          "or an ONNX keypoint-model .yaml; '': the shipped MoveNet", live=False)
    autostart: bool = setting(True, "Configure and activate at start-up (as a plain node); false: wait for the "
                              "lifecycle change_state service", live=False)
    diagnostics_period_s: float = setting(1.0, "Period of the /diagnostics status [s]", low=0.1, high=60.0,
                                          live=False)
    floor_frame: str = floor_frame_setting()
    frame: FrameConfig = field(default_factory=FrameConfig)
    cascade: CascadeConfig = field(default_factory=CascadeConfig)
    input: InputConfig = field(default_factory=InputConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


def parameter_specs() -> list[SettingSpec]:
    """Every node parameter, in declaration order."""
    return setting_specs(NodeConfig)


def ros_value(value: Any) -> Any:
    """A setting's value as a ROS parameter value: tuples become lists, and an empty list of
    strings ``[""]`` (ROS cannot type an empty list; the config drops empty strings)."""
    if isinstance(value, (list, tuple)):
        return list(value) or [""]
    return value


def _yaml_value(value: Any) -> str:
    return yaml.safe_dump([ros_value(value)], default_flow_style=True, width=1000).strip()[1:-1]


def params_yaml(node_key: str = "/**") -> str:
    """The params file of every parameter at its default, commented with its description."""
    lines = ["# Parameters of pose3d_node: every one, at its default. GENERATED from the config dataclasses",
             "# (poselifter_ros/node_config.py, FrameConfig, CascadeConfig) by",
             "#     python -m poselifter_ros.node_config > config/pose3d.yaml",
             "# [live]: `ros2 param set` changes it while the node runs; [read-only]: read when the node",
             "# configures. Ranges: `ros2 param describe /pose3d <name>`. Input QoS: qos_overrides.* (docs/ros.md).",
             f"{node_key}:", "  ros__parameters:"]
    sections: list[str] = []
    for spec in parameter_specs():
        *path, leaf = spec.name.split(".")
        for depth, section in enumerate(path):
            if sections[:depth + 1] != path[:depth + 1]:
                lines.append(f"{'  ' * (depth + 2)}{section}:")
        sections = path
        indent = "  " * (len(path) + 2)
        text = f"[{'live' if spec.live else 'read-only'}] {spec.description}"
        if spec.choices:
            text += f" (one of: {', '.join(spec.choices)})"
        lines += textwrap.wrap(text, 110, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# ")
        lines.append(f"{indent}{leaf}: {_yaml_value(spec.default)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(params_yaml())
