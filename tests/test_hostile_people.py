"""The soak's hostile external 2D people (face-only, NaN / infinite faces, faces at the corners,
tiny and huge faces, duplicates) through the node's keypoints parsing and the cascade: every
output depth finite and plausible, head-only intervals included; and the check finds bad ones."""
import warnings
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from poselifter_core.benchmark.hostile_people import KINDS, as_people, hostile_frame, output_problems
from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import Pose3DEstimator
from poselifter_core.head_location import HeadLocation
from poselifter_core.infer import load_lifter_runtime

CAMERA = Intrinsics(600.0, 600.0, 319.5, 239.5)


@pytest.fixture(scope="module")
def cascade():
    return Pose3DEstimator(None, load_lifter_runtime(None, "onnxruntime-cpu", "auto"))


def test_hostile_frames_give_only_finite_plausible_depths(cascade):
    rng = np.random.default_rng(7)
    kinds, dropped, skipped = Counter(), Counter(), Counter()
    lifted = heads = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy overflow or invalid value on the way
        for _ in range(300):
            raw = hostile_frame(rng)
            kinds.update(p.kind for p in raw)
            people, why = as_people(raw)
            dropped.update(why)
            result = cascade.lift_people(people, CAMERA, (640, 480))
            assert output_problems(result) == []
            skipped.update(result.skipped)
            lifted, heads = lifted + len(result.people), heads + len(result.head_only)
    assert set(kinds) == {"body", *KINDS} and kinds["body"] == 300
    assert {"keypoint coordinates not finite", "keypoint scores not finite or negative"} <= set(dropped)
    assert lifted >= 300 and heads > 100  # the bodies (and their duplicates), the readable faces
    assert skipped["fewer than 5 observed joints"] > heads  # tiny faces and huge ones are not located
    assert {"degenerate 2D pose", "2D joint outside any plausible view (implausible input)"} <= set(skipped)


def test_the_check_finds_non_finite_and_implausible_depths(cascade):
    body = next(p for p in as_people(hostile_frame(np.random.default_rng(1)))[0] if p.id == "body0")
    result = cascade.lift_people([body], CAMERA, (640, 480))
    (person,) = result.people
    assert output_problems(result) == []
    far = person.root_m * 100 / person.root_m[2]
    for bad in (replace(person, root_m=np.full(3, np.nan)), replace(person, root_m=far),
                replace(person, joints_m=person.joints_m * [1, 1, -1])):
        assert len(output_problems(replace(result, people=[bad]))) == 1
    face = next(p for p in as_people(hostile_frame(np.random.default_rng(1)))[0] if p.id == "body0")
    face.scores[5:] = 0.0
    located = cascade.lift_people([face], CAMERA, (640, 480))
    (skipped,) = located.head_only
    assert output_problems(located) == []
    head = skipped.head
    for bad in (replace(head, position_m=head.position_m * np.inf), replace(head, depth_range_m=(0.0, 2.0)),
                replace(head, position_m=head.position_m + [1e6, 0.0, 0.0]),  # a plausible depth, 1000 km aside
                replace(head, depth_range_m=(head.position_m[2] + 1, head.position_m[2] + 2)),
                replace(head, depth_log_std=float("nan"))):
        assert isinstance(bad, HeadLocation)
        assert len(output_problems(replace(located, skipped_people=[replace(skipped, head=bad)]))) == 1
