"""MoveNet's second bottom-up pass at another input size (``cascade.pose2d_extra_size``): a person
only one size finds is in the merged output, a person both find is there once
(poselifter_core/pose2d/duplicates.py merge_passes), and the setting is checked and documented."""
import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from poselifter_core.cascade import CascadeConfig, Pose3DEstimator
from poselifter_core.cli.benchmark import pose2d_sizes
from poselifter_core.pose2d.base import Person2D
from poselifter_core.pose2d.duplicates import MERGE_JOINT_PX, box_iou, joint_distance, joints_explained, merge_passes
from poselifter_core.pose2d.movenet import MoveNet
from poselifter_core.settings import SettingError, check_settings, setting_specs
from poselifter_core.skeleton import COCO17

# A standing person about 200 px tall (COCO-17 order), x, y pixels (as in test_pose2d_duplicates.py).
BODY = np.array([[50, 20], [54, 16], [46, 16], [58, 18], [42, 18], [65, 45], [35, 45], [70, 80], [30, 80],
                 [72, 110], [28, 110], [60, 115], [40, 115], [60, 160], [40, 160], [60, 205], [40, 205]], float)


def person(shift=0.0, score=0.5, jitter=0.0, seed=0) -> Person2D:
    keypoints = BODY + [shift, 0.0] + np.random.default_rng(seed).normal(0, jitter, BODY.shape)
    return Person2D(keypoints, np.full(17, 0.8), np.array([25 + shift, 10, 75 + shift, 210]), score, COCO17)


@pytest.fixture(scope="module")
def nets():
    return {size: MoveNet(long_side=size, backend="onnxruntime-cpu") for size in (256, 512)}


def portrait_and_cameraman() -> np.ndarray:
    """scikit-image's astronaut (a close, large person) beside its cameraman shrunk to 160 px (a
    small one): at 256 px MoveNet finds only her, at 512 px both (her with another box)."""
    canvas = np.full((512, 768, 3), 127, dtype=np.uint8)
    canvas[:, :512] = skimage_data.astronaut()
    small = Image.fromarray(skimage_data.camera()).convert("RGB").resize((160, 160), Image.Resampling.BILINEAR)
    canvas[100:260, 520:680] = np.asarray(small)
    return canvas


def test_a_person_only_one_size_finds_is_merged_in_and_one_both_find_is_there_once(nets):
    frame = portrait_and_cameraman()
    at_256, at_512 = nets[256].estimate(frame), nets[512].estimate(frame)
    assert len(at_256) == 1 and at_256[0].box[2] < 512  # the astronaut only
    assert len(at_512) == 2 and sorted(p.box[0] > 512 for p in at_512) == [False, True]  # and the cameraman
    merged = MoveNet(long_side=256, extra_long_side=512, backend="onnxruntime-cpu").estimate(frame)
    assert len(merged) == 2  # not 3: the astronaut, whom both sizes find, once
    astronaut, cameraman = sorted(merged, key=lambda p: p.box[0])
    assert astronaut.box.tolist() == at_256[0].box.tolist()  # her better-scored 256 px detection
    assert cameraman.box[0] > 512
    assert [p.score for p in merged] == sorted((p.score for p in merged), reverse=True)


def test_the_large_close_person_only_256_finds_survives_a_second_pass_at_512(nets):
    photo = skimage_data.astronaut()
    assert nets[512].estimate(photo) == [] and len(nets[256].estimate(photo)) == 1
    for first, extra in ((256, 512), (512, 256)):
        (found,) = MoveNet(long_side=first, extra_long_side=extra, backend="onnxruntime-cpu").estimate(photo)
        assert found.box.tolist() == nets[256].estimate(photo)[0].box.tolist()


def test_the_cascade_lifts_the_merged_people_and_looks_again_at_them():
    from poselifter_core.infer import load_lifter_runtime

    frame = portrait_and_cameraman()
    estimator = MoveNet(long_side=256, extra_long_side=512, backend="onnxruntime-cpu")
    lifter = load_lifter_runtime(backend="onnxruntime-cpu")
    result = Pose3DEstimator(estimator, lifter).process(frame)
    assert sorted(p.box[0] > 512 for p in result.people) == [False, True]  # both lifted
    assert result.timings_ms["pose2d"] > 0
    # a rule nobody passes: both merged people, the cameraman only the 512 px pass found too, get a second look
    strict = Pose3DEstimator(estimator, lifter, CascadeConfig(min_valid_joints=17)).process(frame)
    assert strict.second_looks["run"] == 2
    assert sorted(p.box[0] > 512 for p in strict.skipped_people) == [False, True]


def test_merge_takes_overlapping_boxes_across_passes_as_one_but_each_kept_person_stands_for_one():
    first = person(score=0.3, jitter=6.0, seed=1)  # a coarse pass: keypoints a few pixels off
    second = person(score=0.4)
    assert merge_passes([[first], [second]], max_oks=2.0) == [second]  # by the boxes alone (IoU 1)
    neighbour = person(shift=20.0, score=0.35)  # a second person whose box overlaps the first's (IoU 0.43)
    kept = merge_passes([[first], [second, neighbour]], max_oks=2.0)
    assert kept == [second, neighbour]  # the first pass's person is the better overlapping one's duplicate
    apart = person(shift=120.0, score=0.25)
    assert merge_passes([[first, apart], [second]]) == [second, apart]
    # one box of the first pass over two people of the second does not swallow both
    wide = Person2D(BODY + [10.0, 0.0], np.full(17, 0.8), np.array([25, 10, 95, 210]), 0.5, COCO17)
    assert merge_passes([[wide], [second, neighbour]], max_oks=2.0) == [wide, neighbour]
    # within one pass, overlapping boxes are different people (MoveNet's own suppression)
    assert merge_passes([[second, neighbour]], max_oks=2.0) == [second, neighbour]


def test_the_setting_is_checked_named_and_a_node_parameter():
    spec = {s.name: s for s in setting_specs(CascadeConfig, "cascade.")}["cascade.pose2d_extra_size"]
    assert (spec.default, spec.live, spec.step) == (0, False, 32)
    for value, message in ((100, "cascade.pose2d_extra_size must be a multiple of 32, got 100"),
                           (-32, "cascade.pose2d_extra_size must be in [0, 2048], got -32")):
        with pytest.raises(SettingError, match=message.replace("[", r"\[").replace("]", r"\]")):
            check_settings(CascadeConfig(pose2d_extra_size=value), "cascade.")
    check_settings(CascadeConfig(pose2d_extra_size=384), "cascade.")
    with pytest.raises(ValueError, match="multiples of 32"):
        MoveNet(extra_long_side=100)
    assert pose2d_sizes("256+384") == (256, 384) and pose2d_sizes("384") == (384, 0)
    with pytest.raises(Exception, match="PX or PX"):
        pose2d_sizes("256+")


def test_a_second_pass_at_the_first_ones_size_is_refused_by_the_settings_themselves():
    """--pose2d-extra-size 256 with --pose2d-size 256 runs the same pass twice (the same people,
    twice the cost). infer refused it while bag and the node ran one pass with a warning; now the
    settings refuse it (CascadeConfig), so every front end says the same: infer naming its option,
    bag and the node the setting (tests/test_bag.py, tests/ros_node)."""
    from poselifter_core.cli import build_parser
    from poselifter_core.cli.infer import cascade_config
    from poselifter_core.config import from_dict

    def infer_args(*argv: str):
        return build_parser("infer").parse_args(["infer", "image.png", *argv])

    same = r"cascade.pose2d_extra_size 256 is cascade.pose2d_size: a second bottom-up pass at the same size"
    with pytest.raises(SettingError, match="^" + same) as refused:
        CascadeConfig(pose2d_extra_size=256)
    assert refused.value.name == "cascade.pose2d_extra_size"
    with pytest.raises(ValueError, match=r"^cascade.pose2d_extra_size 384 is cascade.pose2d_size"):
        from_dict(CascadeConfig, {"pose2d_size": 384, "pose2d_extra_size": 384})  # a YAML, bag's --set, the node
    with pytest.raises(ValueError, match="^--pose2d-extra-size: " + same):
        cascade_config(infer_args("--pose2d-extra-size", "256"))
    assert cascade_config(infer_args("--pose2d-size", "384", "--pose2d-extra-size", "256")).pose2d_extra_size == 256
    assert CascadeConfig(pose2d_size=256, pose2d_extra_size=0).pose2d_extra_size == 0  # 0: no second pass



def test_overlapping_boxes_of_different_people_are_kept_apart_when_their_joints_disagree():
    """One walking behind the other: boxes at IoU 0.54, each person found by one pass only. The
    boxes alone take them as one and lose a person; their joints are 30 px apart, more than
    MERGE_JOINT_PX pixels of a 256 px pass over a 640 px image (2.5 image px each)."""
    big = BODY * 2  # 400 px tall, box 100 px wide
    front = Person2D(big, np.full(17, 0.8), np.array([50, 20, 150, 420.0]), 0.5, COCO17)
    behind = Person2D(big + [30, -4], np.full(17, 0.6), np.array([80, 16, 180, 416.0]), 0.3, COCO17)
    assert 0.5 < box_iou(front.box[None], behind.box)[0] < 0.6
    assert joint_distance(front, behind) > MERGE_JOINT_PX * 2.5
    assert merge_passes([[behind], [front]]) == [front]  # the boxes alone: one person lost
    assert merge_passes([[behind], [front]], input_pixel=2.5) == [front, behind]
    # a coarser pass (5 image px per input px) cannot tell them apart: merged as before
    assert merge_passes([[behind], [front]], input_pixel=5.0) == [front]


def test_the_same_person_with_a_two_size_passs_jitter_is_still_merged():
    """The coarse pass's joints a few of its input pixels off (sd 2.5 px, 3 image px each on a
    768 px frame at 256), two joints it did not see, and a box of another size: one person."""
    fine = person(score=0.5)
    jitter = np.random.default_rng(5).normal(0, 2.5 * 3.0, BODY.shape)  # median 2.9 input px (vtest: 2.0)
    scores = np.full(17, 0.8)
    scores[[9, 10]] = 0.1
    coarse = Person2D(BODY + jitter, scores, np.array([20, 5, 82, 214.0]), 0.4, COCO17)
    assert joint_distance(fine, coarse) < MERGE_JOINT_PX * 3.0 < joint_distance(fine, person(shift=30.0))
    # max_oks 2: by the boxes and joints alone (its OKS, with COCO's tolerance for a 200 px person, is high too)
    assert merge_passes([[coarse], [fine]], max_oks=2.0, input_pixel=3.0) == [fine]
    assert merge_passes([[fine], [coarse]], max_oks=2.0, input_pixel=3.0) == [fine]
    # too few joints scored in both to judge: the boxes decide alone
    blind = Person2D(BODY + [30, 0], np.r_[np.full(2, 0.8), np.zeros(15)], fine.box + [5, 0, 5, 0], 0.4, COCO17)
    assert np.isnan(joint_distance(fine, blind))
    assert merge_passes([[blind], [fine]], max_oks=2.0, input_pixel=3.0) == [fine]


def test_movenet_merges_with_the_coarser_passs_input_pixel(monkeypatch):
    import poselifter_core.pose2d.movenet as movenet

    seen = []

    def spy(passes, max_oks, **kwargs):
        seen.append(kwargs["input_pixel"])
        return merge_passes(passes, max_oks, **kwargs)

    monkeypatch.setattr(movenet, "merge_passes", spy)
    frame = portrait_and_cameraman()  # 768 px wide
    for first, extra in ((256, 512), (512, 256)):
        assert len(MoveNet(long_side=first, extra_long_side=extra, backend="onnxruntime-cpu").estimate(frame)) == 2
    assert seen == [768 / 256, 768 / 256]


def test_a_coarse_skeleton_joining_two_people_is_dropped_when_the_other_pass_found_both():
    """vtest.avi #792 at 256+512: the 256 px pass's one box over a man walking behind another, its
    head on the back one and its legs on the front one, agrees with neither alone; the 512 px pass
    found both, so it is a blend of them (dropped). With only the front one found, it stays and
    stands for the one behind."""
    big = BODY * 2
    front = Person2D(big, np.full(17, 0.8), np.array([50, 20, 150, 420.0]), 0.5, COCO17)
    behind = Person2D(big + [60, -40], np.full(17, 0.7), np.array([110, -20, 210, 380.0]), 0.45, COCO17)
    joined_joints = np.where(np.arange(17)[:, None] < 8, behind.keypoints, front.keypoints)
    joined_joints[11] = (front.keypoints[11] + behind.keypoints[11]) / 2  # one joint between them
    joined = Person2D(joined_joints, np.full(17, 0.8), np.array([50, -20, 210, 420.0]), 0.6, COCO17)
    for other in (front, behind):
        assert box_iou(joined.box[None], other.box)[0] >= 0.4
        assert joint_distance(joined, other) > MERGE_JOINT_PX * 2.5  # neither alone
    assert joints_explained(joined, [front, behind]) < MERGE_JOINT_PX * 2.5  # both together
    assert merge_passes([[joined], [front, behind]], input_pixel=2.5) == [front, behind]
    assert merge_passes([[joined], [front]], input_pixel=2.5) == [joined, front]
    # two different people each found by one pass, a third of that pass beside them: not a blend
    beside = Person2D(big + [300, 0], np.full(17, 0.7), np.array([350, 20, 450, 420.0]), 0.45, COCO17)
    shifted = Person2D(big + [30, -4], np.full(17, 0.6), np.array([80, 16, 180, 416.0]), 0.3, COCO17)
    assert merge_passes([[shifted], [front, beside]], input_pixel=2.5) == [front, beside, shifted]
    # a person of a pass whose joints one person of the other pass covers, who already stands for
    # its pass's better-scored one: two people side by side, not a blend
    taken = person(score=0.7)
    first, second = person(score=0.6, jitter=1.0, seed=2), person(shift=10.0, score=0.5)
    assert joint_distance(second, taken) < MERGE_JOINT_PX * 2.5
    assert merge_passes([[first, second], [taken]], input_pixel=2.5) == [taken, second]
