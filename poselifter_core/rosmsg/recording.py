"""Write rosbag2 bags of camera frames without ROS: ``poselifter video-bag`` and the tests' input bags.

Each frame becomes what a camera driver publishes: a ``sensor_msgs/msg/Image`` (or a
``CompressedImage`` on ``<image topic>/compressed``, as image_transport names it) and a
``sensor_msgs/msg/CameraInfo`` on the sibling ``camera_info`` topic, both with the frame's stamp
and the camera's optical frame id (REP-103: x right, y down, z forward). The CameraInfo is logged
:data:`CAMERA_INFO_LEAD_NS` before its image, so a reader in log-time order (``poselifter bag``,
``ros2 bag play``) has it latched when the image arrives. The image's log time is its stamp.

The camera is a :class:`CameraCalibration`: from a horizontal field of view (``--fov``, through
:meth:`poselifter_core.camera.Intrinsics.from_fov`) or from a ROS ``camera_calibration`` YAML file
(what ``cameracalibrator`` writes and ``camera_info_manager`` reads), checked as the node checks a
CameraInfo (:func:`.inputs.intrinsics_from_camera_info`, :func:`.inputs.distortion_from_camera_info`).

A known camera mount (``RecordConfig.mount``: height, pitch, roll) is written as one
tf2_msgs/TFMessage on ``/tf_static`` before the first frame: the optical frame in a floor frame
(:func:`poselifter_core.floor.camera_pose_from_mount`), what ``poselifter bag --floor-frame`` and the
node's ``floor_frame`` look up.
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import Writer
from rosbags.typesys.store import Typestore
from tqdm import tqdm

from ..camera import Intrinsics
from ..floor import FLOOR_FRAME, FloorConfig, camera_pose_from_mount
from ..settings import check_settings
from .bag import BAG_VERSION, STORAGES, TF_STATIC_TOPIC, TF_TYPE, check_new_output
from .images import rgb_to_image_fields
from .inputs import distortion_from_camera_info, intrinsics_for_image, intrinsics_from_camera_info
from .outputs import MessageFactory, header
from .rosbags_factory import message_factory
from .rosbags_types import poselifter_typestore

IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
_INFINITE = QosTime(9223372036, 854775807)  # rmw's infinite duration, as ros2 bag record writes it
#: Offered QoS written per topic: /tf_static as tf2's StaticTransformBroadcaster offers it (reliable,
#: transient local, keep last 1). Without it 'ros2 bag play' offers the default, volatile QoS, which
#: tf2's (and RViz's) transient-local /tf_static subscription refuses as incompatible (ros2/rviz#916):
#: the node's floor_frame and RViz would never get the mount. Other topics: none (the player's default).
OFFERED_QOS = {TF_STATIC_TOPIC: (Qos(QosHistory.KEEP_LAST, 1, QosReliability.RELIABLE, QosDurability.TRANSIENT_LOCAL,
                                     _INFINITE, _INFINITE, QosLiveliness.AUTOMATIC, _INFINITE, False),)}
#: Image encodings written: raw ``sensor_msgs/Image`` encodings, or a compressed file format.
RAW_ENCODINGS = ("bgr8", "rgb8")
COMPRESSED_FORMATS = {"jpeg": ".jpg", "png": ".png"}
IMAGE_ENCODINGS = RAW_ENCODINGS + tuple(COMPRESSED_FORMATS)
#: A frame's CameraInfo is logged this long before its image (both carry the same stamp) [ns].
CAMERA_INFO_LEAD_NS = 1_000_000
#: A bag record: ``(topic, message type, log time [ns], message or its serialized bytes)``.
Record = tuple[str, str, int, Any]

_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class CameraCalibration:
    """What a sensor_msgs/CameraInfo says about the camera: image size, K (9 values, row-major),
    the distortion model and D, R and P (empty: ``[K | 0]``, the unrectified camera). Checked on
    creation as the node checks a CameraInfo: ValueError naming the problem."""

    width: int
    height: int
    k: tuple[float, ...]
    distortion_model: str = "plumb_bob"
    d: tuple[float, ...] = (0.0,) * 5
    r: tuple[float, ...] = _IDENTITY
    p: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"image {name} must be a positive integer, got {value!r}")
        for name, sizes in (("k", (9,)), ("r", (9,)), ("p", (0, 12))):
            values = getattr(self, name)
            if len(values) not in sizes or not all(math.isfinite(v) for v in values):
                raise ValueError(f"{name.upper()} must be {' or '.join(map(str, sizes))} finite numbers, got {values}")
        intrinsics_from_camera_info(self)  # K: a pinhole camera matrix
        distortion_from_camera_info(self)  # D: a model the node undistorts

    @classmethod
    def from_intrinsics(cls, intrinsics: Intrinsics, width: int, height: int) -> CameraCalibration:
        """A distortion-free camera of ``width`` x ``height`` pixels."""
        return cls(int(width), int(height), tuple(float(v) for v in intrinsics.matrix.ravel()))

    @classmethod
    def from_yaml(cls, path: str | Path) -> CameraCalibration:
        """A ROS ``camera_calibration`` YAML file: ``image_width``, ``image_height``,
        ``camera_matrix.data`` (3x3), and optionally ``distortion_model`` with
        ``distortion_coefficients.data`` (none: no distortion), ``rectification_matrix.data``
        and ``projection_matrix.data`` (3x4). ValueError naming the file and the key."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no camera calibration file {path}") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise ValueError(f"cannot read the camera calibration {path}: {error}") from error
        expected = ("a ROS camera_calibration YAML (image_width, image_height, camera_matrix: {rows: 3, cols: 3, "
                    "data: [...]}, distortion_model, distortion_coefficients: {data: [...]})")
        if not isinstance(data, dict):
            raise ValueError(f"{path} is not {expected}")

        def matrix(key: str, required: bool = False) -> tuple[float, ...] | None:
            if key not in data and not required:
                return None
            entry = data.get(key)
            if not isinstance(entry, dict) or not isinstance(entry.get("data"), list):
                raise ValueError(f"{path}: {key} must be a mapping with a 'data' list, got {entry!r}; expected {expected}")
            try:
                return tuple(float(v) for v in entry["data"])
            except (TypeError, ValueError):
                raise ValueError(f"{path}: {key}.data must be numbers, got {entry['data']!r}") from None

        for key in ("image_width", "image_height"):
            if key not in data:
                raise ValueError(f"{path}: no {key}; expected {expected}")
        k = matrix("camera_matrix", required=True)
        d = matrix("distortion_coefficients")
        model = data.get("distortion_model", "plumb_bob") if d is not None else "plumb_bob"
        try:
            return cls(data["image_width"], data["image_height"], k, str(model), (0.0,) * 5 if d is None else d,
                       matrix("rectification_matrix") or _IDENTITY, matrix("projection_matrix") or ())
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    @property
    def projection(self) -> tuple[float, ...]:
        if self.p:
            return self.p
        k = self.k
        return (k[0], k[1], k[2], 0.0, k[3], k[4], k[5], 0.0, k[6], k[7], k[8], 0.0)

    def check_image(self, width: int, height: int) -> None:
        """ValueError when the node could not use this calibration for a ``width`` x ``height``
        image (another aspect ratio; the same one is rescaled, as for binning)."""
        intrinsics_for_image(intrinsics_from_camera_info(self), self, (width, height))


def camera_info_message(make: MessageFactory, calibration: CameraCalibration, stamp_ns: int, frame_id: str) -> Any:
    return make(CAMERA_INFO_TYPE, header=header(make, stamp_ns, frame_id), width=calibration.width,
                height=calibration.height, distortion_model=calibration.distortion_model, d=list(calibration.d),
                k=list(calibration.k), r=list(calibration.r), p=list(calibration.projection))


def image_message(make: MessageFactory, rgb: np.ndarray, stamp_ns: int, frame_id: str, encoding: str = "rgb8",
                  jpeg_quality: int = 90) -> Any:
    """A ``sensor_msgs/Image`` (``bgr8``, ``rgb8``) or ``CompressedImage`` (``jpeg``, ``png``,
    with image_transport's format string, e.g. ``bgr8; jpeg compressed bgr8``) of ``rgb``."""
    if encoding in COMPRESSED_FORMATS:
        import cv2

        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if encoding == "jpeg" else []
        ok, data = cv2.imencode(COMPRESSED_FORMATS[encoding], np.ascontiguousarray(rgb[..., ::-1]), params)
        if not ok:
            raise ValueError(f"OpenCV could not encode a {rgb.shape[1]}x{rgb.shape[0]} image as {encoding}")
        return make(COMPRESSED_TYPE, header=header(make, stamp_ns, frame_id),
                    format=f"bgr8; {encoding} compressed bgr8", data=data.ravel())
    return make(IMAGE_TYPE, header=header(make, stamp_ns, frame_id), **rgb_to_image_fields(rgb, encoding))


def mount_message(make: MessageFactory, mount: tuple[float, float, float], floor_frame: str, frame_id: str,
                  stamp_ns: int) -> Any:
    """A tf2_msgs/TFMessage of the camera ``frame_id`` mounted at ``mount`` (height m, pitch and
    roll deg) above ``floor_frame``."""
    from scipy.spatial.transform import Rotation

    rotation, translation = camera_pose_from_mount(*mount)
    x, y, z, w = Rotation.from_matrix(rotation).as_quat()
    transform = make("geometry_msgs/msg/Transform",
                     translation=make("geometry_msgs/msg/Vector3", **dict(zip("xyz", map(float, translation)))),
                     rotation=make("geometry_msgs/msg/Quaternion", x=float(x), y=float(y), z=float(z), w=float(w)))
    return make(TF_TYPE, transforms=[make("geometry_msgs/msg/TransformStamped",
                                                  header=header(make, stamp_ns, floor_frame), child_frame_id=frame_id,
                                                  transform=transform)])


def check_encoding(encoding: str, jpeg_quality: int = 90) -> None:
    if encoding not in IMAGE_ENCODINGS:
        raise ValueError(f"image encoding must be one of {', '.join(IMAGE_ENCODINGS)}, got {encoding!r}")
    if isinstance(jpeg_quality, bool) or not isinstance(jpeg_quality, int) or not 1 <= jpeg_quality <= 100:
        raise ValueError(f"JPEG quality must be an integer in [1, 100], got {jpeg_quality!r}")


def check_storage(storage: str) -> None:
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {sorted(STORAGES)}, got {storage!r}")


def image_topic_for(topic: str, encoding: str) -> tuple[str, str]:
    """The topic and message type of the images: ``topic`` for raw images, ``topic/compressed``
    for compressed ones (image_transport's naming)."""
    return (f"{topic}/compressed", COMPRESSED_TYPE) if encoding in COMPRESSED_FORMATS else (topic, IMAGE_TYPE)


def camera_info_topic_for(image_topic: str) -> str:
    """image_transport's CameraInfo topic beside an image topic: ``/camera/image_raw`` ->
    ``/camera/camera_info``."""
    namespace = image_topic.rsplit("/", 1)[0]
    return f"{namespace}/camera_info"


def frame_records(make: MessageFactory, rgb: np.ndarray, stamp_ns: int, calibration: CameraCalibration | None,
                  frame_id: str = "camera_optical_frame", image_topic: str = "/camera/image_raw",
                  camera_info_topic: str = "", encoding: str = "rgb8", jpeg_quality: int = 90) -> list[Record]:
    """One camera frame as bag records: its CameraInfo (none without ``calibration``), logged
    :data:`CAMERA_INFO_LEAD_NS` early, and its image, logged at ``stamp_ns``; both stamped
    ``stamp_ns``. ``camera_info_topic`` "": the one beside ``image_topic``."""
    topic, msgtype = image_topic_for(image_topic, encoding)
    records = []
    if calibration is not None:  # a frame stamped under 1 ms (--start 0): the CameraInfo at log time 0, written first
        records.append((camera_info_topic or camera_info_topic_for(image_topic), CAMERA_INFO_TYPE,
                        max(stamp_ns - CAMERA_INFO_LEAD_NS, 0), camera_info_message(make, calibration, stamp_ns,
                                                                                     frame_id)))
    records.append((topic, msgtype, stamp_ns, image_message(make, rgb, stamp_ns, frame_id, encoding, jpeg_quality)))
    return records


class BagWriter:
    """A new rosbag2 bag written record by record, in the order given: a topic's connection is
    added when it first appears; a message is serialized with ``typestore`` (bytes are written
    as they are). ``written`` counts messages per topic, ``bytes`` their serialized size."""

    def __init__(self, path: str | Path, storage: str, typestore: Typestore, version: int = BAG_VERSION,
                 custom_data: dict[str, str] | None = None) -> None:
        check_storage(storage)
        self.path, self.typestore = Path(path), typestore
        self.writer = Writer(self.path, version=version, storage_plugin=STORAGES[storage])
        for key, value in (custom_data or {}).items():
            self.writer.set_custom_data(key, value)
        self.connections: dict[str, Any] = {}
        self.written: Counter = Counter()
        self.bytes = 0

    def __enter__(self) -> BagWriter:
        self.writer.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.writer.close()

    def write(self, topic: str, msgtype: str, log_ns: int, message: Any) -> None:
        if topic not in self.connections:
            self.connections[topic] = self.writer.add_connection(topic, msgtype, typestore=self.typestore,
                                                                 offered_qos_profiles=OFFERED_QOS.get(topic, ()))
        elif self.connections[topic].msgtype != msgtype:
            raise ValueError(f"topic {topic} has type {self.connections[topic].msgtype}, not {msgtype}")
        raw = message if isinstance(message, (bytes, bytearray, memoryview)) else self.typestore.serialize_cdr(
            message, msgtype)
        self.writer.write(self.connections[topic], log_ns, raw)
        self.written[topic] += 1
        self.bytes += len(raw)


def write_bag(path: str | Path, storage: str, records: Iterable[Record], typestore: Typestore,
              version: int = BAG_VERSION) -> Path:
    """A rosbag2 bag of ``records`` (see :data:`Record`), written in log-time order."""
    with BagWriter(path, storage, typestore, version) as writer:
        for record in sorted(records, key=lambda record: record[2]):
            writer.write(*record)
    return Path(path)


class FrameClock:
    """Stamps for a sequence of frames: ``start_ns`` plus each frame's source time since the
    first frame's (a video's container timestamps), or ``index / fps`` when the source has no
    times or ``use_source_times`` is off. A source time that does not advance past the previous
    one (a damaged or missing timestamp) gives the previous stamp plus one period; ``retimed``
    counts those frames."""

    def __init__(self, start_ns: int, fps: float, use_source_times: bool = True) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"the frame rate must be a positive number, got {fps}")
        self.start_ns, self.period_ns, self.use_source_times = int(start_ns), 1e9 / fps, use_source_times
        self.count = self.retimed = 0
        self._first: float | None = None
        self._last_ns: int | None = None

    def stamp(self, time_s: float | None = None) -> int:
        index, self.count = self.count, self.count + 1
        if not self.use_source_times:
            stamp: int | None = self.start_ns + round(index * self.period_ns)
        elif time_s is not None and math.isfinite(time_s):
            self._first = time_s if self._first is None else self._first
            stamp = self.start_ns + round((time_s - self._first) * 1e9)
        else:
            stamp = None
        if stamp is None or (self._last_ns is not None and stamp <= self._last_ns):
            stamp = self.start_ns if self._last_ns is None else self._last_ns + round(self.period_ns)
            self.retimed += 1
        self._last_ns = stamp
        return stamp


@dataclass(frozen=True)
class RecordConfig:
    """How frames become messages (see :func:`frame_records`) and the output bag's storage."""

    image_topic: str = "/camera/image_raw"
    camera_info_topic: str = ""  # "": beside the image topic, e.g. /camera/camera_info
    frame_id: str = "camera_optical_frame"
    encoding: str = "bgr8"
    jpeg_quality: int = 90
    storage: str = "mcap"
    mount: tuple[float, float, float] | None = None  # camera height m, pitch, roll deg: a /tf_static to floor_frame
    floor_frame: str = FLOOR_FRAME

    def __post_init__(self) -> None:
        if self.mount is not None:
            height, pitch, roll = self.mount
            check_settings(FloorConfig(camera_height_m=height, camera_pitch_deg=pitch, camera_roll_deg=roll),
                           "mount: cascade.floor.")
            if not height > 0:
                raise ValueError(f"the mount's height must be above the floor (> 0 m), got {height}")
            if self.floor_frame == self.frame_id:
                raise ValueError(f"the floor frame must not be the camera's frame id ({self.frame_id!r}): the mount is "
                                 "the transform between the two")
        check_encoding(self.encoding, self.jpeg_quality)
        check_storage(self.storage)
        for name in ("image_topic", "camera_info_topic"):
            topic = getattr(self, name)
            if (topic or name == "image_topic") and not (topic.startswith("/") and len(topic) > 1
                                                         and " " not in topic and not topic.endswith("/")):
                raise ValueError(f"{name.replace('_', ' ')} must be an absolute ROS topic name such as "
                                 f"/camera/image_raw, got {topic!r}")
        for name in ("frame_id", "floor_frame"):
            value = getattr(self, name)
            if not value or " " in value or value.startswith("/"):  # tf2 refuses a frame id with a leading /
                raise ValueError(f"{name.replace('_', ' ')} must be a non-empty name without spaces, not starting "
                                 f"with '/' (tf2's frame ids), got {value!r}")


@dataclass
class RecordSummary:
    """What :func:`record_frames` wrote; ``str()`` is the report printed at the end."""

    output: Path
    storage: str
    frames: int = 0
    image_sizes: Counter = field(default_factory=Counter)  # (width, height) -> frames written
    first_ns: int = 0
    last_ns: int = 0
    retimed: int = 0  # frames whose source time did not advance (stamped one period on)
    skipped: Counter = field(default_factory=Counter)  # reason -> frames not written
    written: Counter = field(default_factory=Counter)  # topic -> messages
    types: dict[str, str] = field(default_factory=dict)  # topic -> message type
    bytes: int = 0  # serialized messages

    def __str__(self) -> str:
        seconds = (self.last_ns - self.first_ns) / 1e9
        rate = f", {(self.frames - 1) / seconds:.2f} frames/s" if seconds > 0 else ""
        # a folder may hold several sizes: each with its frames (and its own CameraInfo), not the first's alone
        sizes = [(f"{width}x{height}", count) for (width, height), count in self.image_sizes.most_common()]
        size = sizes[0][0] if len(sizes) == 1 else ", ".join(f"{count} x {wxh}" for wxh, count in sizes) or "-"
        lines = [f"frames written: {self.frames} ({size}), stamps {self.first_ns / 1e9:.3f} to "
                 f"{self.last_ns / 1e9:.3f} s ({seconds:.3f} s{rate})"]
        if self.retimed:
            lines.append(f"warning: {self.retimed} frames had no usable timestamp (not after the previous frame's): "
                         "stamped one frame period after it")
        lines.append(f"frames skipped: {sum(self.skipped.values())}")
        lines.extend(f"  {count} x {reason}" for reason, count in self.skipped.most_common())
        lines.append("messages written: " + ", ".join(f"{topic} ({self.types[topic]}) {count}"
                                                     for topic, count in self.written.items()))
        lines.append(f"written: {self.output} ({self.storage}, {self.bytes / 1e6:.2f} MB of messages)")
        return "\n".join(lines)


def record_frames(frames: Iterable[tuple[np.ndarray, float | None]], output: str | Path, config: RecordConfig,
                  camera: Callable[[int, int], CameraCalibration | None], clock: FrameClock,
                  expected: int | None = None, progress: bool = True,
                  custom_data: dict[str, str] | None = None, source_name: str = "the source") -> RecordSummary:
    """Write ``frames`` (RGB images with their source times, or None) as a new bag at ``output``.

    ``camera(width, height)`` gives each frame size's calibration (None: no CameraInfo topic);
    a ValueError from it or from encoding skips the frame, counted by reason, except for the
    first frame: then it is raised before anything is written, as is ValueError for an existing
    ``output`` or no frames at all.
    """
    output = Path(output)
    check_new_output(output)
    iterator: Iterator[tuple[np.ndarray, float | None]] = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise ValueError(f"no frames to write: {source_name} has none that can be read (an empty or damaged video, "
                         "or no readable image)")
    cameras: dict[tuple[int, int], CameraCalibration | None] = {}

    def calibration(rgb: np.ndarray) -> CameraCalibration | None:
        size = (rgb.shape[1], rgb.shape[0])
        if size not in cameras:
            cameras[size] = camera(*size)
        return cameras[size]

    calibration(first[0])  # a wrong camera is an error before the bag exists
    typestore = poselifter_typestore()
    make = message_factory(typestore)
    summary = RecordSummary(output, config.storage)
    with BagWriter(output, config.storage, typestore, custom_data=custom_data) as writer, \
            tqdm(total=expected, desc="frames", unit="frame", disable=not progress) as bar:
        for rgb, time_s in itertools.chain([first], iterator):
            stamp = clock.stamp(time_s)
            bar.update()
            if config.mount is not None and not writer.written[TF_STATIC_TOPIC]:  # before the first frame
                writer.write(TF_STATIC_TOPIC, TF_TYPE, max(stamp - 2 * CAMERA_INFO_LEAD_NS, 0),
                             mount_message(make, config.mount, config.floor_frame, config.frame_id, stamp))
                summary.types[TF_STATIC_TOPIC] = TF_TYPE
            try:
                records = frame_records(make, rgb, stamp, calibration(rgb), config.frame_id, config.image_topic,
                                        config.camera_info_topic, config.encoding, config.jpeg_quality)
            except ValueError as error:
                summary.skipped[str(error)] += 1
                continue
            for record in records:
                writer.write(*record)
                summary.types[record[0]] = record[1]
            summary.first_ns = stamp if summary.frames == 0 else summary.first_ns
            summary.last_ns = stamp
            summary.frames += 1
            summary.image_sizes[(rgb.shape[1], rgb.shape[0])] += 1
            bar.set_postfix(MB=f"{writer.bytes / 1e6:.0f}", refresh=False)
    summary.retimed, summary.written, summary.bytes = clock.retimed, writer.written, writer.bytes
    return summary

