"""Input messages for the node tests, built with the real generated message classes."""
from __future__ import annotations

import numpy as np
from poselifter_msgs.msg import Keypoint2D, Keypoints2D, Keypoints2DArray
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from poselifter_core.rosmsg import outputs
from poselifter_core.rosmsg.images import rgb_to_image_fields
from poselifter_ros import probe
from poselifter_ros.message_factory import make

FRAME_ID = "test_camera_optical_frame"


def header(stamp_ns: int, frame_id: str = FRAME_ID) -> Header:
    return outputs.header(make, stamp_ns, frame_id)


def camera_info(fx: float, fy: float, cx: float, cy: float, width: int, height: int, stamp_ns: int = 0) -> CameraInfo:
    return probe.camera_info(fx, fy, cx, cy, width, height, FRAME_ID, stamp_ns)


def image(rgb: np.ndarray, stamp_ns: int, encoding: str = "rgb8") -> Image:
    return Image(header=header(stamp_ns), **rgb_to_image_fields(rgb, encoding))


def keypoints(people_xy: np.ndarray, stamp_ns: int, layout: str = "h36m17") -> Keypoints2DArray:
    people = [Keypoints2D(id=f"person{i}", layout=layout, score=0.9,
                          keypoints=[Keypoint2D(x=float(x), y=float(y), score=0.9) for x, y in xy])
              for i, xy in enumerate(people_xy)]
    return Keypoints2DArray(header=header(stamp_ns), people=people)


def detections(boxes: list[tuple[str, float, float, float, float]], stamp_ns: int, class_id: str = "person",
               score: float = 0.9):
    """vision_msgs/Detection2DArray of ``(id, centre x, centre y, width, height)`` boxes."""
    from vision_msgs.msg import (
        BoundingBox2D,
        Detection2D,
        Detection2DArray,
        ObjectHypothesis,
        ObjectHypothesisWithPose,
        Point2D,
        Pose2D,
    )

    return Detection2DArray(header=header(stamp_ns), detections=[
        Detection2D(header=header(stamp_ns), id=box_id,
                    bbox=BoundingBox2D(center=Pose2D(position=Point2D(x=cx, y=cy)), size_x=w, size_y=h),
                    results=[ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id=class_id, score=score))])
        for box_id, cx, cy, w, h in boxes])
