"""The cascade's second look: in bottom-up mode a person with too few observed joints gets the 2D
stage's top-down look at its box, and is lifted when that finds enough joints."""
import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeConfig, Pose3DEstimator
from poselifter_core.infer import load_lifter_runtime
from poselifter_core.pose2d.base import Person2D, Pose2DEstimator
from poselifter_core.skeleton import COCO17

# A standing person about 190 px tall facing the camera (COCO-17 order), x, y pixels.
BODY = np.array([[50, 20], [54, 16], [46, 16], [58, 18], [42, 18], [65, 45], [35, 45], [70, 80], [30, 80],
                 [72, 110], [28, 110], [60, 115], [40, 115], [60, 160], [40, 160], [60, 205], [40, 205]],
                float) + [270.0, 120.0]
BOX = np.array([290.0, 125.0, 350.0, 330.0])
FACE_ONLY = np.where(np.arange(17) < 5, 0.8, 0.05)
CAMERA = Intrinsics(600.0, 600.0, 319.5, 239.5)
IMAGE = np.zeros((480, 640, 3), np.uint8)


class TwoLooks(Pose2DEstimator):
    """A 2D stage that finds the person with joint scores ``bottom_up`` (a face) bottom-up and
    ``on_box`` when given the box."""

    skeleton = COCO17

    def __init__(self, on_box: np.ndarray, bottom_up: np.ndarray = FACE_ONLY) -> None:
        self.on_box, self.bottom_up = on_box, bottom_up
        self.calls: list[np.ndarray | None] = []

    def estimate(self, image, boxes=None):
        self.calls.append(boxes)
        if boxes is None:
            return [Person2D(BODY, self.bottom_up, BOX, 0.27, COCO17, "p1")]
        return [Person2D(BODY + 1.0, self.on_box, boxes[0] + 5.0, 0.9, COCO17) for _ in boxes]


@pytest.fixture(scope="module")
def lifter():
    return load_lifter_runtime(None, "onnxruntime-cpu", "auto")


def test_a_face_found_bottom_up_is_lifted_when_the_look_at_its_box_finds_the_body(lifter):
    stage = TwoLooks(np.full(17, 0.8))
    result = Pose3DEstimator(stage, lifter).process(IMAGE, CAMERA)
    (person,) = result.people
    assert result.skipped_people == [] and person.valid.all()
    np.testing.assert_array_equal(stage.calls[1], BOX[None])  # the look is at the person's own box
    assert (person.box.tolist(), person.score, person.id) == (BOX.tolist(), 0.27, "p1")  # kept from the first
    assert person.keypoints_2d[0] == pytest.approx((BODY[11] + BODY[12]) / 2 + 1.0)  # pelvis from the look
    off = Pose3DEstimator(TwoLooks(np.full(17, 0.8)), lifter, CascadeConfig(second_look=False)).process(IMAGE, CAMERA)
    assert off.people == [] and off.head_only and len(off.head_only) == 1


def test_a_look_that_finds_no_more_leaves_the_person_skipped_with_its_head(lifter):
    stage = TwoLooks(FACE_ONLY)
    result = Pose3DEstimator(stage, lifter).process(IMAGE, CAMERA)
    assert result.people == [] and dict(result.skipped) == {"fewer than 5 observed joints": 1}
    assert len(stage.calls) == 2 and result.head_only[0].id == "p1"


def test_no_second_look_in_top_down_mode_or_for_people_who_pass(lifter):
    stage = TwoLooks(np.full(17, 0.8))
    Pose3DEstimator(stage, lifter).process(IMAGE, CAMERA, boxes=BOX[None])
    assert len(stage.calls) == 1  # the boxes' people came from crops already
    whole = TwoLooks(np.full(17, 0.8), bottom_up=np.full(17, 0.8))
    assert len(Pose3DEstimator(whole, lifter).process(IMAGE, CAMERA).people) == 1 and len(whole.calls) == 1
