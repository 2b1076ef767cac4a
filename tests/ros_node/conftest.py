"""Harness for the ROS layer's tests: real rclpy and Fast DDS on loopback, the node started from
its colcon-installed executable (as ``ros2 run`` / the launch file would) with config/pose3d.yaml.

Needs ``make ros`` (ROS 2 wheels + colcon build) and ``source build/ros/install/setup.bash``;
``make test`` does both. Without them these tests skip, unless POSELIFTER_REQUIRE_ROS=1 (CI), where
a missing set-up fails.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# A domain of our own on loopback only, set before rclpy starts; inherited by the node process. An
# exported ROS_DOMAIN_ID wins: on a host shared by several developers or CI jobs, give each its own
# (a pid-derived domain can collide with another run's, which then answers this run's probes).
os.environ.setdefault("ROS_DOMAIN_ID", str(10 + os.getpid() % 90))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "0")

try:
    import poselifter_msgs.msg  # noqa: F401 - built by colcon
    import rclpy  # noqa: F401

    from poselifter_ros.node_process import NodeProcess
    from poselifter_ros.probe import Probe
except ImportError as error:
    if os.environ.get("POSELIFTER_REQUIRE_ROS") == "1":
        raise RuntimeError(f"ROS 2 set-up missing ({error}): run `make ros` and source build/ros/install/setup.bash") from error
    pytest.skip(f"ROS 2 not set up ({error}); `make test` builds and sources it", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
PARAMS_FILE = REPO / "config" / "pose3d.yaml"
NODE_START_TIMEOUT_S = 60.0


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
        node = NodeProcess(PARAMS_FILE, parameters, remaps or {}, tmp_path / f"node{len(started)}.log")
        started.append(node)
        probe.wait_for(lambda: not node.alive() or probe.node.count_publishers(wait_topic) > 0,
                       NODE_START_TIMEOUT_S, f"the node to publish {wait_topic}")
        assert node.alive(), node.log()
        return node

    yield start
    for node in started:
        node.stop()
