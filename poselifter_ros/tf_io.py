"""TF for the node: broadcasting the people's body frames, and looking up ``output.target_frame``
and ``floor_frame``.

Broadcasting uses tf2_ros's TransformBroadcaster where tf2_ros is importable (any ROS 2
install), else publishes tf2_msgs/TFMessage on ``/tf`` with the broadcaster's QoS (what
TransformBroadcaster does underneath). Looking up a transform needs tf2_ros's Buffer (one per
node, with its one TransformListener, shared by both lookups); without tf2_ros,
:class:`TargetFrameLookup` says so (``unavailable``), each user warns once and goes on without:
results stay in the optical frame, the floor comes from the ``cascade.floor`` parameters.
"""
from __future__ import annotations

from typing import Any

from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.time import Time

from poselifter_core.rosmsg.rigid import RigidTransform

TF_TOPIC = "/tf"
#: tf2_ros's DynamicBroadcasterQoS: reliable, volatile, keep last 100.
TF_QOS_DEPTH = 100


class BodyFrameBroadcaster:
    """Sends geometry_msgs/TransformStamped lists to /tf; ``kind`` says through what."""

    def __init__(self, node: Node) -> None:
        self._node = node
        try:
            from tf2_ros import TransformBroadcaster
        except ImportError:
            try:
                from tf2_msgs.msg import TFMessage
            except ImportError as error:
                raise RuntimeError("output.tf needs tf2_ros or tf2_msgs; neither is installed") from error
            self._message = TFMessage
            self._publisher = node.create_publisher(TFMessage, TF_TOPIC, QoSProfile(depth=TF_QOS_DEPTH))
            self._broadcaster = None
            self.kind = "tf2_msgs/TFMessage on /tf (tf2_ros not installed)"
        else:
            self._broadcaster = TransformBroadcaster(node)
            self._publisher = None
            self.kind = "tf2_ros TransformBroadcaster"

    def send(self, transforms: list[Any]) -> None:
        if not transforms:
            return
        if self._broadcaster is not None:
            self._broadcaster.sendTransform(transforms)
        else:
            self._publisher.publish(self._message(transforms=transforms))

    def destroy(self) -> None:
        """Remove the /tf publisher (tf2_ros's broadcaster keeps its own as ``pub_tf``)."""
        self._node.destroy_publisher(self._publisher if self._broadcaster is None else self._broadcaster.pub_tf)


class TargetFrameLookup:
    """``lookup(target, source, stamp_ns)``: the transform from ``source`` to ``target`` at the
    stamp as a :class:`RigidTransform` (``p_target = rotation @ p_source + translation``), or
    None with the reason in ``last_error``. One per node: its TransformListener subscribes to
    /tf and /tf_static."""

    def __init__(self, node: Node) -> None:
        try:
            from tf2_ros import Buffer, TransformListener
        except ImportError:
            self._buffer = None
            self.unavailable = "tf2_ros is not installed"
        else:
            self._buffer = Buffer()
            self._listener = TransformListener(self._buffer, node, spin_thread=False)
            self.unavailable = ""
        self.last_error = self.unavailable

    def lookup(self, target: str, source: str, stamp_ns: int) -> RigidTransform | None:
        if self._buffer is None:
            return None
        try:
            stamped = self._buffer.lookup_transform(target, source, Time(nanoseconds=stamp_ns),
                                                    timeout=Duration(seconds=0))
        except Exception as error:  # noqa: BLE001 - tf2's lookup, connectivity and extrapolation errors
            self.last_error = f"no transform {source} -> {target} at the image stamp: {error}"
            return None
        t, q = stamped.transform.translation, stamped.transform.rotation
        try:
            return RigidTransform.from_quaternion((q.x, q.y, q.z, q.w), (t.x, t.y, t.z))
        except ValueError as error:  # a non-finite or zero transform that tf2 stored: no transform, said why
            self.last_error = f"transform {source} -> {target} at the image stamp: {error}"
            return None
