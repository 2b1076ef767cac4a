"""One person reported twice by the bottom-up 2D stage is dropped by keypoint similarity;
different people, also overlapping ones, are kept (poselifter_core/pose2d/duplicates.py)."""
import numpy as np
from skimage.data import astronaut

from poselifter_core.benchmark.pose2d_latency import tiled_frame
from poselifter_core.pose2d.base import Person2D
from poselifter_core.pose2d.duplicates import drop_duplicates, keypoint_similarity
from poselifter_core.pose2d.movenet import MoveNet
from poselifter_core.skeleton import COCO17

# A standing person about 200 px tall (COCO-17 order), x, y pixels.
BODY = np.array([[50, 20], [54, 16], [46, 16], [58, 18], [42, 18], [65, 45], [35, 45], [70, 80], [30, 80],
                 [72, 110], [28, 110], [60, 115], [40, 115], [60, 160], [40, 160], [60, 205], [40, 205]], float)


def detection(shift=(0.0, 0.0), score=0.5, scores=0.8, box_pad=0.0, jitter=0.0, seed=0) -> Person2D:
    keypoints = BODY + shift + np.random.default_rng(seed).normal(0, jitter, BODY.shape) if jitter else BODY + shift
    box = np.array([25 - box_pad, 10 - box_pad, 75 + box_pad, 210 + box_pad]) + np.tile(shift, 2)
    return Person2D(keypoints, np.broadcast_to(scores, (17,)), box, score, COCO17)


def test_the_same_person_twice_is_one_and_the_better_scored_is_kept():
    first = detection(score=0.28)
    # the same keypoints within 2 px, a much larger box (IoU 0.35), unsure legs that disagree
    scores = np.full(17, 0.8)
    scores[11:] = 0.05
    second = detection(score=0.21, box_pad=30.0, jitter=2.0, scores=scores)
    second.keypoints[11:] += 60.0
    assert keypoint_similarity(first, second) > 0.9
    assert drop_duplicates([first, second]) == [first]


def test_different_people_are_kept_even_when_they_overlap():
    people = [detection(score=0.6), detection((25.0, 5.0), score=0.5), detection((120.0, 0.0), score=0.4)]
    assert keypoint_similarity(people[0], people[1]) < 0.3  # half a body width apart, boxes overlapping
    assert drop_duplicates(people) == people
    no_scores = detection(scores=0.0)
    assert keypoint_similarity(people[0], no_scores) == 0.0


def test_movenet_applies_the_threshold_to_its_bottom_up_people():
    frame = tiled_frame(astronaut(), 3)  # three people side by side
    assert len(MoveNet().estimate(frame)) == 3
    # a threshold below any similarity makes everyone a duplicate of the best scored
    assert len(MoveNet(duplicate_oks=-1.0).estimate(frame)) == 1
