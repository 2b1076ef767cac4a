"""The node's outputs of one processed frame, switched by the live ``output.*`` parameters.

``~/skeletons`` is always published; ``~/markers``, ``~/detections``, ``~/debug_image`` and the
TF body frames have a switch each, and their publishers are created and removed as the switches
change. With ``target_frame`` set and its transform found, skeletons, markers and detections are
expressed in it; the TF body frames always hang off the image's optical frame (TF resolves the
rest).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from poselifter_msgs.msg import Skeleton3DArray
from rclpy.node import Node
from sensor_msgs.msg import Image
from visualization_msgs.msg import MarkerArray

from poselifter_core.rosmsg import outputs
from poselifter_core.rosmsg.body_frames import body_transforms
from poselifter_core.rosmsg.detections3d import detection3d_array
from poselifter_core.rosmsg.frames import Frame
from poselifter_core.rosmsg.images import rgb_to_image_fields
from poselifter_core.rosmsg.rigid import RigidTransform, reframe

from .message_factory import make, message_class
from .node_config import OutputConfig
from .tf_io import BodyFrameBroadcaster, TargetFrameLookup

OUTPUT_QOS_DEPTH = 10
LOG_THROTTLE_S = 5.0
DETECTIONS_TYPE = "vision_msgs/msg/Detection3DArray"


@dataclass
class _Switch:
    """One optional output: its publisher (or broadcaster) while switched on."""

    entity: Any = None


class ResultPublishers:
    """``tf_lookup``: the node's one :class:`TargetFrameLookup`, made on first use (only once
    ``target_frame`` is set)."""

    def __init__(self, node: Node, config: OutputConfig, tf_lookup: Callable[[], TargetFrameLookup]) -> None:
        self._node = node
        self._lock = threading.Lock()
        self.skeletons = node.create_publisher(Skeleton3DArray, "~/skeletons", OUTPUT_QOS_DEPTH)
        self._markers, self._detections, self._debug, self._tf = _Switch(), _Switch(), _Switch(), _Switch()
        self._tf_lookup = tf_lookup
        self._lookup: TargetFrameLookup | None = None
        self.config = config
        self.update(config)

    def update(self, config: OutputConfig) -> None:
        """Create or remove the optional publishers to match ``config``."""
        with self._lock:
            self.config = config
            self._switch(self._markers, config.markers, lambda: self._publisher(MarkerArray, "~/markers"))
            self._switch(self._debug, config.debug_image, lambda: self._publisher(Image, "~/debug_image"))
            self._switch(self._detections, config.detections, self._detections_publisher)
            self._switch(self._tf, config.tf, self._broadcaster)
            if config.target_frame and self._lookup is None:
                self._lookup = self._tf_lookup()
                if self._lookup.unavailable:
                    self._node.get_logger().warning(f"{self._lookup.unavailable}, so target_frame cannot be looked "
                                                    "up; results stay in the image's optical frame")

    def _publisher(self, msg_type: type, topic: str) -> Any:
        return self._node.create_publisher(msg_type, topic, OUTPUT_QOS_DEPTH)

    def _detections_publisher(self) -> Any:
        try:
            return self._publisher(message_class(DETECTIONS_TYPE), "~/detections")
        except ImportError:
            self._node.get_logger().warning("vision_msgs is not installed: ~/detections (Detection3DArray) is not "
                                            "published; install ros-<distro>-vision-msgs")
            return None

    def _broadcaster(self) -> BodyFrameBroadcaster | None:
        try:
            broadcaster = BodyFrameBroadcaster(self._node)
        except RuntimeError as error:
            self._node.get_logger().warning(f"{error}: no TF body frames")
            return None
        self._node.get_logger().info(f"TF body frames through {broadcaster.kind}")
        return broadcaster

    def _switch(self, switch: _Switch, on: bool, create: Any) -> None:
        if on and switch.entity is None:
            switch.entity = create()
        elif not on and switch.entity is not None:
            self._destroy(switch.entity)
            switch.entity = None

    def _destroy(self, entity: Any) -> None:
        if isinstance(entity, BodyFrameBroadcaster):
            entity.destroy()
        else:
            self._node.destroy_publisher(entity)

    def _target(self, frame: Frame) -> tuple[str, RigidTransform | None]:
        """The output frame and the transform into it (None: the optical frame itself)."""
        target = self.config.target_frame
        if not target or target == frame.frame_id or self._lookup is None:
            return frame.frame_id, None
        transform = self._lookup.lookup(target, frame.frame_id, frame.stamp_ns)
        if transform is None:
            self._node.get_logger().warning(f"target_frame {target!r}: {self._lookup.last_error}; publishing in "
                                            f"{frame.frame_id!r}", throttle_duration_sec=LOG_THROTTLE_S)
            return frame.frame_id, None
        return target, transform

    def publish(self, frame: Frame) -> None:
        """Publish a processed frame's result on every output switched on."""
        with self._lock:
            optical_header = outputs.header(make, frame.stamp_ns, frame.frame_id)
            frame_id, transform = self._target(frame)
            result = frame.result if transform is None else reframe(frame.result, transform)
            header = outputs.header(make, frame.stamp_ns, frame_id) if transform is not None else optical_header
            self.skeletons.publish(outputs.skeleton_array(make, result, header))
            if self._markers.entity is not None:
                self._markers.entity.publish(outputs.marker_array(make, result, header, self.config.marker_lifetime_s))
            if self._detections.entity is not None:
                self._detections.entity.publish(detection3d_array(make, frame.result, header, transform))
            if self._tf.entity is not None:
                self._tf.entity.send(body_transforms(make, frame.result, optical_header, self.config.joint_frames))
            if self._debug.entity is not None and frame.image is not None:
                self._debug.entity.publish(_debug_image(frame, optical_header))

    def destroy(self) -> None:
        with self._lock:
            for switch in (self._markers, self._detections, self._debug, self._tf):
                if switch.entity is not None:
                    self._destroy(switch.entity)
                    switch.entity = None
            self._node.destroy_publisher(self.skeletons)


def _debug_image(frame: Frame, header: Any) -> Image:
    from poselifter_core.viz.poses import draw_2d  # OpenCV drawing: only when asked for

    return Image(header=header, **rgb_to_image_fields(draw_2d(frame.image, frame.result)))
