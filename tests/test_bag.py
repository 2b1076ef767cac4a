"""``poselifter bag``: real rosbag2 bags (sqlite3 and MCAP) written with rosbags, processed without ROS."""
from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from PIL import Image
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from skimage.data import astronaut  # NASA portrait of Eileen Collins, public domain

from poselifter_core import __version__, shipped
from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeConfig
from poselifter_core.cli import main
from poselifter_core.digest import file_sha256
from poselifter_core.infer import build_cascade, load_lifter_runtime
from poselifter_core.integrity import LIFTER_CHECKPOINT
from poselifter_core.rosmsg import outputs, recording
from poselifter_core.rosmsg.bag import BagConfig, BagTopics, plan_bag, process_bag
from poselifter_core.rosmsg.frames import FrameConfig
from poselifter_core.rosmsg.outputs import BONES_NS, JOINTS_NS, MARKER_ADD, MARKER_DELETEALL, TRAILS_NS
from poselifter_core.rosmsg.recording import CameraCalibration, camera_info_message, frame_records, image_message
from poselifter_core.rosmsg.rosbags_factory import message_factory
from poselifter_core.rosmsg.rosbags_types import MSG_DIR, poselifter_typestore
from poselifter_core.rosmsg.sync import FUTURE_STAMPS, RESETS
from poselifter_core.skeleton import H36M17

from conftest import MOUNTED_K, camera_view, standing_person

REPO = Path(__file__).resolve().parents[1]
VISION_MSGS = Path(__file__).resolve().parent / "ros_interfaces" / "vision_msgs" / "msg"
BACKEND = "onnxruntime-cpu"  # deterministic, and what the reference lift below uses
T0 = 1_700_000_000 * 10**9  # first stamp [ns]
PERIOD = 100_000_000  # 10 Hz
FRAME_ID = "camera_optical_frame"
# The 512 px portrait shrunk into a 320x240 frame; her legs are out of the picture, so fewer
# joints than the default 13 are confident: the image tests lower the bar to 7 (she has 7-8; the
# OpenCV letterbox of #16 moved one elbow score from 0.34 to 0.30, at the 0.3 joint threshold).
PORTRAIT_MIN_VALID = 7
PORTRAIT_MIN_VALID_JOINTS = f"cascade.min_valid_joints={PORTRAIT_MIN_VALID}"


def input_typestore():
    """What the recording side knows: Jazzy, poselifter_msgs and vision_msgs (the test copy)."""
    typestore = poselifter_typestore()
    types = {}
    for path in sorted(VISION_MSGS.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"vision_msgs/msg/{path.stem}"))
    typestore.register(types)
    return typestore


TYPESTORE = input_typestore()
make = message_factory(TYPESTORE)


def jazzy_typestore():
    """What ``ros2 bag play`` on Jazzy has: the standard types plus our installed poselifter_msgs."""
    typestore = get_typestore(Stores.ROS2_JAZZY)
    types = {}
    for path in sorted((REPO / "msg").glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"poselifter_msgs/msg/{path.stem}"))
    typestore.register(types)
    return typestore


def header(stamp: int, frame_id: str = FRAME_ID):
    return outputs.header(make, stamp, frame_id)


def camera_info(stamp: int, size: tuple[int, int], fx: float, fy: float, cx: float, cy: float):
    """A distortion-free CameraInfo, as ``poselifter video-bag`` writes it."""
    return camera_info_message(make, CameraCalibration.from_intrinsics(Intrinsics(fx, fy, cx, cy), *size), stamp,
                               FRAME_ID)


def write_bag(path: Path, storage: str, records: list[tuple[str, str, int, object]]) -> Path:
    """A rosbag2 bag of ``(topic, type, log time, message or raw bytes)``, in log-time order; version 9
    (rosbags' newest; the outputs are 8, what Jazzy writes)."""
    return recording.write_bag(path, storage, records, TYPESTORE, version=9)


def read_bag(path: Path) -> tuple[dict[str, str], dict[str, list]]:
    """Topic types and ``(log time, message)`` per topic, decoded with the Jazzy typestore."""
    typestore = jazzy_typestore()
    with Reader(path) as reader:
        for connection in reader.connections:  # the stored definitions are Jazzy's own
            assert connection.digest == typestore.hash_rihs01(connection.msgtype), connection.topic
        types = {c.topic: c.msgtype for c in reader.connections}
        messages: dict[str, list] = {topic: [] for topic in types}
        for connection, log_ns, raw in reader.messages():
            messages[connection.topic].append((log_ns, typestore.deserialize_cdr(raw, connection.msgtype)))
    return types, messages


def stamp_of(message) -> int:
    return message.header.stamp.sec * 10**9 + message.header.stamp.nanosec


def points(values) -> np.ndarray:
    return np.array([[p.x, p.y, p.z] for p in values])


# --- (a) keypoints mode: a known answer -------------------------------------------------------

FRAMES = 6


@pytest.fixture(scope="module")
def check_poses():
    """The shipped model's check set: clean 2D projections of held-out 3D poses, one camera each."""
    return shipped.check_set().subset(slice(0, FRAMES))


def keypoints_bag(path: Path, storage: str, data) -> Path:
    return write_bag(path, storage, keypoints_records(data))


def keypoints_records(data, start: int = T0, log_start: int = T0) -> list:
    """CameraInfo and keypoints of the first FRAMES poses of ``data``, stamped from ``start``
    and logged from ``log_start``, 10 Hz."""
    records = []
    for i in range(FRAMES):
        stamp = start + i * PERIOD
        log = log_start + i * PERIOD
        fx, fy, cx, cy = data.intrinsics[i]
        records.append(("/camera/camera_info", "sensor_msgs/msg/CameraInfo", log - 1_000_000,
                        camera_info(stamp, tuple(data.image_size[i]), fx, fy, cx, cy)))
        person = make("poselifter_msgs/msg/Keypoints2D", id=f"person{i}", layout="h36m17", score=1.0, keypoints=[
            make("poselifter_msgs/msg/Keypoint2D", x=float(x), y=float(y), score=1.0) for x, y in data.keypoints_2d[i]])
        records.append(("/people/keypoints", "poselifter_msgs/msg/Keypoints2DArray", log,
                        make("poselifter_msgs/msg/Keypoints2DArray", header=header(stamp), people=[person])))
    return records


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_keypoints_mode_gives_the_cascade_answer_close_to_the_truth(tmp_path, storage, check_poses):
    source = keypoints_bag(tmp_path / "in", storage, check_poses)
    output = tmp_path / "out"
    assert main(["bag", str(source), str(output), "--mode", "keypoints", "--backend", BACKEND, "--no-progress"]) == 0

    metadata = yaml.safe_load((output / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert metadata["storage_identifier"] == storage and metadata["version"] == 8  # what Jazzy writes
    assert metadata["custom_data"]["poselifter.input"] == str(source)
    assert json.loads(metadata["custom_data"]["poselifter.config"])["frame"]["mode"] == "keypoints"
    types, messages = read_bag(output)
    assert types == {"/pose3d/skeletons": "poselifter_msgs/msg/Skeleton3DArray",
                     "/pose3d/markers": "visualization_msgs/msg/MarkerArray"}
    skeletons = messages["/pose3d/skeletons"]
    assert [log for log, _ in skeletons] == [T0 + i * PERIOD for i in range(FRAMES)]  # the keypoints' log times

    runtime = load_lifter_runtime(None, BACKEND)
    absolute, relative, root_error = [], [], []
    for i, (_, array) in enumerate(skeletons):
        assert stamp_of(array) == T0 + i * PERIOD and array.header.frame_id == FRAME_ID
        (skeleton,) = array.skeletons
        assert skeleton.id == f"person{i}" and skeleton.skeleton == "h36m17" and skeleton.metric_depth
        assert len(skeleton.joint_names) == 17 and skeleton.joint_valid.all()
        joints, root = points(skeleton.joints), points([skeleton.root])[0]
        expected = runtime.lift(check_poses.keypoints_2d[i][None], check_poses.intrinsics[i][None])
        np.testing.assert_allclose(joints, expected.absolute[0] / 1000, atol=1e-6)  # metres: 1 um
        truth = check_poses.joints_3d[i] / 1000
        absolute.append(np.linalg.norm(joints - truth, axis=1).mean())
        relative.append(np.linalg.norm((joints - root) - (truth - truth[0]), axis=1).mean())
        root_error.append(np.linalg.norm(root - truth[0]) / truth[0, 2])
    # Measured on these 6 frames with the #18 model (people 4-16 m away, clean 2D): absolute MPJPE
    # 13-20 % of the depth, root-relative MPJPE 0.06-0.09 m, root error 13-21 % of the depth (clean
    # 2D is placed too far: docs/model_card.md, "Known limits"). Bounds with room for other backends.
    depth = check_poses.joints_3d[:FRAMES, 0, 2] / 1000
    assert max(np.array(absolute) / depth) < 0.3
    assert max(relative) < 0.15 and np.mean(relative) < 0.1
    assert max(root_error) < 0.3


def test_outputs_decode_with_the_ros_type_support(tmp_path, check_poses):
    """Jazzy's own C type support (through rclpy) reads what was written, as ros2 bag play and RViz do."""
    serialization = pytest.importorskip("rclpy.serialization")
    from sensor_msgs.msg import CameraInfo
    from visualization_msgs.msg import MarkerArray

    source = keypoints_bag(tmp_path / "in", "mcap", check_poses)
    output = tmp_path / "out"
    assert main(["bag", str(source), str(output), "--mode", "keypoints", "--backend", BACKEND, "--copy-inputs",
                 "--no-progress"]) == 0
    _, messages = read_bag(output)
    with Reader(output) as reader:
        raw = {topic: [data for c, _, data in reader.messages() if c.topic == topic]
               for topic in ("/pose3d/markers", "/camera/camera_info")}
    for data, (_, expected) in zip(raw["/pose3d/markers"], messages["/pose3d/markers"], strict=True):
        markers = serialization.deserialize_message(data, MarkerArray).markers
        assert [(m.ns, m.id, m.action, len(m.points)) for m in markers] == [
            (m.ns, m.id, m.action, len(m.points)) for m in expected.markers]
        assert markers[1].points[5].z == expected.markers[1].points[5].z
    infos = [serialization.deserialize_message(data, CameraInfo) for data in raw["/camera/camera_info"]]
    assert [list(info.k) for info in infos] == [m.k.tolist() for _, m in messages["/camera/camera_info"]]


# --- (b) image modes: a real photo -------------------------------------------------------------

@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    """The portrait shrunk to 240x240 in the middle of a black 320x240 frame."""
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[:, 40:280] = np.asarray(Image.fromarray(astronaut()).resize((240, 240)))
    return frame


def image_records(rgb: np.ndarray, frames: int, compressed: bool = False) -> list:
    """Per frame a CameraInfo (logged 1 ms early) and an rgb8 Image or a JPEG CompressedImage on
    /camera/image_raw(/compressed), stamped and logged from T0 at 10 Hz: ``poselifter video-bag``'s records."""
    calibration = CameraCalibration.from_intrinsics(Intrinsics(300.0, 300.0, 159.5, 119.5), 320, 240)
    records = []
    for i in range(frames):
        records += frame_records(make, rgb, T0 + i * PERIOD, calibration, FRAME_ID, "/camera/image_raw",
                                 encoding="jpeg" if compressed else "rgb8")
    assert [record[:3] for record in records[:2]] == [
        ("/camera/camera_info", "sensor_msgs/msg/CameraInfo", T0 - 1_000_000),
        ("/camera/image_raw/compressed" if compressed else "/camera/image_raw",
         "sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image", T0)]
    return records


def check_markers(array, people: int, trails: bool = False) -> None:
    """DELETEALL first, then per person a joints sphere list, a bones line list and (a track with a
    history) a root trail, id = index."""
    first, *rest = array.markers
    assert first.action == MARKER_DELETEALL
    namespaces = (JOINTS_NS, BONES_NS, TRAILS_NS) if trails else (JOINTS_NS, BONES_NS)
    assert [(m.ns, m.id, m.action) for m in rest] == [
        (ns, index, MARKER_ADD) for index in range(people) for ns in namespaces]
    for marker in array.markers:
        assert marker.header.frame_id == FRAME_ID
    for marker in rest:
        assert len(marker.points) > 0 and marker.color.a == 1.0 and marker.lifetime.nanosec == 500_000_000


@pytest.mark.parametrize("storage, compressed", [("sqlite3", False), ("mcap", True)])
def test_bottom_up_on_a_photo_writes_skeletons_and_markers(tmp_path, portrait, storage, compressed):
    source = write_bag(tmp_path / "in", storage, image_records(portrait, 3, compressed))
    output = tmp_path / "out"
    assert main(["bag", str(source), str(output), "--backend", BACKEND, "--set", PORTRAIT_MIN_VALID_JOINTS,
                 "--copy-inputs", "--storage", "mcap", "--no-progress"]) == 0
    assert list(output.glob("*.mcap"))
    types, messages = read_bag(output)
    image_topic = "/camera/image_raw/compressed" if compressed else "/camera/image_raw"
    assert set(types) == {"/pose3d/skeletons", "/pose3d/markers", "/camera/camera_info", image_topic}
    assert len(messages[image_topic]) == len(messages["/camera/camera_info"]) == 3  # copied through
    assert len(messages["/pose3d/skeletons"]) == len(messages["/pose3d/markers"]) == 3
    for i, ((_, skeletons), (_, markers)) in enumerate(zip(messages["/pose3d/skeletons"], messages["/pose3d/markers"])):
        assert stamp_of(skeletons) == T0 + i * PERIOD and skeletons.header.frame_id == FRAME_ID
        (person,) = skeletons.skeletons
        assert person.metric_depth and 0.5 < person.root.z < 3.0  # a portrait at arm's length or so
        x1, y1, x2, y2 = person.box
        assert 20 < x1 < 100 and 180 < x2 < 300  # she is in the middle of the frame
        # one track through the bag: the same id, its age in frames, new then tracked
        assert (person.track_id, person.track_age, person.track_state) == ("t1", i, 1 if i == 0 else 2)
        check_markers(markers, people=1, trails=i > 0)
        if i > 0:
            assert len(markers.markers[3].points) == i + 1  # the trail: every root so far
        np.testing.assert_allclose(points(markers.markers[1].points), points(person.joints)[person.joint_valid])


def test_top_down_reads_detections_defined_only_in_the_bag(tmp_path, portrait):
    """vision_msgs is not a Jazzy typestore type: its definition comes from the input bag."""
    records = image_records(portrait, 2)
    for i in range(2):
        stamp = T0 + i * PERIOD
        box = make("vision_msgs/msg/BoundingBox2D", size_x=240.0, size_y=240.0, center=make(
            "vision_msgs/msg/Pose2D", position=make("vision_msgs/msg/Point2D", x=160.0, y=120.0)))
        hypothesis = make("vision_msgs/msg/ObjectHypothesisWithPose",
                          hypothesis=make("vision_msgs/msg/ObjectHypothesis", class_id="person", score=0.9))
        detection = make("vision_msgs/msg/Detection2D", header=header(stamp), id=f"track{i}", bbox=box,
                         results=[hypothesis])
        records.append(("/detections", "vision_msgs/msg/Detection2DArray", stamp + 5_000_000,
                        make("vision_msgs/msg/Detection2DArray", header=header(stamp), detections=[detection])))
    source = write_bag(tmp_path / "in", "sqlite3", records)
    assert "vision_msgs/msg/Detection2DArray" not in get_typestore(Stores.ROS2_JAZZY).fielddefs
    config = tmp_path / "bag.yaml"
    config.write_text(yaml.safe_dump({"frame": {"mode": "top_down", "detection_class_ids": ["person"]},
                                      "cascade": {"min_valid_joints": PORTRAIT_MIN_VALID}, "backend": BACKEND}))
    output = tmp_path / "out"
    assert main(["bag", str(source), str(output), "--config", str(config), "--no-progress"]) == 0
    _, messages = read_bag(output)
    skeletons = messages["/pose3d/skeletons"]
    assert [log for log, _ in skeletons] == [T0 + i * PERIOD + 5_000_000 for i in range(2)]  # the detections'
    assert [[p.id for p in array.skeletons] for _, array in skeletons] == [["track0"], ["track1"]]


# --- (c) robustness ----------------------------------------------------------------------------

def test_bad_messages_are_counted_and_skipped(tmp_path, portrait):
    records = image_records(portrait, 6)
    image = {stamp_of(m): k for k, (topic, _, _, m) in enumerate(records) if topic == "/camera/image_raw"}
    info = {stamp_of(m): k for k, (topic, _, _, m) in enumerate(records) if topic == "/camera/camera_info"}
    t = [T0 + i * PERIOD for i in range(6)]
    records[info[t[1]]][3].k[:] = 0  # uncalibrated: rejected; frame 1 keeps frame 0's CameraInfo
    records[image[t[2]]][3].step = 320 * 3 - 1  # rows shorter than the pixels
    records[image[t[3]]][3].encoding = "bayer_rggb8"
    records[image[t[4]]] = records[image[t[4]]][:3] + (b"\x00\x01\x00\x00\x07",)  # truncated CDR
    output = tmp_path / "out"
    config = BagConfig(cascade=CascadeConfig(min_valid_joints=PORTRAIT_MIN_VALID), backend=BACKEND)
    plan = plan_bag(write_bag(tmp_path / "in", "sqlite3", records), output, config)
    summary = process_bag(plan, build_cascade(None, None, config.cascade, BACKEND), progress=False)

    assert summary.frames_processed == summary.people_lifted == 3  # frames 0, 1 and 5
    assert sum(summary.frames_skipped.values()) == 2
    (step_error,) = [reason for reason in summary.frames_skipped if "step" in reason]
    (encoding_error,) = [reason for reason in summary.frames_skipped if "encoding" in reason]
    assert "959" in step_error and "bayer_rggb8" in encoding_error
    (rejected,) = summary.camera_infos_rejected
    assert "K" in rejected and summary.camera_infos_rejected[rejected] == 1
    assert summary.undecodable == Counter({"/camera/image_raw": 1})
    assert summary.sync_stats["image"]["received"] == 5 and summary.sync_stats["camera_info"]["received"] == 5
    assert summary.written == Counter({"/pose3d/skeletons": 3, "/pose3d/markers": 3})
    text = str(summary)
    assert "frames processed: 3, people lifted: 3" in text and "camera infos rejected: 1" in text
    _, messages = read_bag(output)
    assert [stamp_of(m) for _, m in messages["/pose3d/skeletons"]] == [t[0], t[1], t[5]]


def test_the_summary_counts_second_looks(tmp_path, portrait):
    """Bottom-up, a person with too few joints gets a second look (cascade.second_looks): the
    summary adds them up over the frames and prints them as one line, run / passed / failed / over
    the limit in that order, whatever order a frame counted them in."""
    from poselifter_core.cascade import CascadeResult
    from poselifter_core.rosmsg.bag import BagSummary
    from poselifter_core.rosmsg.frames import Frame

    # 17 observed joints: the waist-up portrait never passes, its second look is run and fails the rule
    config = BagConfig(cascade=CascadeConfig(min_valid_joints=17), backend=BACKEND)
    plan = plan_bag(write_bag(tmp_path / "in", "mcap", image_records(portrait, 3)), tmp_path / "out", config)
    summary = process_bag(plan, build_cascade(None, None, config.cascade, BACKEND), progress=False)
    assert summary.frames_processed == 3 and summary.people_lifted == 0
    assert summary.second_looks == Counter({"run": 3})
    assert "second looks: run 3, passed 0, failed 0, over the limit 0" in str(summary).splitlines()

    none = BagSummary()
    assert not any(line.startswith("second looks") for line in str(none).splitlines())
    result = CascadeResult([], None, False, second_looks=Counter({"over_limit": 2, "run": 2, "failed": 1}))
    none.add(Frame(0, "camera", result))
    none.add(Frame(1, "camera", CascadeResult([], None, False, second_looks=Counter({"passed": 1, "run": 1}))))
    assert "second looks: run 3, passed 1, failed 1, over the limit 2" in str(none).splitlines()


def test_the_summary_warns_of_a_camera_mount_it_could_not_use(tmp_path, portrait):
    """cascade.floor set, no CameraInfo and frame.require_camera_info false: the intrinsics are
    assumed and the floor is left out (its rays need the true focal length); that was silent."""
    from poselifter_core.cascade import FLOOR_NO_CAMERA
    from poselifter_core.floor import FloorConfig

    records = [record for record in image_records(portrait, 3) if not record[0].endswith("camera_info")]
    config = BagConfig(cascade=CascadeConfig(floor=FloorConfig(camera_height_m=1.5)), backend=BACKEND,
                       frame=FrameConfig(require_camera_info=False))
    plan = plan_bag(write_bag(tmp_path / "in", "mcap", records), tmp_path / "out", config)
    summary = process_bag(plan, build_cascade(None, None, config.cascade, BACKEND), progress=False)
    assert summary.people_lifted == 3 and summary.floor == Counter({FLOOR_NO_CAMERA: 3})
    assert ("warning: the camera mount (cascade.floor) was not used for 3 people lifted without a CameraInfo "
            "(frame.require_camera_info false: the intrinsics assumed)") in str(summary).splitlines()


def test_a_second_pass_at_the_first_ones_size_is_refused_as_infer_refuses_it(tmp_path, portrait, capsys,
                                                                             monkeypatch):
    """cascade.pose2d_extra_size equal to cascade.pose2d_size: bag ran the bottom-up pass once with
    a warning where infer refused it; now the settings refuse it (CascadeConfig) before any model
    loads or anything is written, with the reason. Another size runs its second pass."""
    from poselifter_core.pose2d.movenet import MoveNet

    passes = []
    bottom_up = MoveNet._bottom_up
    monkeypatch.setattr(MoveNet, "_bottom_up", lambda self, image, size: passes.append(size) or
                        bottom_up(self, image, size))
    source = write_bag(tmp_path / "in", "mcap", image_records(portrait, 1))

    def bag(extra: int) -> int:
        return main(["bag", str(source), str(tmp_path / f"out{extra}"), "--backend", BACKEND, "--no-progress",
                     "--set", f"cascade.pose2d_extra_size={extra}"])

    assert bag(256) == 2
    assert ("cascade.pose2d_extra_size 256 is cascade.pose2d_size: a second bottom-up pass at the same size"
            in capsys.readouterr().err)
    assert passes == [] and not (tmp_path / "out256").exists()
    assert bag(384) == 0 and passes == [256, 384]


def test_a_camera_mount_set_with_set_puts_people_on_the_floor(tmp_path, capsys):
    """--set cascade.floor.*: a standing person 15 % smaller than the training bodies gets a root
    within 5 % of the truth (the lifter alone: over 10 % off), and the summary counts the floor's
    outcomes (no line without a mount)."""
    truth, xy = camera_view(standing_person(0.85, 6.0, swing_m=0.1), 1.5, 10.0, 2.0)
    data = SimpleNamespace(intrinsics=np.tile(MOUNTED_K, (FRAMES, 1)), image_size=np.tile([1280, 720], (FRAMES, 1)),
                           keypoints_2d=np.tile(xy, (FRAMES, 1, 1)))
    source = write_bag(tmp_path / "in", "mcap", keypoints_records(data))
    mount = ("cascade.floor.camera_height_m=1.5", "cascade.floor.camera_pitch_deg=10", "cascade.floor.camera_roll_deg=2")
    errors, printed = {}, {}
    for name, settings in (("lifter", ()), ("floor", mount)):
        sets = [arg for setting in ("frame.tracking.enabled=false", *settings) for arg in ("--set", setting)]
        assert main(["bag", str(source), str(tmp_path / name), "--mode", "keypoints", "--backend", BACKEND,
                     "--no-progress", *sets]) == 0
        skeletons = read_bag(tmp_path / name)[1]["/pose3d/skeletons"]
        errors[name] = np.array([abs(array.skeletons[0].root.z / truth[0, 2] - 1) for _, array in skeletons])
        printed[name] = capsys.readouterr().out
    assert len(errors["floor"]) == FRAMES and errors["lifter"].min() > 0.10 and errors["floor"].max() < 0.05
    assert (f"root depth from the floor: fused {FRAMES}, no ankle on the floor 0, of these carried by their track's "
            "floor ratio 0, disagreed with the lifter 0" in printed["floor"].splitlines())
    assert "root depth from the floor" not in printed["lifter"]
    assert "warning: cascade.floor" not in printed["lifter"] + printed["floor"]
    # the angles without the height: the floor is off, and the summary says why (it said nothing)
    assert main(["bag", str(source), str(tmp_path / "angles"), "--mode", "keypoints", "--backend", BACKEND,
                 "--no-progress", "--set", "cascade.floor.camera_pitch_deg=10"]) == 0
    printed = capsys.readouterr().out
    assert "warning: cascade.floor.camera_pitch_deg or camera_roll_deg is set, but camera_height_m is 0" in printed
    assert "root depth from the floor" not in printed


def test_a_tracked_person_whose_feet_disappear_keeps_the_floors_size(tmp_path, capsys):
    """The same small person, feet seen for 8 frames, then the knees and ankles hidden (score 0)
    for 6: tracked (the defaults), the hidden frames keep the floor's size (root within 5 % of the
    truth) and the summary counts them as carried; with frame.tracking.tracker.carry_floor_size
    false they drift back to the lifter's depth."""
    truth, xy = camera_view(standing_person(0.85, 6.0, swing_m=0.1), 1.5, 10.0, 2.0)
    shown, frames = 8, 14
    hidden = {H36M17.index(name) for name in ("RKnee", "RFoot", "LKnee", "LFoot")}
    records = []
    for i in range(frames):
        stamp = T0 + i * PERIOD
        records.append(("/camera/camera_info", "sensor_msgs/msg/CameraInfo", stamp - 1_000_000,
                        camera_info(stamp, (1280, 720), *MOUNTED_K)))
        person = make("poselifter_msgs/msg/Keypoints2D", id="", layout="h36m17", score=1.0, keypoints=[
            make("poselifter_msgs/msg/Keypoint2D", x=float(x), y=float(y),
                 score=0.0 if i >= shown and j in hidden else 1.0) for j, (x, y) in enumerate(xy)])
        records.append(("/people/keypoints", "poselifter_msgs/msg/Keypoints2DArray", stamp,
                        make("poselifter_msgs/msg/Keypoints2DArray", header=header(stamp), people=[person])))
    source = write_bag(tmp_path / "in", "mcap", records)
    mount = ("cascade.floor.camera_height_m=1.5", "cascade.floor.camera_pitch_deg=10", "cascade.floor.camera_roll_deg=2")
    errors, printed = {}, {}
    for name, settings in (("carried", mount), ("off", (*mount, "frame.tracking.tracker.carry_floor_size=false"))):
        sets = [arg for setting in settings for arg in ("--set", setting)]
        assert main(["bag", str(source), str(tmp_path / name), "--mode", "keypoints", "--backend", BACKEND,
                     "--no-progress", *sets]) == 0
        skeletons = read_bag(tmp_path / name)[1]["/pose3d/skeletons"]
        errors[name] = np.array([abs(array.skeletons[0].root.z / truth[0, 2] - 1) for _, array in skeletons])
        printed[name] = capsys.readouterr().out
    assert len(errors["carried"]) == frames and errors["carried"].max() < 0.05, errors["carried"]
    assert errors["off"][-1] > 0.05 and errors["off"][-1] > 2 * errors["carried"][-1], (errors["off"], errors["carried"])
    assert (f"root depth from the floor: fused {shown}, no ankle on the floor {frames - shown}, of these carried by "
            f"their track's floor ratio {frames - shown}, disagreed with the lifter 0" in printed["carried"].splitlines())
    assert "carried by their track's floor ratio 0," in printed["off"]


def looped_records(data) -> list:
    """:func:`keypoints_records` with frame 1's keypoints stamped a day ahead, then the same
    recording again stamped 10 s earlier (a looped bag: the stamps jump back)."""
    records = keypoints_records(data)
    records[3][3].header.stamp.sec += 86400
    return records + keypoints_records(data, start=T0 - 10 * 10**9, log_start=T0 + 10**9)


def test_a_future_stamp_and_a_bag_loop_do_not_stall_the_synchronizer(tmp_path, check_poses, capsys):
    """Row 1: one message stamped a day ahead left 6 of 40 frames processed, rc 0, no warning."""
    source = write_bag(tmp_path / "in", "mcap", looped_records(check_poses))
    assert main(["bag", str(source), str(tmp_path / "out"), "--mode", "keypoints", "--backend", BACKEND,
                 "--no-progress"]) == 0
    report = capsys.readouterr().out
    assert "frames processed: 11, people lifted: 11" in report
    assert ("warning: 1 of 12 keypoints messages were never matched into a frame (1 future stamps rejected, "
            "1 resets after stamps jumped back)") in report
    _, messages = read_bag(tmp_path / "out")
    assert len(messages["/pose3d/skeletons"]) == 11


def test_summary_json_holds_the_printed_counts_and_how_the_bag_was_made(tmp_path, check_poses, capsys):
    """--summary-json: the summary's numbers, as printed, under the keys README lists, and the run's
    record (the config the output bag's metadata holds, the model files, the command line)."""
    source = write_bag(tmp_path / "in", "mcap", looped_records(check_poses))
    command = ["bag", str(source), str(tmp_path / "out"), "--mode", "keypoints", "--backend", BACKEND,
               "--summary-json", str(tmp_path / "summary.json"), "--no-progress"]
    assert main(command) == 0
    printed = capsys.readouterr().out.splitlines()
    written = json.loads((tmp_path / "summary.json").read_text())
    summary, record = written["summary"], written["run"]
    assert summary["frames_processed"] == summary["people_lifted"] == 11  # as the test above counts them
    assert (f"frames processed: {summary['frames_processed']}, people lifted: {summary['people_lifted']}, skipped "
            f"but located by their head: {summary['people_head_only']}") in printed
    assert [f"warning: {warning}" for warning in summary["warnings"]] == [line for line in printed
                                                                          if line.startswith("warning: ")]
    assert summary["warnings"] and summary["sync_time_events"] == {FUTURE_STAMPS: 1, RESETS: 1}
    for title, key in (("frames skipped", "frames_skipped"), ("people skipped", "people_skipped"),
                       ("messages written", "written")):
        start = printed.index(f"{title}: {sum(summary[key].values())}")
        assert printed[start + 1:start + 1 + len(summary[key])] == [f"  {n} x {what}" for what, n in
                                                                    Counter(summary[key]).most_common()]
    assert summary["written"] == {"/pose3d/skeletons": 11, "/pose3d/markers": 11}
    for stream, stats in summary["sync_stats"].items():
        assert any(line.startswith(f"  {stream}: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
                   for line in printed)
    readme = (REPO / "README.md").read_text()
    assert [key for key in summary if f"`{key}`" not in readme] == []  # every key is documented

    metadata = yaml.safe_load((tmp_path / "out" / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert record["config"] == json.loads(metadata["custom_data"]["poselifter.config"])
    assert record["command"] == ["poselifter", *command] and record["poselifter_version"] == __version__
    lifter, ran = LIFTER_CHECKPOINT.resolve(), LIFTER_CHECKPOINT.with_name("poselifter_default.int8.onnx").resolve()
    assert record["models"] == {"lifter": {"path": str(lifter), "sha256": file_sha256(lifter), "backend": BACKEND,
                                           "runs": {"path": str(ran), "sha256": file_sha256(ran)}, "skipped": []},
                                "pose2d": None}  # keypoints mode: no 2D model; the lifter runs its int8 variant


# --- (d) errors --------------------------------------------------------------------------------

def test_command_line_errors_are_clear(tmp_path, capsys):
    def fails(*args: str) -> str:
        assert main(["bag", *map(str, args), "--no-progress"]) == 2
        return capsys.readouterr().err

    assert "no rosbag2 bag at" in fails(tmp_path / "missing", tmp_path / "out")
    source = write_bag(tmp_path / "in", "mcap", [
        ("/camera/camera_info", "sensor_msgs/msg/CameraInfo", T0, camera_info(T0, (320, 240), 300, 300, 160, 120))])
    error = fails(source, tmp_path / "out", "--image-topic", "/nope")
    assert "unknown image topic '/nope'" in error and "/camera/camera_info (sensor_msgs/msg/CameraInfo)" in error
    error = fails(source, tmp_path / "out")
    assert "no sensor_msgs/msg/Image or sensor_msgs/msg/CompressedImage topic" in error
    assert "no poselifter_msgs/msg/Keypoints2DArray topic" in fails(source, tmp_path / "out", "--mode", "keypoints")
    assert "exists already" in fails(source, source)
    assert f"no folder {tmp_path / 'nowhere'}" in fails(source, tmp_path / "out", "--summary-json",
                                                       tmp_path / "nowhere" / "summary.json")
    # a setting out of the range the node enforces is refused, named as --set names it
    assert "cascade.min_face_keypoints must be in [3, 5], got 7" in fails(source, tmp_path / "out", "--set",
                                                                          "cascade.min_face_keypoints=7")
    assert "frame.tracking.tracker.max_speed_mps must be in" in fails(source, tmp_path / "out", "--set",
                                                                      "frame.tracking.tracker.max_speed_mps=0")
    assert "cascade.pose2d_extra_size must be a multiple of 32, got 100" in fails(source, tmp_path / "out", "--set",
                                                                                "cascade.pose2d_extra_size=100")
    # a value of another type than the node's parameter: an error naming it, not a TypeError traceback
    # (abc, null) or a crash in the first frame with a second look (1.5: a slice index)
    for override, message in (("cascade.max_second_looks=1.5", "cascade.max_second_looks must be an integer, got 1.5"),
                              ("cascade.max_second_looks=abc", "cascade.max_second_looks must be an integer, got 'abc'"),
                              ("cascade.min_person_score=null", "cascade.min_person_score must be a number, got None"),
                              ("cascade.second_look=2", "cascade.second_look must be true or false, got 2"),
                              ("frame.mode=bogus", "frame.mode must be one of ['bottom_up', 'top_down', 'keypoints'], "
                                                   "got 'bogus'"),  # it said 'mode', not the setting --set names
                              ("cascade.floor.camera_pitch_deg=120",
                               "cascade.floor.camera_pitch_deg must be in [-90.0, 90.0], got 120"),
                              # the top-level fields too (a crash in the first frame's markers, or never noticed)
                              ("marker_lifetime_s=abc", "marker_lifetime_s must be a number, got 'abc'"),
                              ("marker_lifetime_s=-1", "marker_lifetime_s must be in [0.0, 60.0], got -1.0"),
                              ("copy_inputs=2", "copy_inputs must be true or false, got 2"),
                              ("max_message_bytes=1.5", "max_message_bytes must be an integer, got 1.5"),
                              ("max_message_bytes=0", "max_message_bytes must be in [1, ")):
        assert message in fails(source, tmp_path / "out", "--set", override)
    # one class id without brackets was read as its letters (p, e, r, ...: no detection ever matched); 3 a TypeError
    for value, shown in (("person", "'person'"), ("3", "3")):
        assert f"frame.detection_class_ids must be a list of class ids, e.g. [person], got {shown}" in fails(
            source, tmp_path / "out", "--set", f"frame.detection_class_ids={value}")
    assert not (tmp_path / "out").exists()


def test_topics_are_found_by_type_or_named_when_ambiguous(tmp_path):
    image = image_message(make, np.zeros((240, 320, 3), np.uint8), T0, FRAME_ID)
    records = [(topic, "sensor_msgs/msg/Image", T0, image) for topic in ("/left/image", "/right/image")]
    records.append(("/left/camera_info", "sensor_msgs/msg/CameraInfo", T0,
                    camera_info(T0, (320, 240), 300, 300, 160, 120)))
    source = write_bag(tmp_path / "in", "sqlite3", records)
    with pytest.raises(ValueError, match="several image topics: /left/image .*, /right/image .*--image-topic"):
        plan_bag(source, tmp_path / "out", BagConfig())
    plan = plan_bag(source, tmp_path / "out", BagConfig(topics=BagTopics(image="/right/image")))
    assert plan.streams == {"image": "/right/image", "camera_info": "/left/camera_info"} and plan.storage == "sqlite3"
    with pytest.raises(ValueError, match="image topic /left/camera_info has type sensor_msgs/msg/CameraInfo"):
        plan_bag(source, tmp_path / "out", BagConfig(topics=BagTopics(image="/left/camera_info")))
    no_info = write_bag(tmp_path / "no_info", "sqlite3", records[:1])
    with pytest.raises(ValueError, match="no sensor_msgs/msg/CameraInfo topic.*; without a camera calibration, "
                       "--set frame.require_camera_info=false"):
        plan_bag(no_info, tmp_path / "out", BagConfig())
    plan = plan_bag(no_info, tmp_path / "out", BagConfig(frame=FrameConfig(require_camera_info=False)))
    assert plan.streams == {"image": "/left/image"}


# --- the message factory -----------------------------------------------------------------------

def test_factory_fills_defaults_and_converts_arrays():
    marker = make("visualization_msgs/msg/Marker", ns="joints", id=3)
    assert marker.ns == "joints" and marker.id == 3 and marker.action == 0 and marker.text == ""
    assert marker.pose.orientation.w == 0.0 and marker.points == [] and marker.frame_locked is False
    assert marker.texture.data.dtype == np.uint8 and marker.texture.data.size == 0  # Jazzy's texture fields
    skeleton = make("poselifter_msgs/msg/Skeleton3D", box=[1, 2, 3, 4], joint_valid=[True, False])
    assert skeleton.box.dtype == np.float64 and skeleton.box.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert skeleton.joint_valid.dtype == np.bool_ and skeleton.score == 0.0
    info = make("sensor_msgs/msg/CameraInfo")
    assert info.k.shape == (9,) and info.d.shape == (0,) and info.roi.do_rectify is False
    TYPESTORE.serialize_cdr(marker, "visualization_msgs/msg/Marker")  # complete enough to serialize
    with pytest.raises(TypeError, match="no field.*'colour'"):
        make("visualization_msgs/msg/Marker", colour=None)


def test_message_definitions_ship_with_the_package():
    assert sorted(p.name for p in MSG_DIR.glob("*.msg")) == sorted(
        p.name for p in (REPO / "msg").glob("*.msg"))


def test_message_definitions_say_each_comment_once():
    """No comment line is written twice in one definition (a repeated block is a merge left-over;
    a field's trailing unit, such as ``# [px]``, may repeat)."""
    for path in sorted((REPO / "msg").glob("*.msg")):
        lines = [line.strip() for line in path.read_text().splitlines()]
        comments = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
        repeated = sorted({c for c in comments if c and comments.count(c) > 1})
        assert not repeated, (path.name, repeated)


def test_tf_body_frames_are_written_on_request(tmp_path, check_poses):
    """--tf-topic /tf (and joint_frames): one TFMessage per frame with body_<id> at the skeleton's root,
    parented to the image's frame at its stamp, and the joint frames under it."""
    source = keypoints_bag(tmp_path / "in", "mcap", check_poses)
    output = tmp_path / "out"
    assert main(["bag", str(source), str(output), "--mode", "keypoints", "--backend", BACKEND, "--tf-topic", "/tf",
                 "--set", "joint_frames=true", "--no-progress"]) == 0
    types, messages = read_bag(output)
    assert types["/tf"] == "tf2_msgs/msg/TFMessage"
    skeletons = {stamp_of(array): array.skeletons[0] for _, array in messages["/pose3d/skeletons"]}
    assert len(messages["/tf"]) == FRAMES
    for i, (_, tf) in enumerate(messages["/tf"]):
        body, *joints = tf.transforms
        assert (body.header.frame_id, body.child_frame_id) == (FRAME_ID, f"body_person{i}")
        root = skeletons[stamp_of(body)].root
        assert [body.transform.translation.x, body.transform.translation.z] == pytest.approx([root.x, root.z])
        assert len(joints) == 16 and {j.header.frame_id for j in joints} == {f"body_person{i}"}


def test_a_corrupt_bag_keeps_the_frames_before_the_damage(tmp_path, capsys):
    """Row 6: a corrupt record mid-stream was a traceback that left a 43-byte output without
    metadata.yaml; a huge CompressedImage was a DecompressionBombError traceback."""
    rgb = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    records = image_records(rgb, 10)
    bomb = io.BytesIO()
    Image.new("1", (15000, 15000)).save(bomb, format="PNG")
    _, _, log_ns, replaced = records[3]  # frame 1's image becomes a 30 kB PNG of 15000x15000 pixels
    records[3] = ("/camera/image_bomb", "sensor_msgs/msg/CompressedImage", log_ns,
                  make("sensor_msgs/msg/CompressedImage", header=replaced.header, format="png", data=bomb.getvalue()))
    source = write_bag(tmp_path / "in", "sqlite3", records)
    database = next(source.glob("*.db3"))
    data = bytearray(database.read_bytes())
    page = (int(len(data) * 0.6) // 4096) * 4096  # an overflow page's next-page pointer: sqlite reads it mid-bag
    data[page:page + 4] = b"\xff" * 4
    database.write_bytes(bytes(data))
    output = tmp_path / "out"
    assert main(["bag", str(source), str(output), "--image-topic", "/camera/image_raw", "--backend", BACKEND,
                 "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "poselifter bag: error: reading the bag failed after" in captured.err and "CorruptError" in captured.err
    assert yaml.safe_load((output / "metadata.yaml").read_text())["rosbag2_bagfile_information"]["message_count"] > 0
    _, messages = read_bag(output)
    assert 0 < len(messages["/pose3d/skeletons"]) < 10
    # The bomb, read on its own topic: a skipped frame with its reason, not a traceback.
    assert main(["bag", str(write_bag(tmp_path / "bomb", "mcap", records[:4])), str(tmp_path / "out2"),
                 "--image-topic", "/camera/image_bomb", "--backend", BACKEND, "--no-progress"]) == 0
    assert "decompression bomb" in capsys.readouterr().out


def test_output_folder_problems_are_found_before_the_models_load(tmp_path, capsys):
    """Row 8: an output under a file was a raw NotADirectoryError after the models had loaded."""
    source = write_bag(tmp_path / "in", "mcap", [
        ("/camera/camera_info", "sensor_msgs/msg/CameraInfo", T0, camera_info(T0, (320, 240), 300, 300, 160, 120))])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["bag", str(source), str(blocker / "out"), "--no-progress"]) == 2
    assert f"cannot write the output bag into {blocker}" in capsys.readouterr().err
