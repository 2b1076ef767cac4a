"""COCO-17 -> H36M-17 conversion on hand-made points, scores and validity flags."""
import numpy as np
import pytest

from poselifter_core.pose2d.base import Person2D
from poselifter_core.pose2d.layout import HEAD_RATIO, LayoutConversion, coco17_to_h36m17, fit_head_ratio, to_h36m17
from poselifter_core.skeleton import COCO17, H36M17

# A hand-made frontal person (image x right, y down; the person's left is on image right).
COCO_POINTS = {
    "nose": (100, 40), "left_eye": (105, 35), "right_eye": (95, 35), "left_ear": (110, 40),
    "right_ear": (90, 40), "left_shoulder": (130, 80), "right_shoulder": (70, 80),
    "left_elbow": (140, 120), "right_elbow": (60, 120), "left_wrist": (145, 160),
    "right_wrist": (55, 160), "left_hip": (120, 160), "right_hip": (80, 160),
    "left_knee": (122, 220), "right_knee": (78, 220), "left_ankle": (124, 280),
    "right_ankle": (76, 280),
}


def coco_person(scores=None):
    keypoints = np.array([COCO_POINTS[name] for name in COCO17.joint_names], dtype=np.float64)
    scores = np.full(17, 0.9) if scores is None else scores
    return keypoints, scores


def h(name):
    return H36M17.index(name)


def test_hand_made_points():
    keypoints, scores = coco_person()
    scores[COCO17.index("left_hip")] = 0.6
    scores[COCO17.index("right_shoulder")] = 0.5
    out, out_scores, valid = coco17_to_h36m17(keypoints, scores)
    expected = {
        "Hip": (100, 160), "RHip": (80, 160), "LHip": (120, 160), "RKnee": (78, 220), "LFoot": (124, 280),
        "Thorax": (100, 80), "Spine": (100, 120), "Neck/Nose": (100, 40),
        # Head = Neck/Nose + 0.85 * (Neck/Nose - Thorax) = (100, 40 - 34)
        "Head": (100, 6), "LShoulder": (130, 80), "RShoulder": (70, 80), "LWrist": (145, 160), "RElbow": (60, 120),
    }
    for name, point in expected.items():
        assert out[h(name)] == pytest.approx(point), name
    # Derived joints take the worst of their sources.
    assert out_scores[h("Hip")] == pytest.approx(0.6)
    assert out_scores[h("Thorax")] == pytest.approx(0.5)
    assert out_scores[h("Spine")] == pytest.approx(0.5)
    assert out_scores[h("Head")] == pytest.approx(0.5)
    assert out_scores[h("LHip")] == pytest.approx(0.6) and out_scores[h("RHip")] == pytest.approx(0.9)
    assert valid.all()


def test_low_scores_are_flagged_not_hidden():
    keypoints, scores = coco_person()
    scores[COCO17.index("left_knee")] = 0.1
    scores[COCO17.index("left_hip")] = 0.2
    out, out_scores, valid = coco17_to_h36m17(keypoints, scores, LayoutConversion(min_score=0.3))
    invalid = {H36M17.joint_names[i] for i in np.flatnonzero(~valid)}
    assert invalid == {"LKnee", "LHip", "Hip", "Spine"}
    nan_keypoints = keypoints.copy()
    nan_keypoints[COCO17.index("right_wrist")] = np.nan
    _, _, valid = coco17_to_h36m17(nan_keypoints, np.full(17, 0.9))
    assert not valid[h("RWrist")] and valid.sum() == 16


def test_one_ear_hidden_uses_the_other():
    keypoints, scores = coco_person()
    scores[COCO17.index("right_ear")] = 0.05  # profile view: right ear hidden
    scores[COCO17.index("left_ear")] = 0.7
    out, out_scores, valid = coco17_to_h36m17(keypoints, scores)
    assert out[h("Neck/Nose")] == pytest.approx((110, 40))
    assert out_scores[h("Neck/Nose")] == pytest.approx(0.7) and valid[h("Neck/Nose")]


def test_hip_width_scale_and_batches():
    keypoints, scores = coco_person()
    batch = np.stack([keypoints, keypoints + 10])
    out, out_scores, valid = coco17_to_h36m17(batch, np.stack([scores, scores]), LayoutConversion(hip_width_scale=0.5))
    assert out.shape == (2, 17, 2) and out_scores.shape == valid.shape == (2, 17)
    assert out[0, h("LHip")] == pytest.approx((110, 160)) and out[1, h("RHip")] == pytest.approx((100, 170))


def test_person_conversion_and_errors():
    keypoints, scores = coco_person()
    person = Person2D(keypoints, scores, np.array([50, 0, 150, 290]), 0.8, COCO17)
    converted, valid = to_h36m17(person)
    assert converted.skeleton == H36M17 and converted.score == 0.8 and valid.all()
    same, _ = to_h36m17(converted)
    assert same is converted
    with pytest.raises(ValueError, match="17"):
        coco17_to_h36m17(np.zeros((16, 2)), np.zeros(16))
    with pytest.raises(ValueError, match="min_score"):
        LayoutConversion(min_score=2.0)


def _formulas(keypoints: np.ndarray, scores: np.ndarray, settings: LayoutConversion) -> tuple[np.ndarray, np.ndarray]:
    """The module docstring's table, joint by joint, for one person (the reference)."""
    def c(name: str) -> tuple[np.ndarray, float]:
        return keypoints[COCO17.index(name)], scores[COCO17.index(name)]

    out, out_scores = np.empty((17, 2)), np.empty(17)
    for h36m, coco in {"RHip": "right_hip", "RKnee": "right_knee", "RFoot": "right_ankle", "LHip": "left_hip",
                       "LKnee": "left_knee", "LFoot": "left_ankle", "LShoulder": "left_shoulder",
                       "LElbow": "left_elbow", "LWrist": "left_wrist", "RShoulder": "right_shoulder",
                       "RElbow": "right_elbow", "RWrist": "right_wrist"}.items():
        out[h(h36m)], out_scores[h(h36m)] = c(coco)
    (lhip, lhip_s), (rhip, rhip_s) = c("left_hip"), c("right_hip")
    pelvis = (lhip + rhip) / 2
    out[h("Hip")], out_scores[h("Hip")] = pelvis, np.minimum(lhip_s, rhip_s)
    if settings.hip_width_scale != 1.0:
        out[h("LHip")] = pelvis + settings.hip_width_scale * (lhip - pelvis)
        out[h("RHip")] = pelvis + settings.hip_width_scale * (rhip - pelvis)
    (lsh, lsh_s), (rsh, rsh_s) = c("left_shoulder"), c("right_shoulder")
    thorax, thorax_s = (lsh + rsh) / 2, np.minimum(lsh_s, rsh_s)
    out[h("Thorax")], out_scores[h("Thorax")] = thorax, thorax_s
    out[h("Spine")], out_scores[h("Spine")] = (pelvis + thorax) / 2, np.minimum(out_scores[h("Hip")], thorax_s)
    (lear, lear_s), (rear, rear_s) = c("left_ear"), c("right_ear")
    if np.minimum(lear_s, rear_s) >= settings.min_score:
        neck, neck_s = (lear + rear) / 2, min(lear_s, rear_s)
    else:  # the better ear; a NaN score is never better, and makes the neck's score NaN
        neck, neck_s = (lear if lear_s >= rear_s else rear), np.maximum(lear_s, rear_s)
    out[h("Neck/Nose")], out_scores[h("Neck/Nose")] = neck, neck_s
    out[h("Head")] = neck + settings.head_ratio * (neck - thorax)
    out_scores[h("Head")] = np.minimum(neck_s, thorax_s)
    return out, out_scores


def test_the_conversion_table_is_the_documented_formulas():
    """The lookup-table conversion gives the formulas' scores and masks exactly, and their points to
    float64 rounding (a weighted sum adds in another order), NaN and inf where they give them."""
    rng = np.random.default_rng(3)
    for settings in (LayoutConversion(), LayoutConversion(0.5, 0.0, 0.7), LayoutConversion(0.0, 1.3, 1.2)):
        keypoints = rng.uniform(-50, 1500, (300, 17, 2))
        scores = rng.uniform(0, 1, (300, 17))
        keypoints[rng.random((300, 17)) < 0.15] = np.nan
        scores[rng.random((300, 17)) < 0.1] = np.nan
        scores[::7, COCO17.index("right_ear")] = scores[::7, COCO17.index("left_ear")]  # ties
        with np.errstate(invalid="ignore"):
            out, out_scores, valid = coco17_to_h36m17(keypoints, scores, settings)
            for k in range(len(keypoints)):
                points, joint_scores = _formulas(keypoints[k], scores[k], settings)
                np.testing.assert_array_equal(out_scores[k], joint_scores)
                np.testing.assert_array_equal(valid[k], (joint_scores >= settings.min_score)
                                              & np.isfinite(points).all(axis=1))
                np.testing.assert_allclose(out[k], points, rtol=1e-14, atol=1e-12)  # NaN where NaN


def test_fit_head_ratio_is_the_rules_least_squares_ratio():
    """fit_head_ratio recovers the ratio a crown was placed with, counts an off-line crown only along
    the neck's line (so it is below the length ratio), weighs far and near poses alike and skips
    poses without the three joints."""
    rng = np.random.default_rng(5)
    poses = rng.normal(0, 300, (50, 17, 3))
    neck, thorax = poses[:, h("Neck/Nose")], poses[:, h("Thorax")]
    poses[:, h("Head")] = neck + 0.71 * (neck - thorax)
    assert fit_head_ratio(poses) == pytest.approx(0.71)
    assert fit_head_ratio(poses[..., :2]) == pytest.approx(0.71)  # a projection keeps a ratio along a line
    line = neck - thorax
    side = np.cross(line, rng.normal(size=line.shape))
    side *= 0.4 * np.linalg.norm(line, axis=-1, keepdims=True) / np.linalg.norm(side, axis=-1, keepdims=True)
    tilted = poses.copy()
    tilted[:, h("Head")] += side  # off the line: same component along it, longer
    assert fit_head_ratio(tilted) == pytest.approx(0.71)
    lengths = np.linalg.norm(tilted[:, h("Head")] - neck, axis=-1) / np.linalg.norm(line, axis=-1)
    assert lengths.mean() > 0.8
    # Scale per pose: one pose 1000x larger does not outweigh the rest.
    mixed = poses.copy()
    mixed[:, h("Head")] = neck + 0.9 * (neck - thorax)
    mixed[1:, h("Head")] = poses[1:, h("Head")]
    mixed[0] *= 1000.0
    assert fit_head_ratio(mixed) == pytest.approx(0.71, abs=0.01)
    broken = poses.copy()
    broken[:10, h("Head")] = np.nan
    broken[10:20, h("Thorax")] = broken[10:20, h("Neck/Nose")]
    assert fit_head_ratio(broken) == pytest.approx(0.71)
    with pytest.raises(ValueError, match="no pose"):
        fit_head_ratio(broken[:20])


def test_the_head_ratio_default_has_one_source():
    from poselifter_core.cascade import CascadeConfig

    assert LayoutConversion().head_ratio == HEAD_RATIO == CascadeConfig().head_ratio
