"""``poselifter video-bag``: bags of a video or an image folder, read back with rosbags and processed by ``poselifter bag``."""
from __future__ import annotations

import logging
import math

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_typestore
from skimage.data import astronaut  # NASA portrait of Eileen Collins, public domain

from poselifter_core.cascade import CascadeConfig
from poselifter_core.cli import main
from poselifter_core.rosmsg.images import compressed_to_rgb, image_to_rgb
from poselifter_core.rosmsg.recording import CAMERA_INFO_LEAD_NS, CameraCalibration, FrameClock

T0 = 1_700_000_000 * 10**9
SIZE = (64, 48)  # width, height
FPS = 12.5


def write_video(path, frames: list[np.ndarray], fps: float = FPS):
    """An MJPG .avi of RGB ``frames``."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return path


def gradients(count: int) -> list[np.ndarray]:
    """Frames that differ (a brightness ramp), each with a red left half: colour order shows."""
    frames = []
    for i in range(count):
        frame = np.full((SIZE[1], SIZE[0], 3), 40 + 30 * i, np.uint8)
        frame[:, : SIZE[0] // 2, 0] = 250
        frames.append(frame)
    return frames


def read(path):
    """Topic -> type, and topic -> [(log time, message)], decoded with the Jazzy typestore (whose
    definitions the bag must store: the digests match)."""
    typestore = get_typestore(Stores.ROS2_JAZZY)
    with Reader(path) as reader:
        for connection in reader.connections:
            assert connection.digest == typestore.hash_rihs01(connection.msgtype), connection.topic
        types = {c.topic: c.msgtype for c in reader.connections}
        messages = {topic: [] for topic in types}
        for connection, log_ns, raw in reader.messages():
            messages[connection.topic].append((log_ns, typestore.deserialize_cdr(raw, connection.msgtype)))
    return types, messages


def stamp_of(message) -> int:
    return message.header.stamp.sec * 10**9 + message.header.stamp.nanosec


def fails(capsys, *args) -> str:
    assert main(["video-bag", *map(str, args), "--no-progress"]) == 2
    return capsys.readouterr().err


def test_a_video_becomes_images_and_camera_infos_with_its_stamps(tmp_path, capsys):
    frames = gradients(5)
    video = write_video(tmp_path / "clip.avi", frames)
    output = tmp_path / "bag"
    assert main(["video-bag", str(video), str(output), "--fov", "90", "--start", str(T0 / 1e9), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "frames written: 5 (64x48)" in printed and f"next: poselifter bag {output} {output}_3d" in printed

    metadata = yaml.safe_load((output / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert metadata["storage_identifier"] == "mcap" and metadata["version"] == 8  # what Jazzy writes
    assert metadata["custom_data"]["poselifter.source"] == str(video)
    types, messages = read(output)
    assert types == {"/camera/image_raw": "sensor_msgs/msg/Image", "/camera/camera_info": "sensor_msgs/msg/CameraInfo"}
    images, infos = messages["/camera/image_raw"], messages["/camera/camera_info"]
    assert len(images) == len(infos) == 5
    stamps = [T0 + round(i * 1e9 / FPS) for i in range(5)]  # the video's frame times: 80 ms apart
    assert [stamp_of(m) for _, m in images] == [stamp_of(m) for _, m in infos] == stamps
    assert [log for log, _ in images] == stamps
    assert [log for log, _ in infos] == [s - CAMERA_INFO_LEAD_NS for s in stamps]  # latched before its image
    for (_, image), (_, info), frame in zip(images, infos, frames):
        assert image.header.frame_id == info.header.frame_id == "camera_optical_frame"
        assert (image.encoding, image.width, image.height, image.step) == ("bgr8", 64, 48, 64 * 3)
        decoded = image_to_rgb(image.data, image.height, image.width, image.encoding, image.step)
        assert np.abs(decoded.astype(int) - frame).mean() < 6  # MJPG is lossy; the channel order is right
        # K from the field of view: f = (w / 2) / tan(fov / 2) = 32 px at 90 degrees, the centre pixel
        np.testing.assert_allclose(info.k, [32, 0, 31.5, 0, 32, 23.5, 0, 0, 1])
        np.testing.assert_allclose(info.p, [32, 0, 31.5, 0, 0, 32, 23.5, 0, 0, 0, 1, 0])
        assert (info.width, info.height, info.distortion_model) == (64, 48, "plumb_bob") and not info.d.any()


def test_round_trip_through_poselifter_bag(tmp_path, capsys):
    """A photo of a person as a 3-frame video: ``poselifter bag`` lifts her in every frame, at a
    metric depth (the CameraInfo was used)."""
    portrait = np.zeros((240, 320, 3), np.uint8)
    portrait[:, 40:280] = np.asarray(Image.fromarray(astronaut()).resize((240, 240)))
    video = write_video(tmp_path / "portrait.avi", [portrait] * 3, fps=10)
    assert main(["video-bag", str(video), str(tmp_path / "in"), "--fov", "60", "--no-progress"]) == 0
    capsys.readouterr()
    # 7 joints: as in test_bag.py, her legs are out of the picture
    assert main(["bag", str(tmp_path / "in"), str(tmp_path / "out"), "--backend", "onnxruntime-cpu",
                 "--set", "cascade.min_valid_joints=7", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "inputs: image /camera/image_raw, camera_info /camera/camera_info" in printed
    assert "frames processed: 3, people lifted: 3" in printed and "camera infos rejected: 0" in printed
    skeletons = read_output(tmp_path / "out")["/pose3d/skeletons"]
    assert len(skeletons) == 3 and all(array.skeletons[0].metric_depth for array in skeletons)


def read_output(path) -> dict[str, list]:
    """The output bag's messages per topic (poselifter_msgs from our typestore)."""
    from poselifter_core.rosmsg.rosbags_types import poselifter_typestore

    typestore = poselifter_typestore()
    with Reader(path) as reader:
        found: dict[str, list] = {}
        for connection, _, raw in reader.messages():
            found.setdefault(connection.topic, []).append(typestore.deserialize_cdr(raw, connection.msgtype))
    return found


def test_options_fps_jpeg_sqlite_topics_and_max_frames(tmp_path, capsys):
    video = write_video(tmp_path / "clip.avi", gradients(5))
    output = tmp_path / "bag"
    assert main(["video-bag", str(video), str(output), "--fov", "60", "--fps", "4", "--start", "100",
                 "--encoding", "jpeg", "--jpeg-quality", "95", "--storage", "sqlite3", "--max-frames", "3",
                 "--image-topic", "/front/image", "--frame-id", "front_optical", "--no-progress"]) == 0
    assert list(output.glob("*.db3"))
    types, messages = read(output)
    assert types == {"/front/image/compressed": "sensor_msgs/msg/CompressedImage",
                     "/front/camera_info": "sensor_msgs/msg/CameraInfo"}
    images = messages["/front/image/compressed"]
    assert [stamp_of(m) for _, m in images] == [100 * 10**9 + i * 250_000_000 for i in range(3)]  # --fps 4
    for _, image in images:
        assert image.format == "bgr8; jpeg compressed bgr8" and image.header.frame_id == "front_optical"
        assert compressed_to_rgb(image.data, image.format).shape == (48, 64, 3)
    assert "frames written: 3" in capsys.readouterr().out


def test_a_camera_calibration_yaml_is_written_as_the_camera_info(tmp_path, capsys):
    """The ROS camera_calibration format; a calibration at twice the frame size (binning) is
    accepted (the node rescales K), another aspect ratio is refused before anything is written."""
    video = write_video(tmp_path / "clip.avi", gradients(2))
    calibration = {"image_width": 128, "image_height": 96, "camera_name": "front",
                   "camera_matrix": {"rows": 3, "cols": 3, "data": [100.0, 0, 63.5, 0, 101.0, 47.5, 0, 0, 1]},
                   "distortion_model": "plumb_bob",
                   "distortion_coefficients": {"rows": 1, "cols": 5, "data": [-0.1, 0.02, 0.001, 0.0, 0.0]},
                   "rectification_matrix": {"rows": 3, "cols": 3, "data": [1, 0, 0, 0, 1, 0, 0, 0, 1]},
                   "projection_matrix": {"rows": 3, "cols": 4, "data": [90.0, 0, 63, 0, 0, 91.0, 47, 0, 0, 0, 1, 0]}}
    path = tmp_path / "front.yaml"
    path.write_text(yaml.safe_dump(calibration))
    assert main(["video-bag", str(video), str(tmp_path / "bag"), "--camera-info", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    infos = [m for _, m in read(tmp_path / "bag")[1]["/camera/camera_info"]]
    assert len(infos) == 2
    for info in infos:
        assert (info.width, info.height, info.distortion_model) == (128, 96, "plumb_bob")
        np.testing.assert_allclose(info.k, calibration["camera_matrix"]["data"])
        np.testing.assert_allclose(info.d, calibration["distortion_coefficients"]["data"])
        np.testing.assert_allclose(info.p, calibration["projection_matrix"]["data"])

    calibration["image_height"] = 128  # 128x128 for 64x48 frames
    path.write_text(yaml.safe_dump(calibration))
    assert "another aspect ratio" in fails(capsys, video, tmp_path / "b2", "--camera-info", path)
    assert not (tmp_path / "b2").exists()
    for change, message in (({"camera_matrix": None}, "camera_matrix must be a mapping with a 'data' list"),
                            ({"image_width": None}, "image width must be a positive integer"),
                            ({"camera_matrix": {"data": [0] * 9}}, "CameraInfo K rejected"),
                            ({"distortion_model": "fisheye"}, "unsupported distortion model 'fisheye'")):
        broken = {**calibration, "image_height": 96, **change}
        if change.get("image_width", 1) is None:
            broken.pop("image_width")
            message = "no image_width"
        path.write_text(yaml.safe_dump(broken))
        assert message in fails(capsys, video, tmp_path / "b2", "--camera-info", path)
    path.write_text("image_width: [unclosed\n")
    assert "cannot read the camera calibration" in fails(capsys, video, tmp_path / "b2", "--camera-info", path)
    assert "no camera calibration file" in fails(capsys, video, tmp_path / "b2", "--camera-info", tmp_path / "no.yaml")


def test_start_zero_writes_a_bag_that_bag_reads(tmp_path, capsys):
    """--start 0 (stamps from 0, allowed): the first CameraInfo, logged 1 ms before its image, would
    have had a negative log time, and the MCAP writer crashed with an OverflowError traceback; it is
    logged at 0, before its image, and the frames pair as any."""
    video = write_video(tmp_path / "clip.avi", gradients(3))
    output = tmp_path / "bag"
    assert main(["video-bag", str(video), str(output), "--fov", "60", "--start", "0", "--fps", "10",
                 "--no-progress"]) == 0
    _, messages = read(output)
    infos, images = messages["/camera/camera_info"], messages["/camera/image_raw"]
    assert [log for log, _ in infos] == [0, 99_000_000, 199_000_000]
    assert [stamp_of(m) for _, m in infos] == [stamp_of(m) for _, m in images] == [0, 100_000_000, 200_000_000]
    capsys.readouterr()
    assert main(["bag", str(output), str(tmp_path / "out"), "--backend", "onnxruntime-cpu", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "frames processed: 3" in printed and "image: received 3, matched 3" in printed, printed


def test_a_folder_of_images_skips_the_unreadable_ones(tmp_path, capsys, caplog):
    folder = tmp_path / "images"
    folder.mkdir()
    for i, frame in enumerate(gradients(3)):
        Image.fromarray(frame).save(folder / f"frame_{i}.png")
    (folder / "frame_1b.png").write_bytes(b"not a png")
    with caplog.at_level(logging.WARNING):
        assert main(["video-bag", str(folder), str(tmp_path / "bag"), "--start", "10", "--encoding", "rgb8",
                     "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "frames written: 3" in printed and "1 x unreadable image" in printed and "frame_1b.png" in caplog.text
    assert "no CameraInfo was written" in printed and "--set frame.require_camera_info=false" in printed
    assert f"then a {CascadeConfig().default_hfov_deg:g} degree camera is assumed" in printed  # the setting's own
    types, messages = read(tmp_path / "bag")
    assert types == {"/camera/image_raw": "sensor_msgs/msg/Image"}  # no camera: no CameraInfo topic
    images = [m for _, m in messages["/camera/image_raw"]]
    assert [stamp_of(m) for m in images] == [10 * 10**9 + round(i * 1e9 / 30) for i in range(3)]  # 30 fps
    for image, frame in zip(images, gradients(3)):  # lossless: the very pixels, in name order
        assert image.encoding == "rgb8"
        np.testing.assert_array_equal(image_to_rgb(image.data, image.height, image.width, "rgb8", image.step), frame)


def test_a_folder_of_images_of_two_sizes_says_both_and_gives_each_its_camera(tmp_path, capsys):
    """A folder of photos of different sizes: the summary gives each size with its frames (not the
    first frame's size alone), and each frame's CameraInfo is of its own size."""
    folder = tmp_path / "images"
    folder.mkdir()
    for i, frame in enumerate(gradients(3)):  # 64x48
        Image.fromarray(frame).save(folder / f"a_{i}.png")
    Image.fromarray(np.ascontiguousarray(gradients(1)[0][:24, :40])).save(folder / "b.png")
    assert main(["video-bag", str(folder), str(tmp_path / "bag"), "--fov", "60", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "frames written: 4 (3 x 64x48, 1 x 40x24)" in printed, printed
    _, messages = read(tmp_path / "bag")
    assert [(m.width, m.height) for _, m in messages["/camera/camera_info"]] == [(64, 48)] * 3 + [(40, 24)]


def test_command_line_errors_are_clear(tmp_path, capsys):
    video = write_video(tmp_path / "clip.avi", gradients(2))
    (tmp_path / "text.avi").write_text("not a video\n" * 100)
    assert f"cannot read video {tmp_path / 'text.avi'}" in fails(capsys, tmp_path / "text.avi", tmp_path / "out")
    assert "no such image, video or folder" in fails(capsys, tmp_path / "missing.avi", tmp_path / "out")
    (tmp_path / "exists").mkdir()
    assert "exists already" in fails(capsys, video, tmp_path / "exists")
    for fov in ("180", "0.5", "nan"):
        assert "--fov must be" in fails(capsys, video, tmp_path / "out", "--fov", fov)
    assert "--max-frames must be at least 1" in fails(capsys, video, tmp_path / "out", "--max-frames", "0")
    assert "--fps must be a positive number" in fails(capsys, video, tmp_path / "out", "--fps", "0")
    assert "must be an absolute ROS topic name" in fails(capsys, video, tmp_path / "out", "--image-topic", "camera")
    assert "JPEG quality must be an integer in [1, 100]" in fails(capsys, video, tmp_path / "out", "--encoding", "jpeg",
                                                                  "--jpeg-quality", "0")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.jpg").write_bytes(b"\xff\xd8\xff broken")
    assert "no frames to write: " in fails(capsys, empty, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit):  # argparse: one camera
        main(["video-bag", str(video), str(tmp_path / "out"), "--fov", "60", "--camera-info", "x.yaml"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_frame_clock_follows_the_source_and_retimes_what_does_not_advance():
    clock = FrameClock(T0, fps=10.0)
    stamps = [clock.stamp(t) for t in (5.0, 5.04, 5.04, 5.3, math.nan, 5.2, 5.65)]
    period = 100_000_000
    expected = [T0, T0 + 40_000_000, T0 + 40_000_000 + period, T0 + 300_000_000, T0 + 300_000_000 + period,
                T0 + 300_000_000 + 2 * period, T0 + 650_000_000]
    assert stamps == expected and clock.retimed == 3
    fixed = FrameClock(T0, fps=4.0, use_source_times=False)
    assert [fixed.stamp(t) for t in (5.0, 5.0, None)] == [T0, T0 + 250_000_000, T0 + 500_000_000]
    assert fixed.retimed == 0
    with pytest.raises(ValueError, match="frame rate must be a positive number"):
        FrameClock(T0, fps=0.0)


def test_calibration_from_intrinsics_matches_the_camera_it_was_made_from():
    from poselifter_core.camera import Intrinsics

    calibration = CameraCalibration.from_intrinsics(Intrinsics.from_fov(640, 480, 70.0), 640, 480)
    assert calibration.k[0] == pytest.approx(320 / math.tan(math.radians(35)))
    assert calibration.projection[:3] == calibration.k[:3] and len(calibration.projection) == 12
    calibration.check_image(320, 240)  # binned: the node rescales K
    with pytest.raises(ValueError, match="another aspect ratio"):
        calibration.check_image(640, 640)


def test_the_messages_decode_with_the_ros_type_support(tmp_path):
    """Jazzy's own C type support (through rclpy) reads the images and CameraInfos, as ros2 bag play does."""
    serialization = pytest.importorskip("rclpy.serialization")
    from sensor_msgs.msg import CameraInfo, CompressedImage
    from sensor_msgs.msg import Image as ImageMsg

    video = write_video(tmp_path / "clip.avi", gradients(2))
    for encoding, msg_class in (("bgr8", ImageMsg), ("jpeg", CompressedImage)):
        output = tmp_path / encoding
        assert main(["video-bag", str(video), str(output), "--fov", "90", "--encoding", encoding, "--no-progress"]) == 0
        _, messages = read(output)
        with Reader(output) as reader:
            raw = {c.topic: [] for c in reader.connections}
            for connection, _, data in reader.messages():
                raw[connection.topic].append(data)
        (image_topic,) = [topic for topic in raw if "image" in topic]
        for data, (_, expected) in zip(raw[image_topic], messages[image_topic], strict=True):
            image = serialization.deserialize_message(data, msg_class)
            assert bytes(image.data) == expected.data.tobytes() and image.header.frame_id == "camera_optical_frame"
        for data, (_, expected) in zip(raw["/camera/camera_info"], messages["/camera/camera_info"], strict=True):
            info = serialization.deserialize_message(data, CameraInfo)
            assert list(info.k) == expected.k.tolist() and info.header.stamp.nanosec == expected.header.stamp.nanosec


def test_a_mount_is_written_as_tf_static_that_bag_takes(tmp_path, capsys):
    """--mount: one /tf_static, logged before the first frame, from which the bag's TF gives the
    mount back (to 1e-9), and which 'poselifter bag --floor-frame' uses for every frame."""
    from poselifter_core.floor import mount_from_camera_pose
    from poselifter_core.rosmsg.tf_buffer import TfBuffer

    video = write_video(tmp_path / "clip.avi", gradients(3))
    output = tmp_path / "bag"
    assert main(["video-bag", str(video), str(output), "--fov", "60", "--start", str(T0 / 1e9), "--mount", "5.62",
                 "26.6", "-2.3", "--floor-frame", "floor", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"next: poselifter bag {output} {output}_3d --floor-frame floor" in printed
    # TF carries no error: the angle error the mount needs is pointed at (a user lost fit-floor's 2.59 deg)
    assert "which TF does not carry (fit-floor prints it; default 0.5 deg): --set cascade.floor.angle_error_deg=DEG" \
        in printed
    types, messages = read(output)
    assert types["/tf_static"] == "tf2_msgs/msg/TFMessage" and len(messages["/tf_static"]) == 1
    log_ns, static = messages["/tf_static"][0]
    assert log_ns < min(log for log, _ in messages["/camera/camera_info"])
    (stamped,) = static.transforms
    assert (stamped.header.frame_id, stamped.child_frame_id, stamp_of(stamped)) == ("floor", "camera_optical_frame", T0)
    buffer = TfBuffer()
    buffer.add(static, static=True)
    found = buffer.lookup("floor", "camera_optical_frame", T0 + 10**9)
    assert mount_from_camera_pose(found.rotation, found.translation) == pytest.approx((5.62, 26.6, -2.3), abs=1e-9)
    assert main(["bag", str(output), str(tmp_path / "out"), "--backend", "onnxruntime-cpu", "--floor-frame", "floor",
                 "--no-progress"]) == 0
    assert ("camera mount from TF (floor_frame floor; transforms read from /tf_static 1, unusable 0): "
            "frames_floor_from_tf 3, frames_floor_no_tf 0, frames_floor_tf_refused 0") in capsys.readouterr().out
    for mount, error in ((("0", "10", "0"), "the mount's height must be above the floor"),
                         (("1.5", "95", "0"), "mount: cascade.floor.camera_pitch_deg must be in [-90.0, 90.0]")):
        assert error in fails(capsys, video, tmp_path / "bad", "--fov", "60", "--mount", *mount)


def test_a_floor_frame_without_a_mount_or_on_the_camera_frame_and_a_mount_without_a_camera_are_refused(tmp_path, capsys):
    """--floor-frame alone used to be ignored in silence (no /tf_static written), and --floor-frame
    equal to the frame id wrote a transform from a frame to itself that bag's TF drops."""
    video = write_video(tmp_path / "clip.avi", gradients(2))
    assert "--floor-frame names the parent frame of --mount's /tf_static transform: give --mount" in fails(
        capsys, video, tmp_path / "out", "--fov", "60", "--floor-frame", "odom")
    assert "the floor frame must not be the camera's frame id ('camera_optical_frame')" in fails(
        capsys, video, tmp_path / "out", "--fov", "60", "--mount", "2", "10", "0", "--floor-frame", "camera_optical_frame")
    # tf2 refuses frame ids with a leading '/': a bag the node's TF could not use
    for option in ("--floor-frame", "--frame-id"):
        assert "not starting with '/' (tf2's frame ids), got '/base'" in fails(
            capsys, video, tmp_path / "out", "--fov", "60", "--mount", "2", "10", "0", option, "/base")
    # a mount without the camera: no CameraInfo, so bag and the node would assume the intrinsics and never use it
    assert "--mount needs the camera, --fov or --camera-info" in fails(capsys, video, tmp_path / "out", "--mount", "2",
                                                                        "10", "0")
    assert not (tmp_path / "out").exists()


def test_the_help_gives_the_mounts_units_and_signs(capsys):
    """A robot's mount typed into --mount (or bag's cascade.floor) with a sign flipped puts everyone
    at the wrong depth: both --help texts say which way pitch and roll are positive."""
    for command in ("video-bag", "bag"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "positive looking down" in text and "positive clockwise" in text and "seen from behind" in text, command


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_the_mounts_tf_static_is_offered_latched_as_tf2_offers_it(tmp_path, capsys, storage):
    """'ros2 bag play' offers each topic the QoS stored with it, and without one the default
    volatile QoS, which tf2's and RViz's transient-local /tf_static subscriptions refuse
    (ros2/rviz#916): --mount's transform would never reach the node's floor_frame."""
    from rosbags.interfaces import QosDurability, QosHistory, QosReliability

    video = write_video(tmp_path / "clip.avi", gradients(2))
    assert main(["video-bag", str(video), str(tmp_path / "bag"), "--fov", "60", "--mount", "2", "10", "0",
                 "--storage", storage, "--no-progress"]) == 0
    with Reader(tmp_path / "bag") as reader:
        offered = {c.topic: c.ext.offered_qos_profiles for c in reader.connections}
    (qos,) = offered["/tf_static"]
    assert (qos.durability, qos.reliability, qos.history, qos.depth) == (
        QosDurability.TRANSIENT_LOCAL, QosReliability.RELIABLE, QosHistory.KEEP_LAST, 1)
    assert offered["/camera/camera_info"] == []  # the player's default (reliable, volatile) for the rest
