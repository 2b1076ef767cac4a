"""``poselifter bag --floor-frame``: the camera mount from the bag's own /tf and /tf_static.

Real rosbag2 bags written with rosbags hold a URDF-like chain camera_optical_frame -> camera_link
(static, the REP-103 optical joint) -> base_link (static) -> base_footprint (on /tf, the base
pitching and rising between samples that straddle each image: only an interpolation, translation
linear and rotation slerp, gives the mount back; the nearest sample is 2 degrees and 0.1 m off).
The /tf sample just after each image is logged after the image, as a robot's would be.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from rosbags.rosbag2 import Reader
from scipy.spatial.transform import Rotation
from test_bag import BACKEND, FRAME_ID, FRAMES, PERIOD, T0, TYPESTORE, keypoints_records, make, read_bag, write_bag

from poselifter_core.cli import main
from poselifter_core.floor import mount_from_camera_pose
from poselifter_core.rosmsg.tf_buffer import TfBuffer

from conftest import MOUNTED_AT, MOUNTED_K, camera_view, standing_person

FLOOR = "base_footprint"
HEIGHT, PITCH, ROLL = MOUNTED_AT["camera_height_m"], MOUNTED_AT["camera_pitch_deg"], MOUNTED_AT["camera_roll_deg"]
#: The camera link in base_footprint at every image stamp (any yaw and x, y: the mount ignores them).
LINK = (Rotation.from_euler("xyz", [ROLL, PITCH, 25.0], degrees=True), np.array([0.4, -0.2, HEIGHT]))
OPTICAL = Rotation.from_euler("xyz", [-90.0, 0.0, -90.0], degrees=True)  # REP-103 optical joint
#: base_link in base_footprint: (ns from the image stamp, pitch deg, height m) of the /tf samples
#: around each image; interpolated at the image: pitch 1 deg, height 0.2 m.
SAMPLES = ((-30_000_000, -2.0, 0.05), (20_000_000, 3.0, 0.30))
BASE_AT_IMAGE = (Rotation.from_euler("y", 1.0, degrees=True), np.array([0.0, 0.0, 0.2]))
WITH_TF = FRAMES - 1  # the last image has no /tf samples around it: a lookup there would extrapolate


def compose(a: tuple[Rotation, np.ndarray], b: tuple[Rotation, np.ndarray]) -> tuple[Rotation, np.ndarray]:
    """``a * b``: b's frame in a's parent frame."""
    return a[0] * b[0], a[0].apply(b[1]) + a[1]


def invert(a: tuple[Rotation, np.ndarray]) -> tuple[Rotation, np.ndarray]:
    return a[0].inv(), -a[0].inv().apply(a[1])


def transform(stamp: int, parent: str, child: str, pose: tuple[Rotation, np.ndarray]):
    rotation, translation = pose
    x, y, z, w = rotation.as_quat()
    return make("geometry_msgs/msg/TransformStamped", header=make("std_msgs/msg/Header", stamp=make(
        "builtin_interfaces/msg/Time", sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id=parent),
        child_frame_id=child, transform=make("geometry_msgs/msg/Transform",
                                             translation=make("geometry_msgs/msg/Vector3", x=translation[0],
                                                              y=translation[1], z=translation[2]),
                                             rotation=make("geometry_msgs/msg/Quaternion", x=x, y=y, z=z, w=w)))


def base_sample(pitch_deg: float, height_m: float) -> tuple[Rotation, np.ndarray]:
    return Rotation.from_euler("y", pitch_deg, degrees=True), np.array([0.0, 0.0, height_m])


def mount_on(base: tuple[Rotation, np.ndarray]) -> tuple[float, float, float]:
    """The mount of the optical frame with base_link at ``base`` (worked out here, without the buffer)."""
    rotation, translation = compose(compose(base, invert(BASE_AT_IMAGE)), compose(LINK, (OPTICAL, np.zeros(3))))
    return mount_from_camera_pose(rotation.as_matrix(), translation)


def tf_records(images: int = WITH_TF) -> list:
    """/tf_static (logged first) and the /tf samples around the first ``images`` image stamps."""
    link_in_base = compose(invert(BASE_AT_IMAGE), LINK)
    static = make("tf2_msgs/msg/TFMessage", transforms=[
        transform(T0, "camera_link", FRAME_ID, (OPTICAL, np.zeros(3))),
        transform(T0, "base_link", "camera_link", link_in_base)])
    records = [("/tf_static", "tf2_msgs/msg/TFMessage", T0 - 50_000_000, static)]
    for i in range(images):
        for offset, pitch, height in SAMPLES:
            stamp = T0 + i * PERIOD + offset
            base = base_sample(pitch, height)
            records.append(("/tf", "tf2_msgs/msg/TFMessage", stamp + 5_000_000,  # logged 5 ms after its stamp
                            make("tf2_msgs/msg/TFMessage", transforms=[transform(stamp, FLOOR, "base_link", base)])))
    return records


def bag_buffer(path: Path, tolerance_ns: int = 0) -> TfBuffer:
    buffer = TfBuffer(tolerance_ns)
    with Reader(path) as reader:
        for connection, _, raw in reader.messages():
            buffer.add(TYPESTORE.deserialize_cdr(raw, connection.msgtype), static=connection.topic == "/tf_static")
    return buffer


def mount_at(buffer: TfBuffer, stamp: int, source: str = FRAME_ID) -> tuple[float, float, float]:
    found = buffer.lookup(FLOOR, source, stamp)
    assert found is not None, buffer.last_error
    return mount_from_camera_pose(found.rotation, found.translation)


def sorted_records(records: list) -> list:
    return sorted(records, key=lambda record: record[2])


@pytest.fixture
def tf_bag(tmp_path: Path) -> Path:
    return write_bag(tmp_path / "tf", "mcap", sorted_records(tf_records()))


def test_a_chain_of_static_and_interpolated_transforms_gives_the_known_mount(tf_bag):
    buffer = bag_buffer(tf_bag)
    assert buffer.transforms == 2 + 2 * WITH_TF and buffer.unusable == 0
    for i in range(WITH_TF):
        assert mount_at(buffer, T0 + i * PERIOD) == pytest.approx((HEIGHT, PITCH, ROLL), abs=1e-9)
    found = buffer.lookup(FLOOR, FRAME_ID, T0)
    assert found.translation[:2] == pytest.approx(LINK[1][:2], abs=1e-12)
    # the chain walked backwards: base_footprint in the optical frame is the inverse
    back = buffer.lookup(FRAME_ID, FLOOR, T0)
    assert back.rotation == pytest.approx(found.rotation.T, abs=1e-12)
    assert back.translation == pytest.approx(-found.rotation.T @ found.translation, abs=1e-12)
    # at a sample's own stamp the sample itself: the nearest sample's mount, not the image's
    offset, pitch, height = SAMPLES[1]
    nearest = mount_on(base_sample(pitch, height))
    assert mount_at(buffer, T0 + offset) == pytest.approx(nearest, abs=1e-9)
    assert abs(nearest[0] - HEIGHT) > 0.05 and abs(nearest[1] - PITCH) > 1.0


def test_lookups_outside_the_samples_or_the_graph_are_refused_with_the_reason(tf_bag):
    buffer = bag_buffer(tf_bag)
    last_image = T0 + WITH_TF * PERIOD
    assert buffer.lookup(FLOOR, FRAME_ID, last_image) is None
    assert ("the transform base_link -> base_footprint would be extrapolated: the stamp is after its last sample"
            in buffer.last_error), buffer.last_error
    assert buffer.lookup(FLOOR, FRAME_ID, T0 - 31_000_000) is None and "before its first sample" in buffer.last_error
    assert buffer.lookup("odom", FRAME_ID, T0) is None and "the frame 'odom' is not in the bag's TF" in buffer.last_error
    # a frame to itself is the identity, known to TF or not, as in tf2 (so --floor-frame set to the
    # camera's own frame is a mount the floor refuses, frames_floor_tf_refused, in bag and node alike)
    assert buffer.lookup("odom", "odom", T0).translation == pytest.approx(np.zeros(3))
    buffer.add(make("tf2_msgs/msg/TFMessage", transforms=[transform(T0, "map", "odom", (Rotation.identity(),
                                                                                        np.zeros(3)))]), static=True)
    assert buffer.lookup("odom", FRAME_ID, T0) is None and "no path from 'camera_optical_frame' to 'odom'" in buffer.last_error
    broken = transform(T0, "map", "broken", (Rotation.identity(), np.zeros(3)))
    broken.transform.rotation.w = 0.0
    buffer.add(make("tf2_msgs/msg/TFMessage", transforms=[broken]), static=True)
    assert buffer.unusable == 1 and buffer.lookup("map", "broken", T0) is None


def test_a_tolerance_holds_the_last_sample_a_little_past_it(tf_bag):
    last_sample = T0 + (WITH_TF - 1) * PERIOD + SAMPLES[1][0]
    held = bag_buffer(tf_bag, tolerance_ns=100_000_000)
    assert mount_at(held, last_sample + 80_000_000) == pytest.approx(mount_on(base_sample(*SAMPLES[1][1:])), abs=1e-9)
    assert held.lookup(FLOOR, FRAME_ID, last_sample + 101_000_000) is None and "tolerance 0.1 s" in held.last_error


def run_bag(source: Path, output: Path, capsys, *options: str) -> tuple[np.ndarray, str]:
    """``poselifter bag`` in keypoints mode (tracking off: one frame's mount alone decides its
    depth): the people's root depths and the printed summary."""
    assert main(["bag", str(source), str(output), "--mode", "keypoints", "--backend", BACKEND, "--no-progress",
                 "--set", "frame.tracking.enabled=false", *options]) == 0
    roots = np.array([array.skeletons[0].root.z for _, array in read_bag(output)[1]["/pose3d/skeletons"]])
    return roots, capsys.readouterr().out


def test_bag_takes_the_mount_from_the_bags_tf(tmp_path, capsys):
    """The same person as test_bag's --set test: with --floor-frame the frames whose TF is in the
    bag get the mount --set gives (the same roots), the last one (no /tf there) the lifter's alone,
    counted; a floor frame the bag lacks falls back to cascade.floor in every frame."""
    truth, xy = camera_view(standing_person(0.85, 6.0, swing_m=0.1), HEIGHT, PITCH, ROLL)
    data = SimpleNamespace(intrinsics=np.tile(MOUNTED_K, (FRAMES, 1)), image_size=np.tile([1280, 720], (FRAMES, 1)),
                           keypoints_2d=np.tile(xy, (FRAMES, 1, 1)))
    source = write_bag(tmp_path / "in", "mcap", sorted_records(keypoints_records(data) + tf_records()))
    mount = [arg for key, value in MOUNTED_AT.items() for arg in ("--set", f"cascade.floor.{key}={value}")]
    by_set, printed_set = run_bag(source, tmp_path / "set", capsys, *mount)
    by_tf, printed = run_bag(source, tmp_path / "tf", capsys, "--floor-frame", FLOOR)
    lifter, _ = run_bag(source, tmp_path / "lifter", capsys)
    assert "camera mount from TF" not in printed_set
    assert (f"camera mount from TF (floor_frame {FLOOR}; transforms read from /tf_static and /tf {2 + 2 * WITH_TF}, "
            f"unusable 0): frames_floor_from_tf {WITH_TF}, frames_floor_no_tf 1, frames_floor_tf_refused 0"
            in printed.splitlines()), printed
    assert "  without it, no floor (cascade.floor.camera_height_m is 0):" in printed.splitlines()
    assert "would be extrapolated: the stamp is after its last sample" in printed
    assert (f"root depth from the floor: fused {WITH_TF}, no ankle on the floor 0, of these carried by their track's "
            "floor ratio 0, disagreed with the lifter 0" in printed.splitlines())
    assert by_tf[:WITH_TF] == pytest.approx(by_set[:WITH_TF], abs=1e-5)
    assert by_tf[WITH_TF] == pytest.approx(lifter[WITH_TF], abs=1e-5) and abs(lifter[WITH_TF] - by_set[WITH_TF]) > 0.3
    assert abs(by_tf[0] / truth[0, 2] - 1) < 0.05
    # a floor frame the bag's TF lacks: every frame falls back to cascade.floor (here --set's mount)
    fallback, printed = run_bag(source, tmp_path / "odom", capsys, "--floor-frame", "odom", *mount)
    assert f"frames_floor_from_tf 0, frames_floor_no_tf {FRAMES}, frames_floor_tf_refused 0" in printed
    assert "the frame 'odom' is not in the bag's TF" in printed and "the cascade.floor parameters' mount" in printed
    assert fallback == pytest.approx(by_set, abs=1e-6)


def test_a_bag_without_tf_falls_back_in_every_frame_and_says_why(tmp_path, capsys):
    """--floor-frame on a bag with no /tf or /tf_static (a video-bag made without --mount): every
    frame falls back to cascade.floor, and the summary says the bag has no TF (it crashed: the TF
    pass read every topic, a CameraInfo taken for a TFMessage)."""
    truth, xy = camera_view(standing_person(0.85, 6.0, swing_m=0.1), HEIGHT, PITCH, ROLL)
    data = SimpleNamespace(intrinsics=np.tile(MOUNTED_K, (FRAMES, 1)), image_size=np.tile([1280, 720], (FRAMES, 1)),
                           keypoints_2d=np.tile(xy, (FRAMES, 1, 1)))
    source = write_bag(tmp_path / "in", "mcap", keypoints_records(data))
    mount = [arg for key, value in MOUNTED_AT.items() for arg in ("--set", f"cascade.floor.{key}={value}")]
    by_set, _ = run_bag(source, tmp_path / "set", capsys, *mount)
    fallback, printed = run_bag(source, tmp_path / "tf", capsys, "--floor-frame", FLOOR, *mount)
    assert (f"camera mount from TF (floor_frame {FLOOR}; transforms read from the bag (it has no /tf or /tf_static "
            f"topic) 0, unusable 0): frames_floor_from_tf 0, frames_floor_no_tf {FRAMES}, frames_floor_tf_refused 0"
            in printed.splitlines()), printed
    assert (f"  {FRAMES} x no transform {FRAME_ID} -> {FLOOR} at the image stamp: the frame {FRAME_ID!r} is not in "
            "the bag's TF (0 frames: no usable transform on /tf or /tf_static)" in printed.splitlines()), printed
    assert fallback == pytest.approx(by_set, abs=1e-6)


def test_copy_inputs_copies_the_bags_tf(tmp_path, capsys):
    """--copy-inputs copies /tf and /tf_static with the input topics (a robot's frames for RViz), with
    or without --floor-frame; with --tf-topic /tf the people's body frames share the one /tf."""
    _, xy = camera_view(standing_person(0.85, 6.0, swing_m=0.1), HEIGHT, PITCH, ROLL)
    data = SimpleNamespace(intrinsics=np.tile(MOUNTED_K, (FRAMES, 1)), image_size=np.tile([1280, 720], (FRAMES, 1)),
                           keypoints_2d=np.tile(xy, (FRAMES, 1, 1)))
    source = write_bag(tmp_path / "in", "mcap", sorted_records(keypoints_records(data) + tf_records()))
    _, given = read_bag(source)
    for name, options, body_frames in (("plain", (), 0), ("floor", ("--floor-frame", FLOOR), 0),
                                       ("bodies", ("--floor-frame", FLOOR, "--tf-topic", "/tf"), FRAMES)):
        run_bag(source, tmp_path / name, capsys, "--copy-inputs", *options)
        types, written = read_bag(tmp_path / name)
        assert types["/tf_static"] == types["/tf"] == "tf2_msgs/msg/TFMessage", (name, types)
        assert [log for log, _ in written["/tf_static"]] == [log for log, _ in given["/tf_static"]], name
        robot = [(log, m) for log, m in written["/tf"] if m.transforms[0].child_frame_id == "base_link"]
        assert [log for log, _ in robot] == [log for log, _ in given["/tf"]], name
        assert len(written["/tf"]) - len(robot) == body_frames, name
    run_bag(source, tmp_path / "none", capsys)  # without --copy-inputs: only the results
    assert "/tf" not in read_bag(tmp_path / "none")[0]


def tf_message(*transforms) -> object:
    return make("tf2_msgs/msg/TFMessage", transforms=list(transforms))


def test_a_frame_has_one_parent_the_one_its_last_transform_names():
    """tf2's tree: a camera re-mounted (a later /tf_static naming another parent) is looked up
    through its new parent alone, though the old edge would be a shorter way to the floor; a
    loop is refused, not walked forever."""
    buffer = TfBuffer()
    buffer.add(tf_message(transform(T0, FLOOR, "camera", (Rotation.identity(), np.array([0.0, 0.0, 1.0])))), static=True)
    buffer.add(tf_message(transform(T0, FLOOR, "mast", (Rotation.identity(), np.array([0.0, 0.0, 2.0]))),
                          transform(T0, "mast", "camera", (Rotation.identity(), np.array([0.5, 0.0, 0.0])))),
               static=True)
    assert buffer.transforms == 2
    assert buffer.lookup(FLOOR, "camera", T0).translation == pytest.approx([0.5, 0.0, 2.0], abs=1e-12)
    buffer.add(tf_message(transform(T0, "camera", "mast", (Rotation.identity(), np.zeros(3)))), static=True)
    assert buffer.lookup("mast", "camera", T0) is None and "has a loop: camera -> mast -> camera" in buffer.last_error


def test_transforms_tf2_ignores_are_skipped_and_a_leading_slash_is_dropped():
    """As tf2's BufferCore::setTransformImpl, so that bag and the node's tf2 read a bag's TF alike: a
    quaternion of norm 2 is no rotation (ignored, not normalized; a squared norm within 0.01 of 1
    is taken), and one leading '/' of a frame name is dropped (ROS 1 names)."""
    buffer = TfBuffer()
    scaled = transform(T0, FLOOR, "camera", (Rotation.identity(), np.array([0.0, 0.0, 1.0])))
    scaled.transform.rotation.w = 2.0
    rounded = transform(T0, "/" + FLOOR, "/mast", (Rotation.identity(), np.array([0.0, 0.0, 2.0])))
    rounded.transform.rotation.w = 1.004
    buffer.add(tf_message(scaled, rounded), static=True)
    assert buffer.unusable == 1 and buffer.lookup(FLOOR, "camera", T0) is None
    found = buffer.lookup(FLOOR, "mast", T0)
    assert found is not None and found.translation == pytest.approx([0.0, 0.0, 2.0], abs=1e-12)
    assert found.rotation == pytest.approx(np.eye(3), abs=1e-12)
