"""The node's parameters: one dataclass field each, with the description and range ROS declares.

Every parameter is read-only (set it in ``config/pose3d.yaml`` or on the command line): the
models and the synchronizer are built once at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from poselifter_core.cascade import CascadeConfig
from poselifter_core.rosmsg.frames import MODES, FrameConfig
from poselifter_core.runtime.backend import BACKEND_SETTINGS


def _param(default: Any, description: str, low: float | None = None, high: float | None = None,
           choices: tuple[str, ...] = ()) -> Any:
    spec = {"description": description, "range": (low, high), "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=spec)
    return field(default=default, metadata=spec)


@dataclass
class NodeConfig:
    mode: str = _param("bottom_up", "Input mode: bottom_up (image; the 2D stage finds people), top_down (image + "
                       "vision_msgs/Detection2DArray on 'detections'), keypoints (poselifter_msgs/Keypoints2DArray "
                       "on 'keypoints' from your own 2D detector; lifter only)", choices=MODES)
    backend: str = _param("auto", "Inference backend for every model: auto picks TensorRT (NVIDIA GPU), else ONNX "
                          "Runtime CUDA, else ONNX Runtime CPU; torch needs torch models (MoveNet is ONNX only)",
                          choices=BACKEND_SETTINGS)
    lifter_model: str = _param("", "Lifter checkpoint (.pt) or ONNX file; empty: the shipped default lifter")
    pose2d_model: str = _param("", "2D model: MoveNet MultiPose .onnx, an exported top-down .onnx, a train-2d "
                               "checkpoint or an ONNX keypoint-model .yaml; empty: the shipped MoveNet")
    compressed_input: bool = _param(False, "Subscribe to 'image' as sensor_msgs/CompressedImage (jpeg/png) "
                                    "instead of sensor_msgs/Image")
    reliable_input: bool = _param(False, "Subscribe to the inputs with RELIABLE instead of the sensor-data default "
                                  "BEST_EFFORT (keep last sync_queue_size either way). Only for publishers that are "
                                  "reliable: large best-effort images can lose fragments in DDS")
    use_projection_matrix: bool = _param(False, "Read focal length and principal point from CameraInfo P "
                                         "(rectified images, e.g. image_rect) instead of K (raw images)")
    require_camera_info: bool = _param(True, "Skip frames until a valid CameraInfo arrives; false: assume "
                                       "default_hfov_deg and publish with metric_depth = false")
    default_hfov_deg: float = _param(60.0, "Horizontal field of view assumed without CameraInfo [deg]", 1.0, 179.0)
    min_person_score: float = _param(0.2, "Skip people whose 2D person score is below this", 0.0, 1.0)
    min_joint_score: float = _param(0.3, "A joint is valid when its 2D score reaches this", 0.0, 1.0)
    min_valid_joints: int = _param(13, "Skip people with fewer valid joints than this (of 17)", 1, 17)
    detection_class_ids: list = _param([""], "top_down: class ids counted as people (e.g. ['person'] or ['0']); "
                                       "[''] accepts every detection")
    min_detection_score: float = _param(0.0, "top_down: skip detections scored below this", 0.0, 1.0)
    sync_slop_s: float = _param(0.02, "Largest stamp difference paired by the synchronizer [s]", 0.0, 1.0)
    sync_queue_size: int = _param(5, "Messages held per input stream while waiting for a match", 1, 100)
    publish_markers: bool = _param(True, "Publish ~/markers (visualization_msgs/MarkerArray) for RViz")
    marker_lifetime_s: float = _param(0.5, "Markers vanish this long after the last update [s]; 0: never", 0.0, 60.0)
    publish_debug_image: bool = _param(False, "Publish ~/debug_image: the image with the 2D skeletons drawn")
    diagnostics_period_s: float = _param(1.0, "Period of the /diagnostics status [s]", 0.1, 60.0)

    def frame_config(self) -> FrameConfig:
        class_ids = tuple(c for c in self.detection_class_ids if c)
        return FrameConfig(mode=self.mode, use_projection=self.use_projection_matrix,
                           require_camera_info=self.require_camera_info, detection_class_ids=class_ids,
                           min_detection_score=self.min_detection_score, sync_slop_s=self.sync_slop_s,
                           sync_queue_size=self.sync_queue_size)

    def cascade_config(self) -> CascadeConfig:
        return CascadeConfig(min_person_score=self.min_person_score, min_joint_score=self.min_joint_score,
                             min_valid_joints=self.min_valid_joints, default_hfov_deg=self.default_hfov_deg)


def parameter_specs() -> list[tuple[str, Any, dict]]:
    """``(name, default, metadata)`` for every parameter, in declaration order."""
    defaults = NodeConfig()
    return [(f.name, getattr(defaults, f.name), dict(f.metadata)) for f in fields(NodeConfig)]


def check_choices(config: NodeConfig) -> None:
    """Raise ValueError for a string parameter outside its choices (ROS ranges cover numbers only)."""
    for name, _, spec in parameter_specs():
        value = getattr(config, name)
        if spec["choices"] and value not in spec["choices"]:
            raise ValueError(f"parameter {name!r} must be one of {list(spec['choices'])}, got {value!r}")
