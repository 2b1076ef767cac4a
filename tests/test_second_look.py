"""The cascade's second look: in bottom-up mode a person with too few observed joints gets the 2D
stage's top-down look at its box, and is lifted when that finds enough joints; a look the 2D stage
fails on leaves the person as it was, the looks per frame are bounded, and their time is the 2D
stage's."""
import time
from collections import Counter

import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeConfig, Pose3DEstimator
from poselifter_core.cli import main
from poselifter_core.infer import load_lifter_runtime, result_to_dict
from poselifter_core.pose2d.base import Person2D, Pose2DEstimator
from poselifter_core.pose2d.movenet import MoveNet
from poselifter_core.runtime import BackendError
from poselifter_core.skeleton import COCO17, H36M17

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


TOO_FEW = "fewer than 5 observed joints"


class Scripted(Pose2DEstimator):
    """A 2D stage that finds ``people`` bottom-up and answers a box with ``on_box(boxes)``."""

    skeleton = COCO17

    def __init__(self, people: list[Person2D], on_box) -> None:
        self.people, self.on_box = people, on_box
        self.calls: list[np.ndarray] = []

    def estimate(self, image, boxes=None):
        if boxes is None:
            return self.people
        self.calls.append(boxes)
        return self.on_box(boxes)


def face(shift: float = 0.0, score: float = 0.27, box: np.ndarray = BOX, id: str = "p1") -> Person2D:
    """A person whose bottom-up look finds only the face, ``shift`` px to the right of BODY."""
    return Person2D(BODY + [shift, 0.0], FACE_ONLY, box + [shift, 0.0, shift, 0.0], score, COCO17, id)


def body_in(boxes: np.ndarray) -> list[Person2D]:
    """The whole body found in each box (BODY moved with the box)."""
    return [Person2D(BODY + box[:2] - BOX[:2], np.full(17, 0.8), box, 0.9, COCO17) for box in boxes]


WHOLE = Person2D(BODY - [200.0, 0.0], np.full(17, 0.8), BOX - [200.0, 0.0, 200.0, 0.0], 0.6, COCO17, "whole")


@pytest.fixture(scope="module")
def movenet():
    return MoveNet(backend="onnxruntime-cpu")


def assert_kept_the_first_look(result) -> None:
    """The frame's whole person lifted, the face-only one skipped as without a look, head located."""
    assert [p.id for p in result.people] == ["whole"]
    (skipped,) = result.skipped_people
    assert (skipped.id, skipped.reason) == ("p1", TOO_FEW) and skipped.head is not None
    assert result.second_looks == Counter(run=1, failed=1)
    assert result_to_dict(result)["second_looks"] == {"run": 1, "failed": 1}


BAD_BOXES = {"NaN": [np.nan, 125.0, 350.0, 330.0], "inf": [290.0, 125.0, np.inf, 330.0],
             "zero area": [290.0, 125.0, 290.0, 330.0], "inverted": [350.0, 330.0, 290.0, 125.0],
             "outside the image": [700.0, 125.0, 760.0, 330.0]}


@pytest.mark.parametrize("box", BAD_BOXES.values(), ids=list(BAD_BOXES))
def test_a_box_movenet_refuses_leaves_the_person_with_its_first_look_and_is_counted(lifter, movenet, box):
    box = np.array(box)
    with pytest.raises(ValueError, match="box 0"):  # what the shipped 2D stage does with such a box
        movenet.estimate(IMAGE, box[None])
    stage = Scripted([WHOLE, face(box=box)], lambda boxes: movenet.estimate(IMAGE, boxes))
    assert_kept_the_first_look(Pose3DEstimator(stage, lifter).process(IMAGE, CAMERA))


def _fails(boxes):
    raise BackendError("the network failed")  # what a backend raises for a run it fails on (ONNX Runtime's wrapped)


FAILING_LOOKS = {"no person": lambda boxes: [], "two people": lambda boxes: body_in(boxes) * 2,
                 "an error": _fails, "not a list": lambda boxes: None,
                 "another layout": lambda boxes: [Person2D(BODY, np.ones(17), boxes[0], 0.9, H36M17)],
                 "keypoints off any view": lambda boxes: [Person2D(BODY * 1e30, np.ones(17), boxes[0], 0.9, COCO17)],
                 "all at one pixel": lambda boxes: [Person2D(BODY * 0 + 300, np.ones(17), boxes[0], 0.9, COCO17)]}


@pytest.mark.parametrize("on_box", FAILING_LOOKS.values(), ids=list(FAILING_LOOKS))
def test_a_look_the_2d_stage_fails_on_leaves_the_person_with_its_first_look(lifter, on_box):
    assert_kept_the_first_look(Pose3DEstimator(Scripted([WHOLE, face()], on_box), lifter).process(IMAGE, CAMERA))


@pytest.mark.parametrize("error", [TypeError("bad operand"), AttributeError("no .box"), KeyError("joint"),
                                   IndexError("index 17"), NotImplementedError("crop"), ZeroDivisionError()],
                         ids=lambda error: type(error).__name__)
def test_a_bug_in_the_2d_stage_s_look_is_raised_not_counted_as_a_failed_look(lifter, error):
    """Every exception was a failed look (a bug in a 2D stage looked like crops it could not read);
    only what a 2D stage raises for a box it cannot look at is (LOOK_ERRORS)."""
    def buggy(boxes):
        raise error

    with pytest.raises(type(error)):
        Pose3DEstimator(Scripted([WHOLE, face()], buggy), lifter).process(IMAGE, CAMERA)


def test_second_looks_are_bounded_per_frame_best_scored_first(lifter):
    scores = {"a": 0.3, "b": 0.5, "c": 0.25, "d": 0.4}
    people = [face(150.0 * i - 200.0, score, id=id) for i, (id, score) in enumerate(scores.items())]
    assert CascadeConfig().max_second_looks == 2
    stage = Scripted(people, body_in)
    result = Pose3DEstimator(stage, lifter).process(IMAGE, CAMERA)
    assert [call[0].tolist() for call in stage.calls] == [people[1].box.tolist(), people[3].box.tolist()]
    assert sorted(p.id for p in result.people) == ["b", "d"]
    assert [(p.id, p.reason, p.head is not None) for p in result.skipped_people] == [("a", TOO_FEW, True),
                                                                                     ("c", TOO_FEW, True)]
    assert result.second_looks == Counter(run=2, passed=2, over_limit=2)
    every = Pose3DEstimator(Scripted(people, body_in), lifter, CascadeConfig(max_second_looks=4)).process(IMAGE, CAMERA)
    assert len(every.people) == 4 and every.second_looks == Counter(run=4, passed=4)
    none = Pose3DEstimator(Scripted(people, body_in), lifter, CascadeConfig(max_second_looks=0)).process(IMAGE, CAMERA)
    assert none.people == [] and len(none.head_only) == 4 and none.second_looks == Counter(over_limit=4)


def test_infer_takes_the_bound(tmp_path, monkeypatch):
    import poselifter_core.cli.infer as infer_cli

    configs = []
    monkeypatch.setattr(infer_cli, "build_cascade", lambda lifter, pose2d, config, backend: configs.append(config))
    monkeypatch.setattr(infer_cli, "run", lambda *args, **kwargs: tmp_path / "out" / "results.json")
    monkeypatch.setattr(infer_cli, "run_record", lambda *args, **kwargs: {})  # no cascade loaded to record
    (tmp_path / "a.png").write_bytes(b"")
    assert main(["infer", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--max-second-looks", "1"]) == 0
    assert configs[0].max_second_looks == 1


def test_the_second_looks_time_is_the_2d_stages_not_the_lifts(lifter):
    look_s = 0.3

    def slow(boxes):
        time.sleep(look_s)
        return body_in(boxes)

    started = time.perf_counter()
    result = Pose3DEstimator(Scripted([face()], slow), lifter).process(IMAGE, CAMERA)
    wall_ms = 1000 * (time.perf_counter() - started)
    assert len(result.people) == 1 and result.second_looks == Counter(run=1, passed=1)
    assert result.timings_ms["pose2d"] >= 1000 * look_s > 2 * result.timings_ms["lift"] > 0
    assert result.timings_ms["pose2d"] + result.timings_ms["lift"] <= wall_ms
