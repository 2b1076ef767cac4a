"""Cost per frame of ``poselifter bag --floor-frame``'s mount from TF: reading a bag's TF, and one
frame's lookup and mount (:func:`poselifter_core.rosmsg.floor_tf.floor_from_tf`).

Two buffers: the bag's own /tf and /tf_static (e.g. a ``video-bag --mount`` bag: one static
transform), and a robot-like chain made here: camera_optical_frame -> camera_link -> base_link
(static) -> base_footprint on /tf at 50 Hz for 80 s, looked up at 10 Hz image stamps between
samples (an interpolation every lookup).

    python benchmarks/bag_tf_lookup.py BAG --floor-frame base_footprint --camera-frame camera_optical_frame
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from rosbags.rosbag2 import Reader
from scipy.spatial.transform import Rotation

from poselifter_core.floor import FloorConfig
from poselifter_core.rosmsg.floor_tf import FLOOR_FROM_TF, floor_from_tf
from poselifter_core.rosmsg.outputs import header
from poselifter_core.rosmsg.rosbags_factory import message_factory
from poselifter_core.rosmsg.rosbags_types import poselifter_typestore
from poselifter_core.rosmsg.tf_buffer import TfBuffer

T0 = 1_700_000_000 * 10**9
TYPESTORE = poselifter_typestore()
make = message_factory(TYPESTORE)


def _stamped(stamp: int, parent: str, child: str, rotation: Rotation, translation: np.ndarray):
    x, y, z, w = rotation.as_quat()
    return make("geometry_msgs/msg/TransformStamped", header=header(make, stamp, parent), child_frame_id=child,
                transform=make("geometry_msgs/msg/Transform",
                               translation=make("geometry_msgs/msg/Vector3", **dict(zip("xyz", translation))),
                               rotation=make("geometry_msgs/msg/Quaternion", x=x, y=y, z=z, w=w)))


def chain_buffer(seconds: float = 80.0, rate: float = 50.0) -> TfBuffer:
    buffer = TfBuffer()
    optical = Rotation.from_euler("xyz", [-90.0, 0.0, -90.0], degrees=True)
    link = Rotation.from_euler("xyz", [-2.3, 26.6, 0.0], degrees=True)
    buffer.add(make("tf2_msgs/msg/TFMessage", transforms=[
        _stamped(T0, "camera_link", "camera_optical_frame", optical, np.zeros(3)),
        _stamped(T0, "base_link", "camera_link", link, np.array([0.1, 0.0, 5.42]))]), static=True)
    for i in range(int(seconds * rate) + 1):
        stamp = T0 + round(i * 1e9 / rate)
        base = Rotation.from_euler("xyz", [0.2 * np.sin(i / 7), 0.3 * np.sin(i / 5), i / 50], degrees=True)
        buffer.add(make("tf2_msgs/msg/TFMessage", transforms=[
            _stamped(stamp, "base_footprint", "base_link", base, np.array([i / 100, 0.0, 0.2]))]), static=False)
    return buffer


def bag_buffer(path: str) -> tuple[TfBuffer, list[int]]:
    """The bag's TF and its image stamps (the messages' log times on its Image topics)."""
    buffer, stamps = TfBuffer(), []
    with Reader(path) as reader:
        for connection, log_ns, raw in reader.messages():
            if connection.topic in ("/tf", "/tf_static"):
                buffer.add(TYPESTORE.deserialize_cdr(raw, connection.msgtype), connection.topic == "/tf_static")
            elif connection.msgtype.endswith("Image"):
                stamps.append(log_ns)
    return buffer, stamps


def time_lookups(buffer: TfBuffer, floor_frame: str, camera_frame: str, stamps: list[int]) -> tuple[float, int]:
    """Median of 5 rounds, microseconds per frame, and how many frames got their mount."""
    floor = FloorConfig()
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        found = sum(floor_from_tf(buffer, floor_frame, camera_frame, stamp, floor).counter == FLOOR_FROM_TF
                    for stamp in stamps)
        rounds.append((time.perf_counter() - started) / len(stamps) * 1e6)
    return float(np.median(rounds)), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bag", nargs="?", help="a bag with /tf or /tf_static and images")
    parser.add_argument("--floor-frame", default="base_footprint")
    parser.add_argument("--camera-frame", default="camera_optical_frame")
    args = parser.parse_args()
    if args.bag:
        started = time.perf_counter()
        buffer, stamps = bag_buffer(args.bag)
        read_s = time.perf_counter() - started
        per_frame, found = time_lookups(buffer, args.floor_frame, args.camera_frame, stamps)
        print(f"{args.bag}: {buffer.transforms} transforms (bag read with images: {read_s:.2f} s); {len(stamps)} "
              f"frames, {found} with a mount from TF; {per_frame:.1f} us per frame")
    started = time.perf_counter()
    buffer = chain_buffer()
    built_s = time.perf_counter() - started
    stamps = [T0 + 5_000_000 + i * 100_000_000 for i in range(790)]
    per_frame, found = time_lookups(buffer, "base_footprint", "camera_optical_frame", stamps)
    print(f"chain of 3 (2 static, 1 on /tf at 50 Hz, {buffer.transforms} transforms, added in {built_s:.2f} s): "
          f"{len(stamps)} frames, {found} with a mount from TF; {per_frame:.1f} us per frame")


if __name__ == "__main__":
    main()
