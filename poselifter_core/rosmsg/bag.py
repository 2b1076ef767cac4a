"""``poselifter bag``: run the node's logic over a recorded rosbag2 bag, without ROS.

A bag (sqlite3 or MCAP) is read with rosbags. The input topics (image or compressed image,
camera info, detections or external keypoints, by input mode) are given or found by message
type. Their messages go, in log-time order, through the same :class:`~.rosmsg.frames.FrameProcessor`
and synchronizer as the node: a CameraInfo that :meth:`~.rosmsg.frames.FrameProcessor.add` rejects
is counted and never reaches the synchronizer. Every processed frame becomes a
poselifter_msgs/Skeleton3DArray and a visualization_msgs/MarkerArray in a new bag, stamped with the
image's stamp and frame and logged at the log time of the message that completed the frame's
synchronized set (when the live node could first have published it). ``copy_inputs`` also copies
the input topics and the bag's /tf and /tf_static, so the output bag alone replays in RViz or
Foxglove (a robot's frames included).

Damaged input never costs the work done (issue #13 row 6): a message that cannot be decoded, or
is larger than ``max_message_bytes``, is counted and skipped; an image too large to decode is a
skipped frame; when the reader itself fails mid-bag (a corrupt or truncated file), processing
stops there, the output bag is closed with its metadata and every frame so far, and the summary
(``read_error``) says what happened (the CLI exits 1).
"""
from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rosbags.interfaces import Connection
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys.store import Typestore
from tqdm import tqdm

from ..cascade import (
    FLOOR_NO_CAMERA,
    LOOK_FAILED,
    LOOK_OVER_LIMIT,
    LOOK_PASSED,
    LOOK_RUN,
    CascadeConfig,
    Pose3DEstimator,
)
from ..config import to_dict
from ..floor import FloorConfig, floor_summary
from ..settings import check_settings, setting
from ..tracking.output_gates import tracking_summary
from . import outputs
from .body_frames import body_transforms
from .floor_tf import FLOOR_TF_COUNTERS, floor_fallback, floor_frame_setting, floor_from_tf
from .frames import Frame, FrameConfig, FrameProcessor
from .rosbags_factory import message_factory
from .rosbags_types import poselifter_typestore, register_bag_types
from .sync import Match

SKELETONS_TYPE = "poselifter_msgs/msg/Skeleton3DArray"
MARKERS_TYPE = "visualization_msgs/msg/MarkerArray"
TF_TYPE = "tf2_msgs/msg/TFMessage"
#: Accepted message types of each input stream (the stream names of FrameProcessor's synchronizer).
STREAM_TYPES = {
    "image": ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage"),
    "camera_info": ("sensor_msgs/msg/CameraInfo",),
    "detections": ("vision_msgs/msg/Detection2DArray",),
    "keypoints": ("poselifter_msgs/msg/Keypoints2DArray",),
}
#: The input topics a bag's TF is read from when ``floor_frame`` is set (tf2's listener's topics); video-bag
#: writes its ``--mount`` to the first.
TF_STATIC_TOPIC, TF_DYNAMIC_TOPIC = "/tf_static", "/tf"
STORAGES = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
#: rosbag2 metadata version written: 8 is what ROS 2 Jazzy writes, so Jazzy and later read it.
BAG_VERSION = 8


@dataclass
class BagTopics:
    """Input topics ("": the one topic of the stream's type in the bag) and output topics."""

    image: str = ""  # sensor_msgs/Image or CompressedImage (bottom_up, top_down)
    camera_info: str = ""
    detections: str = ""  # vision_msgs/Detection2DArray (top_down)
    keypoints: str = ""  # poselifter_msgs/Keypoints2DArray (keypoints)
    skeletons: str = "/pose3d/skeletons"
    markers: str = "/pose3d/markers"  # "": no markers
    tf: str = ""  # e.g. "/tf": the people's TF body frames (REP-155, see rosmsg/body_frames.py); "": none


@dataclass
class BagConfig:
    frame: FrameConfig = field(default_factory=FrameConfig)
    cascade: CascadeConfig = field(default_factory=CascadeConfig)
    topics: BagTopics = field(default_factory=BagTopics)
    lifter: str = ""  # lifter checkpoint or ONNX file; "": the shipped model
    pose2d: str = ""  # 2D model (see infer --pose2d); "": the shipped MoveNet
    backend: str = "auto"
    storage: str = ""  # output storage, sqlite3 or mcap; "": the input's
    copy_inputs: bool = setting(False, "Also copy the input topics, and the bag's /tf and /tf_static, into the output "
                                "bag")
    max_message_bytes: int = setting(256 * 2**20, "Larger messages are skipped and counted, never decoded",
                                     low=1, high=2**40)
    marker_lifetime_s: float = setting(0.5, "Markers vanish this long after the last update [s]; 0: never",
                                       low=0.0, high=60.0)
    joint_frames: bool = setting(False, "With topics.tf: also a TF frame per valid joint")
    floor_frame: str = floor_frame_setting()
    tf_tolerance_s: float = setting(0.0, "With floor_frame: a lookup up to this long before the first or after the "
                                    "last /tf sample of a transform takes that sample (tf2, and so the node, has no "
                                    "such tolerance: 0); beyond it the frame counts as frames_floor_no_tf [s]",
                                    low=0.0, high=1.0)

    def __post_init__(self) -> None:
        if self.storage and self.storage not in STORAGES:
            raise ValueError(f"storage must be one of {sorted(STORAGES)} (or empty for the input's), got {self.storage!r}")
        if not self.topics.skeletons:
            raise ValueError("the skeletons output topic must not be empty")
        check_settings(self)  # frame.*, cascade.*, and the fields above: types and ranges


@dataclass(frozen=True)
class BagPlan:
    """A checked job: the input streams' topics, the output storage, a typestore for every type."""

    source: Path
    output: Path
    config: BagConfig
    streams: dict[str, str]  # stream name -> input topic
    tf_topics: tuple[str, ...]  # the bag's /tf and /tf_static (TFMessage): read first with floor_frame, copied with
    # copy_inputs
    storage: str
    typestore: Typestore


#: The summary's second-look counts, in this order: ``(cascade.LOOK_* key, label)``.
LOOK_ORDER = ((LOOK_RUN, "run"), (LOOK_PASSED, "passed"), (LOOK_FAILED, "failed"), (LOOK_OVER_LIMIT, "over the limit"))


@dataclass
class BagSummary:
    """What a run did; ``str()`` is the report printed at the end."""

    frames_processed: int = 0
    people_lifted: int = 0
    people_head_only: int = 0  # of the people skipped, those located by their head (not in the bag's messages)
    second_looks: Counter = field(default_factory=Counter)  # cascade.LOOK_* -> count
    floor: Counter = field(default_factory=Counter)  # cascade.FLOOR_* -> people lifted
    tracking: Counter = field(default_factory=Counter)  # tracking.output_gates.TRACK_* -> people
    frames_skipped: Counter = field(default_factory=Counter)  # reason -> frames
    people_skipped: Counter = field(default_factory=Counter)  # reason -> people (or detections)
    camera_infos_rejected: Counter = field(default_factory=Counter)  # reason -> messages
    undecodable: Counter = field(default_factory=Counter)  # topic -> messages rosbags could not decode
    written: Counter = field(default_factory=Counter)  # output topic -> messages
    sync_stats: dict[str, dict[str, int]] = field(default_factory=dict)
    sync_pending: dict[str, int] = field(default_factory=dict)  # held at the end, never matched
    sync_time_events: dict[str, int] = field(default_factory=dict)  # future stamps rejected, resets
    pivot: str = "image"
    floor_frame: str = ""  # BagConfig.floor_frame: the counts below are kept
    floor_tf: Counter = field(default_factory=Counter)  # floor_tf.FLOOR_TF_COUNTERS -> frames
    floor_tf_problems: Counter = field(default_factory=Counter)  # why a frame had no mount from TF -> frames
    floor_tf_fallback: str = ""  # what those frames used instead (floor_tf.floor_fallback)
    tf_read: dict[str, int] = field(default_factory=dict)  # the TF pass: transforms kept, unusable ones skipped
    read_error: str = ""  # why reading stopped before the end of the bag ("" when it did not)

    def warnings(self) -> list[str]:
        """What the user must hear about: input frames that never became a frame, and why if known."""
        stats = self.sync_stats.get(self.pivot, {})
        lost = stats.get("unmatched", 0) + stats.get("overflow", 0) + self.sync_pending.get(self.pivot, 0)
        events = ", ".join(f"{count} {key}" for key, count in self.sync_time_events.items() if count)
        found = [f"{lost} of {stats.get('received', 0)} {self.pivot} messages were never matched into a frame"
                 + (f" ({events})" if events else "")] if lost else []
        if unused := self.floor[FLOOR_NO_CAMERA]:
            found.append(f"the camera mount (cascade.floor) was not used for {unused} people lifted without a "
                         "CameraInfo (frame.require_camera_info false: the intrinsics assumed)")
        return found

    def to_json(self) -> dict[str, Any]:
        """The summary as plain data (``bag --summary-json``): every field by its name, the same
        numbers as ``str()`` prints (zero counts absent), plus ``warnings``."""
        return {**{f.name: dict(value) if isinstance(value := getattr(self, f.name), Counter) else value
                   for f in fields(self)}, "warnings": self.warnings()}

    def add(self, frame: Frame) -> None:
        self.people_skipped.update(frame.skipped)
        if frame.result is None:
            self.frames_skipped[frame.error] += 1
        else:
            self.frames_processed += 1
            self.people_lifted += len(frame.result.people)
            self.people_head_only += len(frame.result.head_only)
            self.second_looks.update(frame.result.second_looks)
            self.floor.update(frame.result.floor)
            self.tracking.update(frame.result.tracking)

    def _floor_tf_lines(self) -> list[str]:
        read = ", ".join(f"{key} {count}" for key, count in self.tf_read.items())
        lines = [f"camera mount from TF (floor_frame {self.floor_frame}; {read}): "
                 + ", ".join(f"{key} {self.floor_tf[key]}" for key in FLOOR_TF_COUNTERS)]
        if self.floor_tf_problems:
            lines.append(f"  without it, {self.floor_tf_fallback}:")
            lines.extend(f"  {count} x {problem}" for problem, count in self.floor_tf_problems.most_common())
        return lines

    def __str__(self) -> str:
        lines = [f"error: {self.read_error}; the frames before it are written"] if self.read_error else []
        lines += [f"warning: {warning}" for warning in self.warnings()]
        lines.append(f"frames processed: {self.frames_processed}, people lifted: {self.people_lifted}, skipped but "
                     f"located by their head: {self.people_head_only}")
        if self.second_looks:  # in LOOK_ORDER (the Counter holds them in the order a frame first counted them)
            lines.append("second looks: " + ", ".join(f"{label} {self.second_looks[key]}" for key, label in LOOK_ORDER))
        if self.floor_frame:
            lines.extend(self._floor_tf_lines())
        if self.floor:
            lines.append(floor_summary(self.floor))
        if self.tracking:  # only a pose the tracker made and the output gates refused
            lines.append(tracking_summary(self.tracking))
        for title, counts in (("frames skipped", self.frames_skipped), ("people skipped", self.people_skipped),
                              ("camera infos rejected", self.camera_infos_rejected),
                              ("messages not decodable", self.undecodable), ("messages written", self.written)):
            lines.append(f"{title}: {sum(counts.values())}")
            lines.extend(f"  {count} x {reason}" for reason, count in counts.most_common())
        lines.append("synchronizer:")
        lines.extend(f"  {stream}: " + ", ".join(f"{key} {value}" for key, value in stats.items())
                     + (f", pending at the end {self.sync_pending[stream]}" if stream in self.sync_pending else "")
                     for stream, stats in self.sync_stats.items())
        return "\n".join(lines)


def _describe(topics: dict[str, str]) -> str:
    return ", ".join(f"{topic} ({msgtype})" for topic, msgtype in sorted(topics.items())) or "none"


def choose_topic(stream: str, wanted: str, topics: dict[str, str], required: bool) -> str | None:
    """The input topic of ``stream``: ``wanted`` if given (checked against the bag), else the only
    topic of the stream's type; None for an optional stream the bag lacks. ``topics`` maps each
    topic of the bag to its type. Raises ValueError listing the candidates otherwise."""
    types = STREAM_TYPES[stream]
    if wanted:
        if wanted not in topics:
            raise ValueError(f"unknown {stream} topic {wanted!r}; the bag has: {_describe(topics)}")
        if topics[wanted] not in types:
            raise ValueError(f"{stream} topic {wanted} has type {topics[wanted]}, expected {' or '.join(types)}")
        return wanted
    candidates = {topic: msgtype for topic, msgtype in topics.items() if msgtype in types}
    if len(candidates) == 1:
        return next(iter(candidates))
    if candidates:
        raise ValueError(f"several {stream} topics: {_describe(candidates)}; choose one with "
                         f"--{stream.replace('_', '-')}-topic (topics.{stream})")
    if required:
        hint = ("; without a camera calibration, --set frame.require_camera_info=false assumes "
                "cascade.default_hfov_deg (metric_depth false)" if stream == "camera_info" else "")
        raise ValueError(f"the bag has no {' or '.join(types)} topic for the {stream} stream; "
                         f"it has: {_describe(topics)}{hint}")
    return None


def input_streams(frame: FrameConfig) -> dict[str, bool]:
    """The streams a mode reads, and whether each is required (CameraInfo only if it is demanded)."""
    pivot = "keypoints" if frame.mode == "keypoints" else "image"
    streams = {pivot: True, "camera_info": frame.require_camera_info}
    if frame.mode == "top_down":
        streams["detections"] = True
    return streams


def _storage_of(path: Path) -> str:
    files = [path] if path.is_file() else list(path.iterdir())
    return "mcap" if any(f.suffix == ".mcap" for f in files) else "sqlite3"


def check_new_output(output: Path) -> None:
    """ValueError unless ``output`` is a new path in a folder where files can be made (checked
    before any model loads, or any frame is read)."""
    if output.exists():
        raise ValueError(f"{output} exists already; the output bag must be a new path")
    folder = output.parent
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(f"cannot write the output bag into {folder}: {error.strerror or error}") from error


def plan_bag(source: str | Path, output: str | Path, config: BagConfig) -> BagPlan:
    """Check the input bag, choose its topics and register its types, before any model loads.

    Raises FileNotFoundError for a missing input and ValueError for an existing output, an output
    folder that cannot be written, an unreadable bag, an unknown or ambiguous topic, or a missing required stream.
    """
    source, output = Path(source), Path(output)
    if not source.exists():
        raise FileNotFoundError(f"no rosbag2 bag at {source} (a bag folder with metadata.yaml, or a .mcap or .db3 file)")
    check_new_output(output)
    try:
        with Reader(source) as reader:
            connections = list(reader.connections)  # the reader empties its own list on closing
    except Exception as error:  # noqa: BLE001 - a damaged bag raises ReaderError, UnicodeDecodeError, OverflowError...
        raise ValueError(f"cannot read the bag {source}: {type(error).__name__}: {error}") from error
    topics = {c.topic: c.msgtype for c in connections}
    tf_topics = tuple(topic for topic in (TF_STATIC_TOPIC, TF_DYNAMIC_TOPIC)
                      if (config.floor_frame or config.copy_inputs) and topics.get(topic) == TF_TYPE)
    streams = {}
    for stream, required in input_streams(config.frame).items():
        topic = choose_topic(stream, getattr(config.topics, stream), topics, required)
        if topic is not None:
            streams[stream] = topic
    typestore = poselifter_typestore()
    register_bag_types(typestore, [c for c in connections if c.topic in (*streams.values(), *tf_topics)])
    return BagPlan(source, output, config, streams, tf_topics, config.storage or _storage_of(source), typestore)


class _OutputBag:
    """The output bag's connections: the results (by type) and the copied input topics."""

    def __init__(self, writer: Writer, plan: BagPlan, inputs: list[Connection]) -> None:
        self.writer = writer
        self.typestore = plan.typestore
        self.make = message_factory(plan.typestore)
        self.marker_lifetime_s = plan.config.marker_lifetime_s
        self.joint_frames = plan.config.joint_frames
        topics = {SKELETONS_TYPE: plan.config.topics.skeletons, MARKERS_TYPE: plan.config.topics.markers,
                  TF_TYPE: plan.config.topics.tf}
        self.results = {msgtype: writer.add_connection(topic, msgtype, typestore=plan.typestore)
                        for msgtype, topic in topics.items() if topic}
        self.copies: dict[str, Connection] = {}
        for connection in inputs if plan.config.copy_inputs else ():
            result = self.results.get(connection.msgtype)
            if result is not None and result.topic == connection.topic:  # --tf-topic /tf: one /tf, the robot's and
                self.copies[connection.topic] = result                    # the people's frames
            elif connection.topic not in self.copies:
                self.copies[connection.topic] = writer.add_connection(
                    connection.topic, connection.msgtype, typestore=plan.typestore,
                    offered_qos_profiles=connection.ext.offered_qos_profiles)
        self.written: Counter = Counter()

    def copy(self, topic: str, log_ns: int, raw: bytes) -> None:
        if topic in self.copies:
            self._write(self.copies[topic], log_ns, raw)

    def write_frame(self, frame: Frame, log_ns: int) -> None:
        """A processed frame's skeletons (and markers, and TF body frames) at ``log_ns``."""
        header = outputs.header(self.make, frame.stamp_ns, frame.frame_id)
        messages = {SKELETONS_TYPE: outputs.skeleton_array(self.make, frame.result, header)}
        if MARKERS_TYPE in self.results:
            messages[MARKERS_TYPE] = outputs.marker_array(self.make, frame.result, header, self.marker_lifetime_s)
        if TF_TYPE in self.results and frame.result.people:
            messages[TF_TYPE] = self.make(TF_TYPE, transforms=body_transforms(self.make, frame.result, header,
                                                                               self.joint_frames))
        for msgtype, message in messages.items():
            self._write(self.results[msgtype], log_ns, self.typestore.serialize_cdr(message, msgtype))

    def _write(self, connection: Connection, log_ns: int, raw: bytes | memoryview) -> None:
        self.writer.write(connection, log_ns, raw)
        self.written[connection.topic] += 1


def _until_read_error(messages: Iterable[tuple[Connection, int, bytes]],
                      summary: BagSummary) -> Iterator[tuple[Connection, int, bytes]]:
    """The bag's messages until the reader fails (a corrupt or truncated file): then the failure
    is recorded in ``summary.read_error`` and the iteration ends, so what was processed so far is
    written and the output bag closed with its metadata."""
    iterator, count = iter(messages), 0
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except Exception as error:  # noqa: BLE001 - sqlite (apsw), MCAP and rosbags readers raise many types
            summary.read_error = (f"reading the bag failed after {count} messages: {type(error).__name__}: "
                                  f"{' '.join(str(error).split())}")
            return
        count += 1
        yield item


def _decode(plan: BagPlan, connection: Connection, raw: bytes, summary: BagSummary) -> Any | None:
    """The message, or None when it is over ``max_message_bytes`` or cannot be decoded (counted)."""
    if len(raw) > plan.config.max_message_bytes:
        summary.undecodable[f"{connection.topic} (over max_message_bytes)"] += 1
        return None
    try:
        return plan.typestore.deserialize_cdr(raw, connection.msgtype)
    except Exception:  # noqa: BLE001 - rosbags raises SerdeError, struct.error, IndexError... for bad CDR
        summary.undecodable[connection.topic] += 1
        return None


class _FloorFromBagTf:
    """``floor_frame`` in a bag: every /tf and /tf_static message read first into a
    :class:`~.tf_buffer.TfBuffer` (a transform logged after the image it belongs to is there), then
    each frame's mount from it, counted in the summary as the node counts it."""

    def __init__(self, plan: BagPlan, reader: Reader, summary: BagSummary, processor: FrameProcessor) -> None:
        from .tf_buffer import TfBuffer  # scipy.spatial: only with floor_frame

        self.buffer = TfBuffer(round(plan.config.tf_tolerance_s * 1e9))
        connections = [c for c in reader.connections if c.topic in plan.tf_topics]
        # no TF topic: read nothing (rosbags reads every topic for an empty connections list)
        for connection, _, raw in _until_read_error(reader.messages(connections=connections) if connections else (),
                                                    summary):
            if (message := _decode(plan, connection, raw, summary)) is not None:
                self.buffer.add(message, static=connection.topic == TF_STATIC_TOPIC)
        self.plan, self.summary, self.processor = plan, summary, processor
        summary.floor_frame = plan.config.floor_frame
        summary.floor_tf_fallback = floor_fallback(plan.config.cascade.floor)
        summary.tf_read = {"transforms read from " + (" and ".join(plan.tf_topics)
                                                      or "the bag (it has no /tf or /tf_static topic)"):
                           self.buffer.transforms, "unusable": self.buffer.unusable}

    def mount(self, match: Match) -> FloorConfig | None:
        outcome = floor_from_tf(self.buffer, self.plan.config.floor_frame, self.processor.frame_id(match),
                                match.stamp_ns, self.plan.config.cascade.floor)
        self.summary.floor_tf[outcome.counter] += 1
        if outcome.problem:
            self.summary.floor_tf_problems[outcome.problem] += 1
        return outcome.floor


def process_bag(plan: BagPlan, cascade: Pose3DEstimator, progress: bool = True) -> BagSummary:
    """Run ``cascade`` over the planned bag and write the output bag (see the module doc)."""
    processor = FrameProcessor(cascade, plan.config.frame)
    synchronizer = processor.synchronizer
    stream_of = {topic: stream for stream, topic in plan.streams.items()}
    summary = BagSummary()
    writer = Writer(plan.output, version=BAG_VERSION, storage_plugin=STORAGES[plan.storage])
    writer.set_custom_data("poselifter.input", str(plan.source))  # provenance, in metadata.yaml
    writer.set_custom_data("poselifter.config", json.dumps(to_dict(plan.config)))
    with Reader(plan.source) as reader, writer:
        floor = _FloorFromBagTf(plan, reader, summary, processor) if plan.config.floor_frame else None
        inputs = [c for c in reader.connections if c.topic in stream_of]
        if plan.config.copy_inputs:  # the TF topics too, copied in their log-time place, not processed
            inputs += [c for c in reader.connections if c.topic in plan.tf_topics]
        output = _OutputBag(writer, plan, inputs)
        messages = tqdm(reader.messages(connections=inputs), total=sum(c.msgcount for c in inputs),
                        desc="messages", unit="msg", disable=not progress)
        for connection, log_ns, raw in _until_read_error(messages, summary):
            output.copy(connection.topic, log_ns, raw)
            if (stream := stream_of.get(connection.topic)) is None:  # a copied /tf or /tf_static
                continue
            if (message := _decode(plan, connection, raw, summary)) is None:
                continue
            try:
                matches = processor.add(stream, message, log_ns)
            except ValueError as error:  # only a rejected CameraInfo raises
                summary.camera_infos_rejected[str(error)] += 1
                continue
            for match in matches:
                frame = processor.process(match, floor.mount(match) if floor else None)
                summary.add(frame)
                if frame.result is not None:
                    output.write_frame(frame, log_ns)
                    messages.set_postfix(frames=summary.frames_processed, people=summary.people_lifted, refresh=False)
    summary.written = output.written
    summary.sync_stats = synchronizer.stats
    summary.sync_pending = {stream: count for stream, count in synchronizer.pending().items()
                            if stream not in synchronizer.latched}  # a latched message is held, not waiting
    summary.sync_time_events = synchronizer.time_events
    summary.pivot = synchronizer.pivot
    return summary
