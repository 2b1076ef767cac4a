"""End-to-end latency of pose3d_node: image stamp -> Skeleton3DArray received, and the share of
frames dropped (newest frame wins), at given input rates, over DDS on loopback; and the node's own
time to build and publish its outputs (``publish_ms`` of /diagnostics, and ``publish_cpu_ms``: the
worker thread's CPU time for it, which a loaded machine inflates far less) for each set of outputs
of :data:`OUTPUTS` (``--outputs previous defaults tf all``).

Starts the installed node (bottom_up mode, config/pose3d.yaml) once per rate and input QoS, publishes a
640x480 frame with one person at that rate with ``stamp = time.time_ns()`` at publication, and
takes the arrival time of each Skeleton3DArray minus its stamp. Both processes run on this
machine, so the clocks agree.

Usage (after ``make ros``; ``source build/ros/install/setup.bash``):
    python -m poselifter_ros.latency_benchmark --rates 15 30 --seconds 20 --backend onnxruntime-cpu
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from ament_index_python.packages import get_package_share_directory
from diagnostic_msgs.msg import DiagnosticArray
from poselifter_msgs.msg import Skeleton3DArray
from sensor_msgs.msg import CameraInfo, Image

from poselifter_core.rosmsg import outputs
from poselifter_core.rosmsg.images import rgb_to_image_fields

from .message_factory import make
from .node_process import NodeProcess
from .probe import Probe, camera_info, person_frame

SKELETONS = "/pose3d/skeletons"
WARMUP_TIMEOUT_S = 60.0
DRAIN_S = 2.0
FRAME_ID = "camera_optical_frame"
#: Node parameters of each --outputs choice: what the node published before #15 (skeletons and
#: markers), its defaults now (+ detections), + the TF body frames, and everything (+ joint frames).
OUTPUTS = {
    "previous": {"output.markers": True, "output.detections": False, "output.tf": False},
    "defaults": {"output.markers": True, "output.detections": True, "output.tf": False},
    "tf": {"output.markers": True, "output.detections": True, "output.tf": True, "output.joint_frames": False},
    "all": {"output.markers": True, "output.detections": True, "output.tf": True, "output.joint_frames": True},
}


def person_stream(probe: Probe) -> Any:
    """Record the node's skeletons and /diagnostics, publish a 640x480 CameraInfo (fx 600) every
    0.1 s, and return the image publisher."""
    probe.record(Skeleton3DArray, SKELETONS)
    probe.record(DiagnosticArray, "/diagnostics")
    probe.repeat(probe.node.create_publisher(CameraInfo, "/camera_info", 10),
                 camera_info(600.0, 600.0, 319.5, 239.5, 640, 480, FRAME_ID))
    return probe.node.create_publisher(Image, "/image", 10)


def measure(rate_hz: float, seconds: float, backend: str, reliable: bool, outputs_kind: str, params_file: Path,
            log_dir: Path) -> dict:
    """Latency percentiles and dropped ratio of one run at ``rate_hz``."""
    probe = Probe(f"latency_probe_{int(rate_hz)}")
    parameters = {"backend": backend, "cascade.min_valid_joints": 7, **OUTPUTS[outputs_kind]}
    if reliable:  # rclpy's QoS override parameter of the (resolved) image topic
        parameters["qos_overrides./image.subscription.reliability"] = "reliable"
    node = NodeProcess(params_file, parameters, {}, log_dir / f"node_{rate_hz:g}hz_{outputs_kind}.log")
    try:
        publisher = person_stream(probe)
        fields = rgb_to_image_fields(person_frame())

        def frame() -> Image:
            return Image(header=outputs.header(make, time.time_ns(), FRAME_ID), **fields)

        probe.publish_until(publisher, frame, lambda: probe.messages(SKELETONS), WARMUP_TIMEOUT_S, "the first reply")
        warm_replies = len(probe.messages(SKELETONS))
        counts_before = _node_counts(probe)
        sent: list[int] = []
        period_s, next_time = 1.0 / rate_hz, time.monotonic()
        end = next_time + seconds
        while next_time < end:
            message = frame()
            publisher.publish(message)
            sent.append(message.header.stamp.sec * 10**9 + message.header.stamp.nanosec)
            next_time += period_s
            time.sleep(max(0.0, next_time - time.monotonic()))
        time.sleep(DRAIN_S)
        sent_set = set(sent)
        latencies = np.array([(arrival - (m.header.stamp.sec * 10**9 + m.header.stamp.nanosec)) / 1e6
                              for arrival, m in probe.arrivals(SKELETONS)[warm_replies:]
                              if m.header.stamp.sec * 10**9 + m.header.stamp.nanosec in sent_set])
        people = [len(m.skeletons) for m in probe.messages(SKELETONS)[warm_replies:]]
        counts = {key: value - counts_before.get(key, 0) for key, value in _node_counts(probe).items()}
        return {"rate_hz": rate_hz, "seconds": seconds, "input_qos": "reliable" if reliable else "best_effort",
                "outputs": outputs_kind, "publish_ms_p50": _node_value(probe, "publish_ms_p50"),
                "publish_cpu_ms_p50": _node_value(probe, "publish_cpu_ms_p50"),
                "sent": len(sent), "replies": int(latencies.size),
                "dropped_ratio": round(1.0 - latencies.size / len(sent), 3),
                "received_by_node": counts.get("sync image received", 0),
                "dropped_by_node": counts.get("frames_dropped_newest_wins", 0),
                "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if latencies.size else None,
                "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1) if latencies.size else None,
                "people_per_reply": round(float(np.mean(people)), 2) if people else 0.0,
                "node_rss_mib": round(node.rss_kib() / 1024)}  # steady state: after the run, still running
    finally:
        node.stop()
        probe.close()


def _node_value(probe: Probe, key: str) -> float | None:
    """A value of the node's latest /diagnostics status."""
    messages = probe.messages("/diagnostics")
    values = {v.key: v.value for v in messages[-1].status[0].values} if messages else {}
    return float(values[key]) if key in values else None


def _node_counts(probe: Probe) -> dict[str, int]:
    """The node's counters from its latest /diagnostics status."""
    messages = probe.messages("/diagnostics")
    if not messages:
        return {}
    values = {v.key: v.value for v in messages[-1].status[0].values}
    return {key: int(values[key]) for key in ("sync image received", "frames_dropped_newest_wins") if key in values}


def markdown(rows: list[dict], backend: str) -> str:
    lines = [f"pose3d_node, bottom_up, 640x480, backend {backend}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs", "",
             "| input rate | input QoS | outputs | frames sent | reached the node | dropped by the node (newest wins) "
             "| skeletons received | dropped in all | latency p50 | latency p95 | publishing p50 | publishing CPU p50 "
             "| node RSS |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['rate_hz']:g} Hz | {r['input_qos']} | {r['outputs']} | {r['sent']} | {r['received_by_node']} | "
                     f"{r['dropped_by_node']} | {r['replies']} | {100 * r['dropped_ratio']:.1f} % | "
                     f"{r['latency_ms_p50']} ms | {r['latency_ms_p95']} ms | {r['publish_ms_p50']} ms | "
                     f"{r['publish_cpu_ms_p50']} ms | {r['node_rss_mib']} MiB |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[15.0, 30.0], help="input rates [Hz]")
    parser.add_argument("--seconds", type=float, default=20.0, help="publishing time per rate [s]")
    parser.add_argument("--backend", default="onnxruntime-cpu", help="the node's backend parameter")
    parser.add_argument("--input-qos", nargs="+", choices=("best_effort", "reliable"), default=["best_effort"],
                        help="the node's input reliability (parameter qos_overrides./image.subscription.reliability); "
                             "several: one run each")
    parser.add_argument("--outputs", nargs="+", choices=sorted(OUTPUTS), default=["all"],
                        help="previous: skeletons + markers (the outputs before #15); defaults: + detections; "
                             "tf: + TF body frames; all: + joint frames; several: one run each, interleaved per rate")
    parser.add_argument("--params-file", type=Path, help="node parameters (YAML); default: the installed "
                        "share/poselifter_ros/config/pose3d.yaml")
    parser.add_argument("--output", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    params_file = args.params_file or Path(get_package_share_directory("poselifter_ros")) / "config" / "pose3d.yaml"
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", str(10 + os.getpid() % 90))
    with tempfile.TemporaryDirectory() as log_dir:
        rows = [measure(rate, args.seconds, args.backend, qos == "reliable", kind, params_file, Path(log_dir))
                for qos in args.input_qos for rate in args.rates for kind in args.outputs]
    print(markdown(rows, args.backend))
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
