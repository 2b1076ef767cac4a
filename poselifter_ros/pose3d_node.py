"""``pose3d_node``: camera images (+ CameraInfo, + detections or external 2D keypoints) in,
absolute 3D skeletons out.

Threads: the executor thread only pairs messages by timestamp (cheap); a worker thread decodes the
image and runs the cascade on the newest complete set (see :mod:`.latest_slot`), so slow
inference never blocks the subscriptions nor builds a backlog. A bad message is logged
(throttled), counted in /diagnostics and skipped; it never stops the node and never yields a
published pose.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from visualization_msgs.msg import MarkerArray

from poselifter_core.images import rgb_to_image_fields
from poselifter_core.infer import build_cascade
from poselifter_core.rosmsg import outputs
from poselifter_core.rosmsg.frames import Frame, FrameProcessor
from poselifter_core.sync import Match
from poselifter_msgs.msg import Keypoints2DArray, Skeleton3DArray

from .latest_slot import LatestSlot
from .message_factory import make
from .node_config import NodeConfig, check_choices, parameter_specs
from .node_stats import NodeStats

NODE_NAME = "pose3d"
LOG_THROTTLE_S = 5.0
OUTPUT_QOS_DEPTH = 10


def _descriptor(default: Any, spec: dict) -> ParameterDescriptor:
    description = spec["description"]
    if spec["choices"]:
        description += f" (one of: {', '.join(spec['choices'])})"
    descriptor = ParameterDescriptor(description=description, read_only=True)
    low, high = spec["range"]
    if low is not None and isinstance(default, int) and not isinstance(default, bool):
        descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
    elif low is not None and isinstance(default, float):
        descriptor.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)]
    return descriptor


class _RosLogHandler(logging.Handler):
    """Forwards the core's Python log records (e.g. which backend each model runs on, and why) to
    the node's ROS logger, so they reach the console and /rosout like the node's own."""

    def __init__(self, node: Node) -> None:
        super().__init__(logging.INFO)
        self.node = node

    def emit(self, record: logging.LogRecord) -> None:
        logger = self.node.get_logger()
        log = logger.error if record.levelno >= logging.ERROR else (
            logger.warning if record.levelno >= logging.WARNING else logger.info)
        log(f"{record.name}: {record.getMessage()}")


class Pose3DNode(Node):
    def __init__(self, node_name: str = NODE_NAME, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._log_handler = _RosLogHandler(self)
        core_log = logging.getLogger("poselifter_core")
        core_log.setLevel(logging.INFO)
        core_log.addHandler(self._log_handler)
        self.config = self._declare_parameters()
        cascade = build_cascade(self.config.lifter_model or None, self.config.pose2d_model or None,
                                self.config.cascade_config(), self.config.backend,
                                lift_only=self.config.mode == "keypoints")
        self.processor = FrameProcessor(cascade, self.config.frame_config())
        self.slot: LatestSlot[Match] = LatestSlot()
        self.stats = NodeStats()

        self.skeleton_pub = self.create_publisher(Skeleton3DArray, "~/skeletons", OUTPUT_QOS_DEPTH)
        self.marker_pub = (self.create_publisher(MarkerArray, "~/markers", OUTPUT_QOS_DEPTH)
                           if self.config.publish_markers else None)
        self.debug_pub = (self.create_publisher(Image, "~/debug_image", OUTPUT_QOS_DEPTH)
                          if self.config.publish_debug_image else None)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", OUTPUT_QOS_DEPTH)
        self._subscribe()
        self.create_timer(self.config.diagnostics_period_s, self._publish_diagnostics)
        self._worker = threading.Thread(target=self._work, name="pose3d_inference", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"mode {self.config.mode}, backend {self.config.backend}; publishing {self.skeleton_pub.topic_name}")

    def _declare_parameters(self) -> NodeConfig:
        values = {name: self.declare_parameter(name, default, _descriptor(default, spec)).value
                  for name, default, spec in parameter_specs()}
        config = NodeConfig(**values)
        check_choices(config)
        return config

    def _input_qos(self) -> QoSProfile:
        """Sensor-data QoS (best effort, volatile, keep last), reliable on request."""
        reliability = ReliabilityPolicy.RELIABLE if self.config.reliable_input else qos_profile_sensor_data.reliability
        return QoSProfile(history=qos_profile_sensor_data.history, depth=self.config.sync_queue_size,
                          reliability=reliability, durability=qos_profile_sensor_data.durability)

    def _subscribe(self) -> None:
        mode, qos = self.config.mode, self._input_qos()
        if mode == "keypoints":
            self.create_subscription(Keypoints2DArray, "keypoints", lambda m: self._on_input("keypoints", m), qos)
        else:
            image_type = CompressedImage if self.config.compressed_input else Image
            self.create_subscription(image_type, "image", lambda m: self._on_input("image", m), qos)
        if mode == "top_down":
            from vision_msgs.msg import Detection2DArray  # only top-down mode needs vision_msgs

            self.create_subscription(Detection2DArray, "detections", lambda m: self._on_input("detections", m), qos)
        self.create_subscription(CameraInfo, "camera_info", lambda m: self._on_input("camera_info", m), qos)

    # Executor thread: pair messages, hand complete sets to the worker.
    def _on_input(self, stream: str, message: Any) -> None:
        try:
            matches = self.processor.add(stream, message)
        except ValueError as error:  # only a rejected CameraInfo raises
            self.stats.count(f"{stream}_rejected")
            self.get_logger().warning(f"{error}; keeping the previous CameraInfo",
                                      throttle_duration_sec=LOG_THROTTLE_S)
            return
        for match in matches:
            self.slot.put(match)

    # Worker thread: decode, run the cascade, publish.
    def _work(self) -> None:
        while True:
            match = self.slot.take()
            if match is None:  # closed
                return
            try:
                self._process(match)
            except Exception as error:  # noqa: BLE001 - one frame's unexpected failure must not stop the node
                self.stats.skip_frame(f"internal error ({type(error).__name__})")
                self.get_logger().error(f"frame {match.stamp_ns} failed: {error!r}", throttle_duration_sec=LOG_THROTTLE_S)

    def _process(self, match: Match) -> None:
        started = time.perf_counter()
        frame = self.processor.process(match)
        if frame.error_kind:
            self.stats.skip_frame(frame.error_kind)
            self.get_logger().warning(f"frame skipped, {frame.error_kind}: {frame.error}",
                                      throttle_duration_sec=LOG_THROTTLE_S)
            return
        header = outputs.header(make, frame.stamp_ns, frame.frame_id)
        self.skeleton_pub.publish(outputs.skeleton_array(make, frame.result, header))
        if self.marker_pub is not None:
            self.marker_pub.publish(outputs.marker_array(make, frame.result, header, self.config.marker_lifetime_s))
        if self.debug_pub is not None and frame.image is not None:
            self.debug_pub.publish(self._debug_image(frame, header))
        now_ns = self.get_clock().now().nanoseconds
        self.stats.frame_done(len(frame.result.people), frame.skipped, (now_ns - frame.stamp_ns) / 1e6,
                              1000 * (time.perf_counter() - started))

    @staticmethod
    def _debug_image(frame: Frame, header: Any) -> Image:
        from poselifter_core.viz.poses import draw_2d  # matplotlib-backed module: only when asked for

        return Image(header=header, **rgb_to_image_fields(draw_2d(frame.image, frame.result)))

    def _publish_diagnostics(self) -> None:
        waiting = self.config.require_camera_info and not self.processor.has_camera_info()
        status = self.stats.status(f"{self.get_name()}: pose3d pipeline", self.slot.dropped,
                                   self.processor.synchronizer.stats, waiting)
        self.diagnostics_pub.publish(DiagnosticArray(header=outputs.header(
            make, self.get_clock().now().nanoseconds, ""), status=[status]))

    def destroy_node(self) -> None:
        self.slot.close()
        self._worker.join(timeout=5.0)
        logging.getLogger("poselifter_core").removeHandler(self._log_handler)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    node = None
    try:
        node = Pose3DNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as error:  # noqa: BLE001 - start-up errors (bad parameter, missing model) end the process clearly
        print(f"pose3d_node: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
