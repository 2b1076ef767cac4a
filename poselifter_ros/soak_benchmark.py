"""Soak of pose3d_node under a stream laced with hostile input: memory, latency and whether it
keeps publishing (issue #13).

Starts the installed node (bottom_up, config/pose3d.yaml, reliable input so DDS loses nothing)
and publishes ``--frames`` 640x480 frames with one person at ``--rate`` Hz. Every ``--every``-th
frame is replaced by a hostile one, in turn: an image stamped a day ahead, one stamped an hour
back (a clock jump), one of another aspect ratio than the CameraInfo, and a truncated image.
Reports the node's resident memory after the warm-up and at the end, the latency of the
replies to good frames (image stamp -> skeletons received), and the node's own counters.

Usage (after ``make ros``; ``source build/ros/install/setup.bash``):
    python -m poselifter_ros.soak_benchmark --frames 3000 --rate 10
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from ament_index_python.packages import get_package_share_directory
from sensor_msgs.msg import Image

from poselifter_core.rosmsg import outputs
from poselifter_core.rosmsg.images import rgb_to_image_fields

from .latency_benchmark import FRAME_ID, SKELETONS, person_stream
from .message_factory import make
from .node_process import NodeProcess
from .probe import Probe, person_frame

DAY_NS, HOUR_NS = 86400 * 10**9, 3600 * 10**9
HOSTILE = ("future stamp", "clock jump back", "CameraInfo size mismatch", "truncated image")


def soak(frames: int, rate_hz: float, every: int, backend: str, params_file: Path, log_dir: Path) -> dict:
    probe = Probe("soak_probe")
    node = NodeProcess(params_file, {"backend": backend, "cascade.min_valid_joints": 7, "diagnostics_period_s": 0.5,
                                     "qos_overrides./image.subscription.reliability": "reliable"},
                       {}, log_dir / "node.log")
    try:
        publisher = person_stream(probe)
        good_fields = rgb_to_image_fields(person_frame())
        wide_fields = rgb_to_image_fields(person_frame()[60:420])

        def image(stamp_ns: int, fields: dict = good_fields) -> Image:
            return Image(header=outputs.header(make, stamp_ns, FRAME_ID), **fields)

        probe.publish_until(publisher, lambda: image(time.time_ns()), lambda: probe.messages(SKELETONS), 60.0,
                            "the first reply")
        time.sleep(1.0)
        rss = [node.rss_kib()]
        warm = len(probe.messages(SKELETONS))
        good: set[int] = set()
        hostile = 0
        period_s, next_time = 1.0 / rate_hz, time.monotonic()
        for index in range(frames):
            now = time.time_ns()
            if every and index % every == every - 1:
                kind = HOSTILE[hostile % len(HOSTILE)]
                hostile += 1
                message = {"future stamp": lambda: image(now + DAY_NS),
                           "clock jump back": lambda: image(now - HOUR_NS),
                           "CameraInfo size mismatch": lambda: image(now, wide_fields),
                           "truncated image": lambda: image(now, {**good_fields, "data": good_fields["data"][:1000]})}[kind]()
            else:
                message = image(now)
                good.add(now)
            publisher.publish(message)
            if index % 500 == 499:
                rss.append(node.rss_kib())
            next_time += period_s
            time.sleep(max(0.0, next_time - time.monotonic()))
        time.sleep(2.0)
        rss.append(node.rss_kib())
        replies = [(arrival, m) for arrival, m in probe.arrivals(SKELETONS)[warm:]]
        latencies = np.array([(arrival - stamp) / 1e6 for arrival, m in replies
                              if (stamp := m.header.stamp.sec * 10**9 + m.header.stamp.nanosec) in good])
        future = sum(m.header.stamp.sec * 10**9 > time.time_ns() + HOUR_NS for _, m in replies)
        values = {v.key: v.value for v in probe.messages("/diagnostics")[-1].status[0].values}
        return {"frames": frames, "rate_hz": rate_hz, "hostile": hostile, "good": len(good),
                "replies_to_good": int(latencies.size), "replies_stamped_in_the_future": future,
                "rss_mib_after_warmup": round(rss[0] / 1024, 1), "rss_mib_end": round(rss[-1] / 1024, 1),
                "rss_mib_max": round(max(rss) / 1024, 1),
                "rss_mib_trace": [round(value / 1024, 1) for value in rss],  # warm-up, every 500 frames, end
                "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if latencies.size else None,
                "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1) if latencies.size else None,
                "node_alive": node.alive(),
                "node_counters": {k: v for k, v in values.items() if not k.startswith(("latency", "compute"))}}
    finally:
        node.stop()
        probe.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=10.0, help="input rate [Hz]")
    parser.add_argument("--every", type=int, default=50, help="every n-th frame is hostile (0: none)")
    parser.add_argument("--backend", default="onnxruntime-cpu", help="the node's backend parameter")
    parser.add_argument("--params-file", type=Path, help="node parameters (YAML); default: the installed "
                        "share/poselifter_ros/config/pose3d.yaml")
    args = parser.parse_args(argv)
    params_file = args.params_file or Path(get_package_share_directory("poselifter_ros")) / "config" / "pose3d.yaml"
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", str(10 + os.getpid() % 90))
    with tempfile.TemporaryDirectory() as log_dir:
        print(json.dumps(soak(args.frames, args.rate, args.every, args.backend, params_file, Path(log_dir)), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
