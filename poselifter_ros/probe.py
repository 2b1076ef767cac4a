"""A client node that drives pose3d_node from outside: publishes its inputs, records its outputs
with their arrival times, spun in a background thread in a context of its own. Used by the node
tests and the latency benchmark."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo

from poselifter_core.rosmsg import outputs

from .message_factory import make


def person_frame() -> np.ndarray:
    """A 640x480 RGB frame with one person (scikit-image's public-domain astronaut photo, waist up:
    7 of the 17 joints are visible, so run the node with ``cascade.min_valid_joints`` 7 on it)."""
    from skimage.data import astronaut  # test extra: pip install .[test]

    canvas = np.full((480, 640, 3), 90, dtype=np.uint8)
    canvas[:, 64:576] = astronaut()[32:512]
    return canvas


def camera_info(fx: float, fy: float, cx: float, cy: float, width: int, height: int, frame_id: str,
                stamp_ns: int = 0) -> CameraInfo:
    """A pinhole CameraInfo without distortion: K and, for rectified use, the same in P."""
    k = [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]
    return CameraInfo(header=outputs.header(make, stamp_ns, frame_id), width=width, height=height,
                      distortion_model="plumb_bob", d=[0.0] * 5, k=k, p=k[:3] + [0.0] + k[3:6] + [0.0] + k[6:] + [0.0],
                      r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])


class Probe:

    def __init__(self, name: str) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received: dict[str, list[tuple[int, Any]]] = {}  # topic -> (arrival time.time_ns(), message)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def record(self, msg_type: type, topic: str) -> None:
        self.received[topic] = []

        def keep(message: Any) -> None:
            with self._lock:
                self.received[topic].append((time.time_ns(), message))

        self.node.create_subscription(msg_type, topic, keep, 50)

    def messages(self, topic: str) -> list[Any]:
        with self._lock:
            return [m for _, m in self.received[topic]]

    def repeat(self, publisher: Any, message: Any, period_s: float = 0.1) -> None:
        """Publish ``message`` every ``period_s`` (as camera drivers do with CameraInfo); a callable
        ``message`` makes a fresh one each time."""
        self.node.create_timer(period_s, lambda: publisher.publish(message() if callable(message) else message))

    def publish_until(self, publisher: Any, make_message: Callable[[], Any], condition: Callable[[], bool],
                      timeout_s: float, what: str, period_s: float = 0.5) -> list[Any]:
        """Publish a fresh ``make_message()`` every ``period_s`` until ``condition`` holds, and
        return what was sent: a first message can be lost on a best-effort subscription that DDS
        discovery has not fully matched yet, or be skipped before CameraInfo arrived."""
        deadline = time.monotonic() + timeout_s
        sent = []
        while time.monotonic() < deadline:
            sent.append(make_message())
            publisher.publish(sent[-1])
            try:
                self.wait_for(condition, min(period_s, deadline - time.monotonic()), what)
                return sent
            except AssertionError:
                continue
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def call(self, srv_type: type, name: str, request: Any, timeout_s: float = 10.0) -> Any:
        """Call service ``name`` and return its response (AssertionError on timeout)."""
        client = self.node.create_client(srv_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout_s):
                raise AssertionError(f"service {name} not available after {timeout_s} s")
            future = client.call_async(request)
            self.wait_for(future.done, timeout_s, f"a reply from {name}")
            return future.result()
        finally:
            self.node.destroy_client(client)

    def wait_for(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=5)

    def arrivals(self, topic: str) -> list[tuple[int, Any]]:
        """``(arrival time.time_ns(), message)`` of everything received on ``topic``."""
        with self._lock:
            return list(self.received[topic])
