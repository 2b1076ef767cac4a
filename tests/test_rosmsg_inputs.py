"""The duck-typed ROS message readers and the frame processor, on plain namespaces shaped like
the messages (the node and bag tests run them on real rclpy / rosbags messages)."""
from types import SimpleNamespace as Msg

import numpy as np
import pytest

from poselifter_core.rosmsg.frames import FrameConfig, FrameProcessor
from poselifter_core.rosmsg.inputs import boxes_from_detections, intrinsics_from_camera_info, people_from_keypoints
from poselifter_core.rosmsg.sync import Match


def header(stamp_ns=0, frame_id="cam"):
    return Msg(stamp=Msg(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id=frame_id)


def info(k, p=None, width=640, height=480, d=(), model="plumb_bob"):
    return Msg(header=header(), k=k, p=p if p is not None else [0.0] * 12, width=width, height=height, d=list(d),
               distortion_model=model)


K = [500.0, 0.0, 320.0, 0.0, 510.0, 240.0, 0.0, 0.0, 1.0]
P = [450.0, 0.0, 300.0, 0.0, 0.0, 455.0, 250.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def test_camera_info_k_or_p_and_zero_k_rejected():
    assert intrinsics_from_camera_info(info(K, P)).as_array().tolist() == [500.0, 510.0, 320.0, 240.0]
    assert intrinsics_from_camera_info(info(K, P), use_projection=True).as_array().tolist() == [450.0, 455.0, 300.0, 250.0]
    with pytest.raises(ValueError, match="CameraInfo K rejected: K is all zeros"):
        intrinsics_from_camera_info(info([0.0] * 9))
    with pytest.raises(ValueError, match="CameraInfo P rejected"):
        intrinsics_from_camera_info(info(K), use_projection=True)


def detection(box_id, cx, cy, w, h, class_id="person", score=0.9, humble=True):
    center = Msg(position=Msg(x=cx, y=cy), theta=0.0) if humble else Msg(x=cx, y=cy, theta=0.0)
    return Msg(id=box_id, bbox=Msg(center=center, size_x=w, size_y=h),
               results=[Msg(hypothesis=Msg(class_id=class_id, score=score))])


def test_detection_boxes_clipped_filtered_and_counted():
    message = Msg(detections=[
        detection("a", 100, 100, 60, 120), detection("edge", 630, 240, 40, 100),
        detection("nan", float("nan"), 10, 5, 5), detection("outside", 900, 100, 50, 50),
        detection("sliver", 639.0, 100, 2.0, 50), detection("dog", 50, 50, 10, 10, class_id="dog"),
        detection("weak", 50, 50, 10, 10, score=0.1), detection("foxy", 200, 200, 20, 20, humble=False)])
    found = boxes_from_detections(message, (640, 480), class_ids=("person",), min_score=0.5)
    assert found.ids == ["a", "edge", "foxy"]
    np.testing.assert_allclose(found.boxes, [[70, 40, 130, 160], [610, 190, 639, 290], [190, 190, 210, 210]])
    assert found.skipped == {"detection box not finite or empty": 1, "detection box outside the image": 1,
                             "detection box degenerate after clipping": 1, "detection of another class": 1,
                             "detection score below threshold": 1}
    assert boxes_from_detections(message, (640, 480)).ids[-2:] == ["weak", "foxy"]  # any class, any score


def person(layout="coco17", n=17, scores=None, xy=None, box=(0.0, 0.0, 0.0, 0.0)):
    xy = xy if xy is not None else [(10.0 + i, 20.0 + 2 * i) for i in range(n)]
    scores = scores if scores is not None else [0.8] * n
    return Msg(id="p", layout=layout, score=0.7, box=list(box),
               keypoints=[Msg(x=x, y=y, score=s) for (x, y), s in zip(xy, scores)])


def test_keypoints_parsed_missing_joints_and_bad_people_counted():
    scores = [0.8] * 16 + [0.0]
    xy = [(10.0 + i, 20.0 + 2 * i) for i in range(16)] + [(float("nan"), 0.0)]  # a missing joint may be NaN
    message = Msg(people=[person(scores=scores, xy=xy), person(layout="openpose25"), person(n=12),
                          person(xy=[(float("inf"), 0.0)] * 17)])
    people, skipped = people_from_keypoints(message)
    assert len(people) == 1 and people[0].id == "p" and people[0].skeleton.name == "coco17"
    assert np.isnan(people[0].keypoints[16]).all() and people[0].box.tolist() == [10.0, 20.0, 25.0, 50.0]
    assert skipped == {"unknown keypoint layout": 1, "wrong number of keypoints": 1, "keypoint coordinates not finite": 1}


class NoPeople:
    """A stand-in cascade for the frame logic: records what it was asked to lift."""

    def __init__(self):
        self.calls = []

    def cap(self, people):
        return people, 0

    def lift_people(self, people, intrinsics, size, distortion=None, look=None, floor=None):
        from poselifter_core.camera import Intrinsics
        from poselifter_core.cascade import CascadeResult

        self.calls.append((people, intrinsics, size, distortion, floor))
        return CascadeResult([], intrinsics or Intrinsics.from_fov(*size, 60.0), intrinsics is None)


def test_frames_wait_for_camera_info_unless_told_not_to():
    keypoints = Msg(header=header(5, "optical"), people=[])
    strict = FrameProcessor(NoPeople(), FrameConfig(mode="keypoints"))
    frame = strict.process(Match(5, {"keypoints": keypoints}))
    assert frame.error_kind == "no valid camera info" and frame.result is None
    frame = strict.process(Match(5, {"keypoints": keypoints, "camera_info": info(K)}))
    assert not frame.error_kind and frame.frame_id == "optical" and not frame.result.intrinsics_assumed
    lenient = FrameProcessor(NoPeople(), FrameConfig(mode="keypoints", require_camera_info=False))
    assert lenient.process(Match(5, {"keypoints": keypoints})).error_kind == "bad keypoints"  # no size to assume a FOV from
    with pytest.raises(ValueError, match="mode must be one of"):
        FrameConfig(mode="sideways")


def test_processor_add_keeps_invalid_camera_info_out_of_the_synchronizer():
    processor = FrameProcessor(NoPeople(), FrameConfig(mode="keypoints"))
    with pytest.raises(ValueError, match="all zeros"):
        processor.add("camera_info", info([0.0] * 9))
    assert not processor.has_camera_info()
    assert processor.add("camera_info", info(K)) == [] and processor.has_camera_info()
    with pytest.raises(ValueError, match="all zeros"):
        processor.add("camera_info", info([0.0] * 9))  # rejected: the valid one stays
    (match,) = processor.add("keypoints", Msg(header=header(7, "optical"), people=[]))
    assert match.messages["camera_info"].k == K and processor.process(match).result is not None


class CountedInfo:
    """A CameraInfo-shaped message (with lens distortion) that counts how often its K is read."""

    def __init__(self, k):
        self.header, self.width, self.height, self.p, self._k, self.reads = header(), 640, 480, [0.0] * 12, k, 0
        self.d, self.distortion_model = [-0.3, 0.1, 0.0, 0.0, 0.0], "plumb_bob"

    @property
    def k(self):
        self.reads += 1
        return self._k


def test_camera_info_is_parsed_once_and_latched_as_intrinsics():
    processor = FrameProcessor(NoPeople(), FrameConfig(mode="keypoints"))
    camera = CountedInfo(K)
    processor.add("camera_info", camera)
    assert camera.reads == 1
    for stamp in (7, 8, 9):
        (match,) = processor.add("keypoints", Msg(header=header(stamp, "optical"), people=[]))
        frame = processor.process(match)
        assert frame.result is not None and frame.result.intrinsics.as_array().tolist() == [500.0, 510.0, 320.0, 240.0]
        assert processor.cascade.calls[-1][3].coeffs == (-0.3, 0.1, 0.0, 0.0, 0.0)  # the latched distortion too
    assert camera.reads == 1


class RecordsIntrinsics(NoPeople):
    """Image modes: records the intrinsics the cascade was given."""

    def process(self, image, intrinsics, boxes=None, ids=None, distortion=None, floor=None):
        return self.lift_people([], intrinsics, image.shape[1::-1], distortion, floor=floor)


def image_message(width, height):
    return Msg(header=header(9, "optical"), height=height, width=width, encoding="rgb8", step=3 * width,
               is_bigendian=False, data=bytes(3 * width * height))


def test_camera_info_size_is_checked_against_the_image():
    """Row 2: a 4k image was lifted against a 640x480 CameraInfo's K without a word."""
    from poselifter_core.camera import Intrinsics
    from poselifter_core.rosmsg.inputs import intrinsics_for_image

    k = Intrinsics(500.0, 510.0, 319.5, 239.5)
    assert intrinsics_for_image(k, info(K), (640, 480)) is k
    assert intrinsics_for_image(k, info(K, width=0, height=0), (64, 48)) is k  # size unset: not checked
    assert intrinsics_for_image(k, info(K), (3840, 2880)).as_array().tolist() == [3000.0, 3060.0, 1919.5, 1439.5]
    with pytest.raises(ValueError, match="CameraInfo is 640x480 but the image is 3840x2160"):
        intrinsics_for_image(k, info(K), (3840, 2160))
    cascade = RecordsIntrinsics()
    processor = FrameProcessor(cascade, FrameConfig())
    frame = processor.process(Match(9, {"image": image_message(64, 36), "camera_info": info(K)}))
    assert frame.error_kind == "camera info size differs from the image" and frame.result is None
    frame = processor.process(Match(9, {"image": image_message(64, 48), "camera_info": info(K)}))
    assert frame.result.intrinsics.fx == pytest.approx(50.0)  # binned / resized: K follows the image


def test_camera_info_distortion_reaches_the_cascade_for_raw_images_only():
    keypoints = Msg(header=header(5, "optical"), people=[])
    lens = info(K, P, d=[-0.3, 0.1, 0.0, 0.0, 0.0])
    for config, expected in ((FrameConfig(mode="keypoints"), ("plumb_bob", (-0.3, 0.1, 0.0, 0.0, 0.0))),
                             (FrameConfig(mode="keypoints", use_projection=True), None),  # rectified: P, no D
                             (FrameConfig(mode="keypoints", undistort=False), None)):
        cascade = NoPeople()
        FrameProcessor(cascade, config).process(Match(5, {"keypoints": keypoints, "camera_info": lens}))
        distortion = cascade.calls[-1][3]
        assert (distortion and (distortion.model, distortion.coeffs)) == expected
    cascade = NoPeople()
    FrameProcessor(cascade, FrameConfig(mode="keypoints")).process(
        Match(5, {"keypoints": keypoints, "camera_info": info(K, d=[0.0] * 5)}))
    assert cascade.calls[-1][3] is None  # a zero D: nothing to undo


def test_a_frames_camera_mount_reaches_the_cascade_in_every_mode():
    """``process(match, floor)`` (the node's mount from TF) hands that FloorConfig to the cascade;
    without it the cascade gets None and uses its own ``floor`` setting."""
    from poselifter_core.floor import FloorConfig

    mount = FloorConfig(camera_height_m=1.5, camera_pitch_deg=10.0)
    keypoints = Msg(header=header(5, "optical"), people=[])
    for config, match in ((FrameConfig(mode="keypoints"), Match(5, {"keypoints": keypoints, "camera_info": info(K)})),
                          (FrameConfig(), Match(9, {"image": image_message(64, 48), "camera_info": info(K)}))):
        cascade = RecordsIntrinsics()
        processor = FrameProcessor(cascade, config)
        assert not processor.process(match, mount).error_kind and cascade.calls[-1][4] is mount
        processor.process(match)
        assert cascade.calls[-1][4] is None


def test_camera_info_with_an_unknown_lens_is_rejected_on_arrival():
    processor = FrameProcessor(NoPeople(), FrameConfig(mode="keypoints"))
    with pytest.raises(ValueError, match="CameraInfo D rejected: unsupported distortion model 'fov'"):
        processor.add("camera_info", info(K, d=[0.9], model="fov"))
    with pytest.raises(ValueError, match="CameraInfo D rejected: plumb_bob takes at most 5"):
        processor.add("camera_info", info(K, d=[0.1] * 8))
    assert not processor.has_camera_info()
    processor.add("camera_info", info(K, d=[0.0], model="fov"))  # an unknown model without distortion is harmless
    assert processor.has_camera_info()


def test_a_live_undistort_change_applies_to_the_latched_camera_info():
    cascade = NoPeople()
    processor = FrameProcessor(cascade, FrameConfig(mode="keypoints"))
    processor.add("camera_info", info(K, d=[-0.3, 0.1]))  # published once, latched
    (match,) = processor.add("keypoints", Msg(header=header(7, "optical"), people=[]))
    processor.process(match)
    assert cascade.calls[-1][3].coeffs[:2] == (-0.3, 0.1)
    processor.config = FrameConfig(mode="keypoints", undistort=False)  # what the node does on a parameter change
    (match,) = processor.add("keypoints", Msg(header=header(8, "optical"), people=[]))
    processor.process(match)
    assert cascade.calls[-1][3] is None


def test_reconfigure_reaches_the_tracker():
    """A live parameter change of frame.tracking.tracker.* reaches the running tracker."""
    from dataclasses import replace

    processor = FrameProcessor(NoPeople(), FrameConfig(mode="keypoints"))
    config = FrameConfig(mode="keypoints")
    config.tracking = replace(config.tracking, tracker=replace(config.tracking.tracker, max_gap_s=5.0))
    processor.reconfigure(config)
    assert processor.config is config and processor.tracker.config.tracker.max_gap_s == 5.0
