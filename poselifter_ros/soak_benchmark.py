"""Soak of pose3d_node under a stream laced with hostile input: memory, latency and whether it
keeps publishing (issue #13).

Starts the installed node (bottom_up, config/pose3d.yaml, reliable input so DDS loses nothing)
and publishes ``--frames`` 640x480 frames with one person at ``--rate`` Hz. Every ``--every``-th
frame is replaced by a hostile one, in turn: an image stamped a day ahead, one stamped an hour
back (a clock jump), one of another aspect ratio than the CameraInfo, and a truncated image.
Reports the node's resident memory after the warm-up and at the end, the latency of the
replies to good frames (image stamp -> skeletons received), and the node's own counters.

``--input keypoints`` runs the node in keypoints mode instead and sends, every frame, a
Keypoints2DArray of a plain body and hostile people (:mod:`poselifter_core.benchmark.hostile_people`:
face-only, NaN / infinite faces, faces at the corners, tiny and huge faces, duplicates). Every
reply is checked: skeletons with finite joints, roots within the plausibility gates' depths and
no joint behind the camera; detections (people and head-only) with finite positions within those
depths and a finite covariance. The same frames are lifted in this process too, through the
node's keypoints parsing and ``Pose3DEstimator.lift_people``, which also checks the head-only
depth intervals. Reports the problems found (none expected), the people by kind, the node's skip
counters and head-only count, and its memory.

Usage (after ``make ros``; ``source build/ros/install/setup.bash``):
    python -m poselifter_ros.soak_benchmark --frames 3000 --rate 10
    python -m poselifter_ros.soak_benchmark --frames 3000 --rate 10 --input keypoints
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from ament_index_python.packages import get_package_share_directory
from diagnostic_msgs.msg import DiagnosticArray
from poselifter_msgs.msg import Keypoint2D, Keypoints2D, Keypoints2DArray, Skeleton3DArray
from sensor_msgs.msg import CameraInfo, Image
from vision_msgs.msg import Detection3DArray

from poselifter_core.benchmark.hostile_people import RawPerson, as_people, hostile_frame, output_problems
from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import Pose3DEstimator
from poselifter_core.infer import load_lifter_runtime
from poselifter_core.plausibility import PlausibilityConfig
from poselifter_core.rosmsg import outputs
from poselifter_core.rosmsg.images import rgb_to_image_fields

from .latency_benchmark import FRAME_ID, SKELETONS, person_stream
from .message_factory import make
from .node_process import NodeProcess
from .probe import Probe, camera_info, person_frame

DAY_NS, HOUR_NS = 86400 * 10**9, 3600 * 10**9
HOSTILE = ("future stamp", "clock jump back", "CameraInfo size mismatch", "truncated image")
DETECTIONS = "/pose3d/detections"
CAMERA = Intrinsics(600.0, 600.0, 319.5, 239.5)


def paced(frames: int, rate_hz: float, node: NodeProcess, rss: list[int]) -> Iterator[int]:
    """Frame indices at ``rate_hz``; the node's RSS (KiB) is appended to ``rss`` every 500 frames
    and once more 2 s after the last frame, when the node has answered it."""
    period_s, next_time = 1.0 / rate_hz, time.monotonic()
    for index in range(frames):
        yield index
        if index % 500 == 499:
            rss.append(node.rss_kib())
        next_time += period_s
        time.sleep(max(0.0, next_time - time.monotonic()))
    time.sleep(2.0)
    rss.append(node.rss_kib())


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
        for index in paced(frames, rate_hz, node, rss):
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


def keypoints_message(people: list[RawPerson], stamp_ns: int) -> Keypoints2DArray:
    return Keypoints2DArray(header=outputs.header(make, stamp_ns, FRAME_ID), people=[Keypoints2D(
        id=p.id, layout="coco17", score=p.score, box=p.box.tolist(),
        keypoints=[Keypoint2D(x=x, y=y, score=s) for (x, y), s in zip(p.xy.tolist(), p.scores.tolist())])
        for p in people])


def message_problems(skeletons: list[Any], detections: list[Any], gates: PlausibilityConfig) -> list[str]:
    """The node's Skeleton3DArray and Detection3DArray messages against the gates (optical frame:
    z is the depth)."""
    problems = []
    for skeleton in (s for message in skeletons for s in message.skeletons):
        joints = np.array([[j.x, j.y, j.z] for j in skeleton.joints])
        if not (np.isfinite(joints).all() and gates.min_depth_m <= skeleton.root.z <= gates.max_depth_m
                and (joints[:, 2] > 0).all()):
            problems.append(f"skeleton {skeleton.id}: root z {skeleton.root.z}, joints {joints.tolist()}")
    for detection in (d for message in detections for d in message.detections):
        for result in detection.results:
            where = result.pose.pose.position
            covariance = np.array(result.pose.covariance)
            if not (np.isfinite([where.x, where.y, where.z]).all() and gates.min_depth_m <= where.z <= gates.max_depth_m
                    and max(abs(where.x), abs(where.y)) <= gates.max_ray * where.z
                    and np.isfinite(covariance).all() and (np.diag(covariance.reshape(6, 6)) >= 0).all()):
                problems.append(f"detection {detection.id} ({result.hypothesis.class_id}) at z {where.z}")
    return problems


def soak_keypoints(frames: int, rate_hz: float, backend: str, params_file: Path, log_dir: Path, seed: int) -> dict:
    """The keypoints-mode soak (module docstring)."""
    probe = Probe("soak_probe")
    node = NodeProcess(params_file, {"backend": backend, "frame.mode": "keypoints", "diagnostics_period_s": 0.5,
                                     "qos_overrides./keypoints.subscription.reliability": "reliable"},
                       {}, log_dir / "node.log")
    gates = PlausibilityConfig()
    local = Pose3DEstimator(None, load_lifter_runtime(None, backend, "auto"))
    try:
        for message_type, topic in ((Skeleton3DArray, SKELETONS), (Detection3DArray, DETECTIONS)):
            probe.record(message_type, topic)
        probe.record(DiagnosticArray, "/diagnostics")
        probe.repeat(probe.node.create_publisher(CameraInfo, "/camera_info", 10),
                     camera_info(CAMERA.fx, CAMERA.fy, CAMERA.cx, CAMERA.cy, 640, 480, FRAME_ID))
        publisher = probe.node.create_publisher(Keypoints2DArray, "/keypoints", 10)
        warm_up = np.random.default_rng(seed + 1)
        probe.publish_until(publisher, lambda: keypoints_message(hostile_frame(warm_up), time.time_ns()),
                            lambda: probe.messages(SKELETONS), 60.0, "the first reply")
        time.sleep(1.0)
        rss = [node.rss_kib()]
        warm = {topic: len(probe.messages(topic)) for topic in (SKELETONS, DETECTIONS)}
        kinds, dropped, local_skips, problems = Counter(), Counter(), Counter(), []
        head_only = 0
        rng = np.random.default_rng(seed)
        for index in paced(frames, rate_hz, node, rss):
            people = hostile_frame(rng)
            publisher.publish(keypoints_message(people, time.time_ns()))
            kinds.update(p.kind for p in people)
            parsed, dropped_now = as_people(people)
            dropped.update(dropped_now)
            result = local.lift_people(parsed, CAMERA, (640, 480))
            local_skips.update(result.skipped)
            head_only += len(result.head_only)
            problems += [f"frame {index} (in process): {problem}" for problem in output_problems(result, gates)]
        replies = {topic: probe.messages(topic)[warm[topic]:] for topic in (SKELETONS, DETECTIONS)}
        problems += [f"node: {problem}" for problem in message_problems(replies[SKELETONS], replies[DETECTIONS], gates)]
        values = {v.key: v.value for v in probe.messages("/diagnostics")[-1].status[0].values}
        heads = sum(r.hypothesis.class_id == "person_head_only" for m in replies[DETECTIONS] for d in m.detections
                    for r in d.results)
        return {"input": "keypoints", "frames": frames, "rate_hz": rate_hz, "seed": seed,
                "people_sent_by_kind": dict(kinds), "replies": len(replies[SKELETONS]),
                "problems": len(problems), "first_problems": problems[:10],
                "node_head_only_detections": heads,
                "in_process": {"dropped_by_the_keypoints_parser": dict(dropped), "skipped": dict(local_skips),
                               "head_only": head_only},
                "rss_mib_after_warmup": round(rss[0] / 1024, 1), "rss_mib_end": round(rss[-1] / 1024, 1),
                "rss_mib_max": round(max(rss) / 1024, 1),
                "rss_mib_trace": [round(value / 1024, 1) for value in rss],  # warm-up, every 500 frames, end
                "node_alive": node.alive(),
                "node_counters": {k: v for k, v in values.items() if not k.startswith(("latency", "compute"))}}
    finally:
        node.stop()
        probe.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=10.0, help="input rate [Hz]")
    parser.add_argument("--every", type=int, default=50, help="images: every n-th frame is hostile (0: none)")
    parser.add_argument("--input", choices=("images", "keypoints"), default="images",
                        help="images (bottom_up mode, hostile images) or keypoints (keypoints mode, hostile people "
                             "in every frame)")
    parser.add_argument("--seed", type=int, default=0, help="keypoints: the hostile people's random seed")
    parser.add_argument("--backend", default="onnxruntime-cpu", help="the node's backend parameter")
    parser.add_argument("--params-file", type=Path, help="node parameters (YAML); default: the installed "
                        "share/poselifter_ros/config/pose3d.yaml")
    args = parser.parse_args(argv)
    params_file = args.params_file or Path(get_package_share_directory("poselifter_ros")) / "config" / "pose3d.yaml"
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", str(10 + os.getpid() % 90))
    with tempfile.TemporaryDirectory() as log_dir:
        report = (soak_keypoints(args.frames, args.rate, args.backend, params_file, Path(log_dir), args.seed)
                  if args.input == "keypoints" else
                  soak(args.frames, args.rate, args.every, args.backend, params_file, Path(log_dir)))
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
