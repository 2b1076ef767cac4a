"""pose3d_node under bad input and load: it logs, counts in /diagnostics, keeps running, and its
memory stays flat. Real rclpy and DDS on loopback, the installed executable."""
from __future__ import annotations

import time

import pytest
from diagnostic_msgs.msg import DiagnosticArray
from poselifter_msgs.msg import Skeleton3DArray
from sensor_msgs.msg import CameraInfo, Image

from poselifter_ros.probe import person_frame

from .ros_inputs import FRAME_ID, camera_info, detections, header, image

SKELETONS = "/pose3d/skeletons"
TIMEOUT_S = 30.0
BURST_HZ = 60.0
BURST_S = 3.0
# Resident memory may grow this much between the end of a warm-up burst and the end of two more
# bursts (allocator noise); a queue that kept frames would grow by ~0.9 MB per 640x480 frame.
MAX_RSS_GROWTH_KIB = 40 * 1024


def diagnostics(probe) -> dict[str, str]:
    messages = probe.messages("/diagnostics")
    return {v.key: v.value for v in messages[-1].status[0].values} if messages else {}


def count(probe, key: str) -> int:
    return int(diagnostics(probe).get(key, 0))


def test_top_down_detections_with_bad_boxes(probe, start_node):
    """Good, NaN, out-of-image and other-class boxes: only the good person is lifted, with its id."""
    probe.record(Skeleton3DArray, SKELETONS)
    probe.record(DiagnosticArray, "/diagnostics")
    start_node({"frame.mode": "top_down", "backend": "onnxruntime-cpu", "cascade.min_valid_joints": 7,
                "frame.detection_class_ids": "[person]", "diagnostics_period_s": 0.2})
    from vision_msgs.msg import Detection2DArray

    probe.repeat(probe.node.create_publisher(CameraInfo, "/camera_info", 10), camera_info(600.0, 600.0, 319.5, 239.5, 640, 480))
    image_pub = probe.node.create_publisher(Image, "/image", 10)
    detections_pub = probe.node.create_publisher(Detection2DArray, "/detections", 10)
    rgb = person_frame()
    boxes = [("alice", 264.0, 240.0, 360.0, 480.0), ("nan", float("nan"), 100.0, 50.0, 50.0),
             ("far", 2000.0, 100.0, 50.0, 50.0)]

    def send() -> Image:
        stamp = time.time_ns()
        detections_pub.publish(detections(boxes, stamp))
        detections_pub.publish(detections([("dog", 100.0, 100.0, 50.0, 50.0)], stamp + 1, class_id="dog"))
        return image(rgb, stamp)

    probe.publish_until(image_pub, send, lambda: probe.messages(SKELETONS), TIMEOUT_S, "skeletons")
    reply = probe.messages(SKELETONS)[0]
    assert [s.id for s in reply.skeletons] == ["alice"] and reply.header.frame_id == FRAME_ID
    x1, y1, x2, y2 = reply.skeletons[0].box
    assert (x1, y1) == (84.0, 0.0) and (x2, y2) == (444.0, 479.0)  # the good box, clipped to the image
    probe.wait_for(lambda: count(probe, "people_skipped: detection box outside the image") >= 1, 5.0, "diagnostics")
    assert count(probe, "people_skipped: detection box not finite or empty") >= 1


@pytest.mark.slow
def test_bad_messages_and_bursts(probe, start_node):
    probe.record(Skeleton3DArray, SKELETONS)
    probe.record(DiagnosticArray, "/diagnostics")
    node = start_node({"backend": "onnxruntime-cpu", "cascade.min_valid_joints": 7, "diagnostics_period_s": 0.2})
    info_pub = probe.node.create_publisher(CameraInfo, "/camera_info", 10)
    image_pub = probe.node.create_publisher(Image, "/image", 10)

    # CameraInfo with an all-zero K: rejected and counted; frames wait for a valid one.
    uncalibrated = camera_info(0.0, 0.0, 0.0, 0.0, 640, 480)
    uncalibrated.k = [0.0] * 9
    probe.publish_until(info_pub, lambda: uncalibrated, lambda: count(probe, "camera_info_rejected") >= 1,
                        TIMEOUT_S, "the zero-K CameraInfo to be counted")
    probe.publish_until(image_pub, lambda: image(person_frame(), time.time_ns()),
                        lambda: count(probe, "frames_skipped: no valid camera info") >= 1, TIMEOUT_S,
                        "a frame skipped for want of CameraInfo")
    assert not probe.messages(SKELETONS)  # nothing published without a trustworthy camera

    probe.repeat(info_pub, camera_info(600.0, 600.0, 319.5, 239.5, 640, 480))
    good = image(person_frame(), 0)

    def malformed(**fields) -> Image:
        message = image(person_frame()[:4, :4], time.time_ns())
        for name, value in fields.items():
            setattr(message, name, value)
        return message

    bad_images = [malformed(step=2),                          # step shorter than a row
                  malformed(height=0, width=0, step=0, data=[]),  # zero size
                  malformed(encoding="32FC1"),                # unknown encoding
                  malformed(height=400)]                      # data shorter than step x height
    for n, bad in enumerate(bad_images, start=1):
        probe.publish_until(image_pub, lambda bad=bad: _restamped(bad),
                            lambda n=n: count(probe, "frames_skipped: bad image") >= n, TIMEOUT_S, f"bad image {n}")
    assert node.alive()

    def burst() -> int:
        """Valid frames at BURST_HZ for BURST_S; returns how many were sent."""
        sent = 0
        period = 1.0 / BURST_HZ
        next_time = time.monotonic()
        end = next_time + BURST_S
        while next_time < end:
            good.header = header(time.time_ns())
            image_pub.publish(good)
            sent += 1
            next_time += period
            time.sleep(max(0.0, next_time - time.monotonic()))
        return sent

    burst()  # warm-up: allocator pools, model arenas
    time.sleep(1.0)
    rss_warm = node.rss_kib()
    processed_before = count(probe, "frames_processed")
    sent = burst() + burst()
    time.sleep(1.0)
    rss_after = node.rss_kib()
    probe.wait_for(lambda: count(probe, "frames_processed") > processed_before, 5.0, "frames processed in the bursts")
    values = diagnostics(probe)
    processed = int(values["frames_processed"]) - processed_before
    assert node.alive(), node.log()
    assert 0 < processed <= sent
    assert rss_after - rss_warm < MAX_RSS_GROWTH_KIB, (rss_warm, rss_after)
    # Every image that arrived is accounted for: processed, skipped, or dropped because a newer one
    # came before the worker was free (newest frame wins) - none is waiting in a backlog ...
    skipped = sum(int(v) for k, v in values.items() if k.startswith("frames_skipped: "))
    discarded = int(values["sync image overflow"]) + int(values["sync image unmatched"])
    assert int(values["frames_processed"]) + skipped + int(values["frames_dropped_newest_wins"]) + discarded == \
        int(values["sync image received"])
    # ... so a frame's latency stays bounded instead of growing with the burst.
    assert float(values["latency_ms_p95"]) < 1000.0
    assert int(values["frames_skipped: bad image"]) == len(bad_images)


def _restamped(message: Image) -> Image:
    message.header = header(time.time_ns())
    return message
