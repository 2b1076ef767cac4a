"""Fuzzing (hypothesis) of what the node and ``bag`` read from the outside world (issue #13): the
image decoders, the message readers, the synchronizer and the lifter's input gate. Whatever
comes in, the only way out is a result or a ValueError, and no returned pose has a non-finite or
non-positive depth. Example counts are bounded (``FUZZ_EXAMPLES`` per test, derandomized) so the
file runs in seconds; docs/benchmarks.md gives the counts."""
from __future__ import annotations

import io
from types import SimpleNamespace as Msg

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from poselifter_core import shipped
from poselifter_core.cascade import Pose3DEstimator
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.plausibility import PlausibilityConfig
from poselifter_core.rosmsg.frames import FrameConfig, FrameProcessor
from poselifter_core.rosmsg.images import SUPPORTED_ENCODINGS, compressed_to_rgb, image_to_rgb
from poselifter_core.rosmsg.inputs import boxes_from_detections
from poselifter_core.rosmsg.sync import Match, TimestampSynchronizer

FUZZ_EXAMPLES = 150
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no numpy overflow on the way either
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

#: Any float a message field can hold: ordinary values, NaN, infinities, huge and tiny ones.
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-2000, 2000),
                   st.sampled_from([0.0, -0.0, 1e30, -1e30, 1e308, 5e-324]))
sizes = st.one_of(st.integers(-3, 40), st.sampled_from([0, 2**31 - 1, 10**6]))


BYTES_PER_PIXEL = {"rgb8": 3, "bgr8": 3, "8UC3": 3, "rgba8": 4, "bgra8": 4, "mono8": 1, "mono16": 2, "16UC1": 2,
                   "yuv422": 2, "uyvy": 2, "yuv422_yuy2": 2, "yuyv": 2}


@st.composite
def raw_images(draw):
    """Mostly consistent Image fields (small sizes, row padding, a few bytes more or fewer), else
    anything: unknown encodings, absurd sizes and steps."""
    encoding = draw(st.one_of(st.sampled_from(SUPPORTED_ENCODINGS), st.text(max_size=12)))
    if draw(st.integers(0, 3)) == 0:
        height, width, step = draw(sizes), draw(sizes), draw(sizes)
        return encoding, height, width, step, draw(st.binary(max_size=4000))
    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    step = width * BYTES_PER_PIXEL.get(encoding, 3) + draw(st.integers(-1, 3))
    size = max(0, step * height + draw(st.integers(-2, 4)))
    return encoding, height, width, step, draw(st.binary(min_size=size, max_size=size))


@FUZZ
@given(fields=raw_images(), bigendian=st.booleans())
def test_raw_image_decoding_never_crashes(fields, bigendian):
    encoding, height, width, step, data = fields
    try:
        rgb = image_to_rgb(data, height, width, encoding, step, bigendian)
    except ValueError:
        event("rejected")
        return
    event("decoded")
    assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8


def _encoded(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.arange(16 * 24 * 3, dtype=np.uint8).reshape(16, 24, 3)).save(buffer, format=kind)
    return buffer.getvalue()


VALID = {"png": _encoded("PNG"), "jpeg": _encoded("JPEG")}


@FUZZ
@given(kind=st.sampled_from(["png", "jpeg"]), fmt=st.one_of(st.sampled_from(["png", "jpeg", "bgr8; jpeg compressed bgr8",
                                                                           "rgb8; compressedDepth png"]), st.text(max_size=20)),
       flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
       cut=st.one_of(st.none(), st.integers(0, 4000)))
def test_compressed_image_decoding_never_crashes(kind, fmt, flips, cut):
    data = bytearray(VALID[kind])
    for position, value in flips:  # a valid file with some bytes changed, maybe cut short
        data[position % len(data)] = value
    try:
        rgb = compressed_to_rgb(bytes(data[:cut]), fmt)
    except ValueError:
        event("rejected")
        return
    event("decoded")
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8


def _detection(values):
    cx, cy, w, h, score = values
    return Msg(id="d", bbox=Msg(center=Msg(position=Msg(x=cx, y=cy)), size_x=w, size_y=h),
               results=[Msg(hypothesis=Msg(class_id="person", score=score))])


@FUZZ
@given(detections=st.lists(st.tuples(floats, floats, floats, floats, floats), max_size=6),
       width=st.integers(1, 4000), height=st.integers(1, 4000))
def test_detection_reader_keeps_only_boxes_inside_the_image(detections, width, height):
    found = boxes_from_detections(Msg(detections=[_detection(d) for d in detections]), (width, height))
    assert len(found.boxes) + sum(found.skipped.values()) == len(detections)
    assert np.all(np.isfinite(found.boxes)) and np.all(found.boxes >= 0)
    assert np.all(found.boxes[:, [0, 2]] <= width - 1) and np.all(found.boxes[:, [1, 3]] <= height - 1)


@pytest.fixture(scope="module")
def processor() -> FrameProcessor:
    lifter = LifterRuntime.from_onnx(shipped.ONNX, "onnxruntime-cpu")
    return FrameProcessor(Pose3DEstimator(None, lifter), FrameConfig(mode="keypoints"))


def _header(stamp_ns: int = 0):
    return Msg(stamp=Msg(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id="cam")


#: A plausible standing person 3 m in front of a 640x480 camera with fx 500 (H36M-17 pixels),
#: which the fuzzer moves, scales and damages.
BODY_PX = np.array([[320, 240], [305, 240], [303, 300], [302, 360], [335, 240], [337, 300], [338, 360], [320, 210],
                    [320, 180], [320, 170], [320, 155], [335, 182], [350, 210], [360, 236], [305, 182], [290, 210],
                    [280, 236]], dtype=np.float64)
GATES = PlausibilityConfig()


plausible = st.floats(-3000, 3000, allow_nan=False)
people_strategy = st.tuples(
    st.one_of(st.sampled_from(["h36m17", "coco17"]), st.sampled_from(["H36M17", "body25", ""])),  # layout
    st.one_of(st.just(0.0), plausible, floats), st.one_of(st.just(0.0), plausible, floats),  # shift x, y [px]
    st.one_of(st.just(1.0), st.floats(0.01, 30), floats),  # scale about the image centre
    st.lists(st.tuples(st.integers(0, 16), floats, floats, st.one_of(st.floats(0, 1), floats)), max_size=3),  # damage
    st.one_of(st.just(17), st.integers(0, 20)))  # keypoint count


@FUZZ
@given(people=st.lists(people_strategy, max_size=4),
       k=st.one_of(st.just((500.0, 500.0, 319.5, 239.5)), st.tuples(floats, floats, floats, floats)),
       d=st.one_of(st.just([0.0] * 5), st.lists(st.floats(-0.5, 0.5), min_size=5, max_size=5),
                   st.lists(floats, min_size=5, max_size=5)),
       width=st.one_of(st.just(640), sizes), height=st.one_of(st.just(480), sizes))
def test_keypoint_messages_never_give_a_bad_depth(processor, people, k, d, width, height):
    """Random keypoint messages and CameraInfos (K and plumb_bob D) through the node's frame logic
    and the shipped lifter: a frame is processed or skipped with a reason; every pose returned is finite, in front
    of the camera and within the depth bounds."""
    persons = []
    for layout, dx, dy, scale, damage, count in people:
        with np.errstate(all="ignore"):
            xy = (BODY_PX - 320) * (scale if np.isfinite(scale) and scale else 1.0) + 320 + [dx, dy]
        scores = np.full(17, 0.9)
        for joint, x, y, score in damage:
            xy[joint] = (x, y)
            scores[joint] = score
        xy, scores = np.resize(xy, (count, 2)), np.resize(scores, count)
        persons.append(Msg(id="p", layout=layout, score=0.9, box=[0.0] * 4,
                           keypoints=[Msg(x=float(x), y=float(y), score=float(s)) for (x, y), s in zip(xy, scores)]))
    fx, fy, cx, cy = k
    info = Msg(header=_header(), k=[fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0], p=[0.0] * 12, width=width, height=height,
               distortion_model="plumb_bob", d=d)
    try:
        processor.check_camera_info(info)
    except ValueError:
        event("CameraInfo rejected")
        return  # the node and bag never let such a CameraInfo reach a frame
    frame = processor.process(Match(5, {"keypoints": Msg(header=_header(5), people=persons), "camera_info": info}))
    if frame.result is None:
        assert frame.error_kind and frame.error
        event(f"frame skipped: {frame.error_kind}")
        return
    event(f"people lifted: {len(frame.result.people)}")
    for reason in frame.skipped:
        event(f"person skipped: {reason}")
    for person in frame.result.people:
        assert np.all(np.isfinite(person.joints_m)) and np.all(person.joints_m[:, 2] > 0)
        assert GATES.min_depth_m <= person.root_m[2] <= GATES.max_depth_m


@FUZZ
@given(events=st.lists(st.tuples(st.sampled_from(["image", "info", "camera_info"]),
                                 st.one_of(st.integers(0, 10**12), st.integers(-(2**63), 2**63)),
                                 st.one_of(st.none(), st.integers(0, 10**12))), max_size=40))
def test_synchronizer_survives_any_stamps(events):
    """Random streams, stamps (far future, far past, equal, jumping) and clocks: never an
    exception, and between resets the emitted stamps only grow."""
    sync = TimestampSynchronizer(required=("image", "info"), optional=("camera_info",), latched=("camera_info",),
                                 max_future_s=5.0, max_jump_back_s=1.0)
    last, resets = None, 0
    for stream, stamp, now in events:
        for match in sync.add(stream, stamp, object(), now):
            event("emitted")
            if sync.time_events["resets after stamps jumped back"] != resets:
                resets, last = sync.time_events["resets after stamps jumped back"], None
            assert last is None or match.stamp_ns > last
            last = match.stamp_ns
    assert all(count >= 0 for stats in sync.stats.values() for count in stats.values())
    for key, count in sync.time_events.items():
        if count:
            event(key)
