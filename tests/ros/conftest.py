"""Harness for the ROS layer's tests: real rclpy and Fast DDS on loopback, the node started from
its colcon-installed executable (as ``ros2 run`` / the launch file would) with config/pose3d.yaml.

Needs ``make ros`` (ROS 2 wheels + colcon build) and ``source build/ros/install/setup.bash``;
``make test`` does both. Without them these tests skip, unless POSELIFTER_REQUIRE_ROS=1 (CI), where
a missing set-up fails.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

# A domain of our own on loopback only, set before rclpy starts; inherited by the node process.
os.environ["ROS_DOMAIN_ID"] = str(10 + os.getpid() % 90)
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "0")

try:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    import poselifter_msgs.msg  # noqa: F401 - built by colcon
except ImportError as error:
    if os.environ.get("POSELIFTER_REQUIRE_ROS") == "1":
        raise RuntimeError(f"ROS 2 set-up missing ({error}): run `make ros` and source build/ros/install/setup.bash") from error
    pytest.skip(f"ROS 2 not set up ({error}); `make test` builds and sources it", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
PARAMS_FILE = REPO / "config" / "pose3d.yaml"
NODE_START_TIMEOUT_S = 60.0


def installed_executable(package: str, name: str) -> Path:
    """``lib/<package>/<name>`` under the AMENT_PREFIX_PATH prefixes, as ``ros2 run`` finds it."""
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        candidate = Path(prefix) / "lib" / package / name
        if prefix and candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{package}/{name} is not installed in AMENT_PREFIX_PATH; run `make ros`")


class NodeProcess:
    """The installed pose3d_node in its own process; stopped with SIGINT like Ctrl-C."""

    def __init__(self, parameters: dict[str, Any], remaps: dict[str, str], log_path: Path) -> None:
        args = [str(installed_executable("poselifter_ros", "pose3d_node")), "--ros-args", "--params-file", str(PARAMS_FILE)]
        for name, value in parameters.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{name}:={text}"]
        for source, target in remaps.items():
            args += ["-r", f"{source}:={target}"]
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text()

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


class Probe:
    """A test-side rclpy node: publishers to the node's inputs, recorders of its outputs, spun in
    a background thread."""

    def __init__(self, name: str) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received: dict[str, list[tuple[float, Any]]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def record(self, msg_type: type, topic: str) -> None:
        self.received[topic] = []

        def keep(message: Any) -> None:
            with self._lock:
                self.received[topic].append((time.monotonic(), message))

        self.node.create_subscription(msg_type, topic, keep, 50)

    def messages(self, topic: str) -> list[Any]:
        with self._lock:
            return [m for _, m in self.received[topic]]

    def repeat(self, publisher: Any, message: Any, period_s: float = 0.1) -> None:
        """Publish ``message`` every ``period_s`` (as camera drivers do with CameraInfo)."""
        self.node.create_timer(period_s, lambda: publisher.publish(message))

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


@pytest.fixture
def probe(request: pytest.FixtureRequest):
    probe = Probe(f"probe_{request.node.name[:40].replace('[', '_').replace(']', '_').replace('-', '_')}")
    yield probe
    probe.close()


@pytest.fixture
def start_node(tmp_path: Path, probe: Probe):
    """``start_node(parameters, remaps)``: start the node and wait until it subscribes and publishes."""
    started: list[NodeProcess] = []

    def start(parameters: dict[str, Any], remaps: dict[str, str] | None = None,
              wait_topic: str = "/pose3d/skeletons") -> NodeProcess:
        node = NodeProcess(parameters, remaps or {}, tmp_path / f"node{len(started)}.log")
        started.append(node)
        probe.wait_for(lambda: not node.alive() or probe.node.count_publishers(wait_topic) > 0,
                       NODE_START_TIMEOUT_S, f"the node to publish {wait_topic}")
        assert node.alive(), node.log()
        return node

    yield start
    for node in started:
        node.stop()
