"""``pose3d_node``: camera images (+ CameraInfo, + detections or external 2D keypoints) in,
absolute 3D skeletons out; a lifecycle node.

Lifecycle: *configure* reads the parameters and loads the models, *activate* subscribes to the
inputs, *deactivate* unsubscribes (the models stay loaded), *cleanup* unloads them. With
``autostart`` (the default) the node configures and activates itself at start-up, as a plain
node would; a failed start-up ends the process with the reason.

Threads: the executor thread only pairs messages by timestamp (cheap); a worker thread decodes the
image and runs the cascade on the newest complete set (see :mod:`.latest_slot`), so slow
inference never blocks the subscriptions nor builds a backlog. A bad message is logged
(throttled), counted in /diagnostics and skipped; it never stops the node and never yields a
published pose.

Camera mount from TF (``floor_frame`` set): before each frame, the worker looks up the transform
from the image's frame to ``floor_frame`` at the image's stamp and turns it into the cascade's
mount (:mod:`poselifter_core.rosmsg.floor_tf`, shared with ``poselifter bag``), which replaces the
``cascade.floor`` height, pitch and roll for that frame. Counted per frame in /diagnostics:
``frames_floor_from_tf``; ``frames_floor_no_tf`` (no transform: tf2_ros missing, the frame
unknown to TF, extrapolation) and ``frames_floor_tf_refused`` (a mount the floor cannot take: the
camera below the floor frame, upside down), both of which fall back to the parameters.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from poselifter_msgs.msg import Keypoints2DArray
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from poselifter_core.cascade import LOOK_FAILED
from poselifter_core.floor import FloorConfig, mount_moved
from poselifter_core.infer import build_cascade
from poselifter_core.rosmsg import outputs
from poselifter_core.rosmsg.floor_tf import floor_fallback, floor_from_tf
from poselifter_core.rosmsg.frames import FrameProcessor
from poselifter_core.rosmsg.sync import Match

from .latest_slot import LatestSlot
from .message_factory import make
from .node_config import NodeConfig
from .node_stats import NodeStats, StatusContext
from .parameters import ParameterGuard, declare, read_config
from .result_outputs import ResultPublishers
from .tf_io import TargetFrameLookup

NODE_NAME = "pose3d"
LOG_THROTTLE_S = 5.0
#: Warned while ``cascade.floor`` is set but the frame's intrinsics are assumed: the floor's rays
#: need the true focal length, so the cascade leaves it out (silently, before this warning).
FLOOR_UNUSED = "cascade.floor.camera_height_m is set but the floor is not used"
DIAGNOSTICS_QOS_DEPTH = 10
#: image_transport's name for the compressed variant of an image topic.
COMPRESSED_SUFFIX = "/compressed"


class _RosLogHandler(logging.Handler):
    """Forwards the core's Python log records (e.g. which backend each model runs on, and why) to
    the node's ROS logger, so they reach the console and /rosout like the node's own."""

    def __init__(self, node: Node) -> None:
        super().__init__(logging.INFO)
        self.node = node

    def emit(self, record: logging.LogRecord) -> None:
        logger, text = self.node.get_logger(), f"{record.name}: {record.getMessage()}"
        # One call site per severity: rclpy refuses a call site whose severity changes.
        if record.levelno >= logging.ERROR:
            logger.error(text)
        elif record.levelno >= logging.WARNING:
            logger.warning(text)
        else:
            logger.info(text)


class Pose3DNode(LifecycleNode):
    def __init__(self, node_name: str = NODE_NAME, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._log_handler = _RosLogHandler(self)
        core_log = logging.getLogger("poselifter_core")
        core_log.setLevel(logging.INFO)
        core_log.addHandler(self._log_handler)
        declare(self)
        self.config = read_config(self)  # a bad choice fails the start-up here
        self.stats = NodeStats()
        self.slot: LatestSlot[Match] = LatestSlot()
        self.processor: FrameProcessor | None = None
        self.outputs: ResultPublishers | None = None
        self._inputs: list[Any] = []
        self._active = False
        self._camera_frame = ""
        self._tf: TargetFrameLookup | None = None  # one TF buffer and listener per node, made on first use
        self._floor_lookup: TargetFrameLookup | None = None  # the lookup, once floor_frame was set
        self._floor_problem = ""  # why the last frame had no floor_frame mount (for /diagnostics)
        self.configure_error = ""
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", DIAGNOSTICS_QOS_DEPTH)
        self.create_timer(self.config.diagnostics_period_s, self._publish_diagnostics)
        self._worker = threading.Thread(target=self._work, name="pose3d_inference", daemon=True)
        self._worker.start()
        ParameterGuard(self, self._apply)
        if self.config.autostart:
            if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                raise RuntimeError(self.configure_error)
            self.trigger_activate()

    # Lifecycle transitions (executor thread).
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self.config = config = read_config(self)
            cascade = build_cascade(config.lifter or None, config.pose2d or None, config.cascade, config.backend,
                                    lift_only=config.frame.mode == "keypoints")
        except (OSError, ValueError, RuntimeError) as error:
            self.configure_error = f"{type(error).__name__}: {error}"
            self.get_logger().error(f"configure failed: {self.configure_error}")
            return TransitionCallbackReturn.FAILURE
        self.processor = FrameProcessor(cascade, config.frame)
        self.outputs = ResultPublishers(self, config.output, self._tf_lookup)
        self._watch_floor_frame(config)
        self.get_logger().info(f"configured: mode {config.frame.mode}, backend {config.backend}; "
                               f"publishing {self.outputs.skeletons.topic_name}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._subscribe()
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        self._inputs = []
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.outputs is not None:
            self.outputs.destroy()
        self.processor, self.outputs = None, None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._active:
            self.on_deactivate(state)
        return self.on_cleanup(state)

    def _apply(self, config: NodeConfig) -> None:
        """A live parameter changed: hand the new settings to the parts that use them. A camera
        mount (``cascade.floor``) that moved or was switched off makes the tracks forget their
        learned floor ratios (:func:`poselifter_core.floor.mount_moved`; the tracker also follows
        the mount of each frame, but cannot tell a floor switched off from a frame without TF)."""
        before, self.config = self.config, config
        if self.processor is not None:
            if mount_moved(before.cascade.floor, config.cascade.floor):
                self.processor.tracker.forget_floor_sizes()
            self.processor.reconfigure(config.frame)
            self.processor.cascade.reconfigure(config.cascade)
        if self.outputs is not None:
            self.outputs.update(config.output)
        self._watch_floor_frame(config)

    def _tf_lookup(self) -> TargetFrameLookup:
        """The node's TF lookup (a tf2_ros Buffer and TransformListener), made on first use."""
        if self._tf is None:
            self._tf = TargetFrameLookup(self)
        return self._tf

    def _watch_floor_frame(self, config: NodeConfig) -> None:
        """Once ``floor_frame`` is set (at start-up or live): the TF lookup, and a warning when
        there is none (no tf2_ros)."""
        if config.floor_frame and self._floor_lookup is None:
            self._floor_lookup = self._tf_lookup()
            if self._floor_lookup.unavailable:
                self.get_logger().warning(f"{self._floor_lookup.unavailable}, so floor_frame cannot be looked up; every "
                                          f"frame uses {floor_fallback(config.cascade.floor)} (counted as frames_floor_no_tf)")

    def _input_qos(self) -> QoSProfile:
        """Sensor-data QoS (best effort, volatile, keep last sync_queue_size); every policy can be
        overridden per topic with the qos_overrides.<topic>.subscription.* parameters."""
        return QoSProfile(history=qos_profile_sensor_data.history, depth=self.config.frame.sync_queue_size,
                          reliability=qos_profile_sensor_data.reliability,
                          durability=qos_profile_sensor_data.durability)

    def _subscribe(self) -> None:
        mode = self.config.frame.mode
        streams: list[tuple[str, type, str]] = [("camera_info", CameraInfo, "camera_info")]
        if mode == "keypoints":
            streams.append(("keypoints", Keypoints2DArray, "keypoints"))
        elif self.config.input.compressed:
            streams.append(("image", CompressedImage, self.resolve_topic_name("image") + COMPRESSED_SUFFIX))
        else:
            streams.append(("image", Image, "image"))
        if mode == "top_down":
            from vision_msgs.msg import Detection2DArray  # only top-down mode needs vision_msgs

            streams.append(("detections", Detection2DArray, "detections"))
        overrides = QoSOverridingOptions.with_default_policies()
        self._inputs = [self.create_subscription(msg_type, topic, lambda m, s=stream: self._on_input(s, m),
                                                 self._input_qos(), qos_overriding_options=overrides)
                        for stream, msg_type, topic in streams]

    # Executor thread: pair messages, hand complete sets to the worker.
    def _on_input(self, stream: str, message: Any) -> None:
        processor = self.processor
        if processor is None:
            return
        try:
            matches = processor.add(stream, message, self.get_clock().now().nanoseconds)
        except ValueError as error:  # only a rejected CameraInfo raises
            self.stats.count(f"{stream}_rejected")
            self.get_logger().warning(f"{error}; keeping the previous CameraInfo",
                                      throttle_duration_sec=LOG_THROTTLE_S)
            return
        if stream == "camera_info":  # the camera is known before its first processed frame
            self._camera_frame = str(message.header.frame_id) or self._camera_frame
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
        processor, publishers = self.processor, self.outputs
        if not self._active or processor is None or publishers is None:
            return  # deactivated while this set waited
        started = time.perf_counter()
        floor = self._floor_mount(match, processor)
        frame = processor.process(match, floor)
        self._camera_frame = frame.frame_id or self._camera_frame
        if frame.error_kind:
            self.stats.skip_frame(frame.error_kind)
            self.get_logger().warning(f"frame skipped, {frame.error_kind}: {frame.error}",
                                      throttle_duration_sec=LOG_THROTTLE_S)
            return
        if frame.skipped:
            self.get_logger().warning("people skipped: " + ", ".join(f"{n} x {reason}" for reason, n in frame.skipped.items()),
                                      throttle_duration_sec=LOG_THROTTLE_S)
        processed, processed_cpu = time.perf_counter(), time.thread_time()
        publishers.publish(frame)
        published, published_cpu = time.perf_counter(), time.thread_time()
        now_ns = self.get_clock().now().nanoseconds
        self.stats.frame_done(len(frame.result.people), frame.skipped, (now_ns - frame.stamp_ns) / 1e6,
                              1000 * (published - started), 1000 * (published - processed),
                              1000 * (published_cpu - processed_cpu))
        if head_only := len(frame.result.head_only):
            self.stats.count("people_head_only", head_only)
        for key, count in frame.result.second_looks.items():
            self.stats.count(f"second_looks_{key}", count)
        for key, count in frame.result.floor.items():
            self.stats.count(f"people_floor_{key}", count)
        for key, count in frame.result.tracking.items():
            self.stats.count(f"people_tracking_{key}", count)
        if frame.result.intrinsics_assumed and (floor or self.config.cascade.floor).enabled:
            self.get_logger().warning(f"{FLOOR_UNUSED}: no valid CameraInfo, the intrinsics are assumed "
                                      "(frame.require_camera_info false)", throttle_duration_sec=LOG_THROTTLE_S)
        if failed := frame.result.second_looks[LOOK_FAILED]:
            self.get_logger().warning(f"{failed} second look(s) failed in the 2D stage; those people kept their "
                                      "first look", throttle_duration_sec=LOG_THROTTLE_S)

    def _floor_mount(self, match: Match, processor: FrameProcessor) -> FloorConfig | None:
        """With ``floor_frame`` set, this frame's camera mount from TF (the image's frame to the
        floor frame at its stamp, :func:`~poselifter_core.rosmsg.floor_tf.floor_from_tf`) as the
        ``cascade.floor`` settings with that height, pitch and roll; None (the parameters' mount)
        without it, counted and warned (throttled; once, at start, when tf2_ros is missing)."""
        floor_frame, lookup = self.config.floor_frame, self._floor_lookup
        if not floor_frame or lookup is None:
            return None
        outcome = floor_from_tf(lookup, floor_frame, processor.frame_id(match), match.stamp_ns,
                                self.config.cascade.floor)
        self.stats.count(outcome.counter)
        if outcome.floor is None:
            self._floor_problem = outcome.problem
            if not lookup.unavailable:
                self.get_logger().warning(f"floor_frame {floor_frame!r}: {outcome.problem}; using "
                                          f"{floor_fallback(self.config.cascade.floor)}",
                                          throttle_duration_sec=LOG_THROTTLE_S)
        return outcome.floor

    def _publish_diagnostics(self) -> None:
        processor = self.processor
        waiting = processor is not None and self.config.frame.require_camera_info and not processor.has_camera_info()
        context = StatusContext(
            name=f"{self.get_fully_qualified_name()}: pose3d pipeline", hardware_id=self._camera_frame,
            dropped=self.slot.dropped, sync_stats=processor.sync_stats() if processor is not None else {},
            waiting_for_camera_info=waiting, expected_rate=self.config.input.expected_rate,
            rate_tolerance=self.config.input.rate_tolerance, inactive=not self._active,
            sync_problem=processor.sync_monitor.check() if processor is not None else "",
            floor_problem=self._floor_problem)
        self.diagnostics_pub.publish(DiagnosticArray(header=outputs.header(
            make, self.get_clock().now().nanoseconds, ""), status=[self.stats.status(context)]))

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
