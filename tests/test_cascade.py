"""The image -> 3D cascade's lifting part on known answers, and its skip rules."""
from collections import Counter

import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeConfig, Pose3DEstimator
from poselifter_core.data.sources import DataSpec, load_pose_set
from poselifter_core.lifter.inference import TorchLifter
from poselifter_core.pose2d.base import Person2D, Pose2DEstimator
from poselifter_core.skeleton import H36M17
from poselifter_core.config import from_dict
from poselifter_core.train import TrainConfig, train


class FixedPeople(Pose2DEstimator):
    """A 2D stage that returns given people: isolates the cascade's own logic."""

    skeleton = H36M17

    def __init__(self, people: list[Person2D]) -> None:
        self.people = people

    def estimate(self, image, boxes=None):
        return self.people


@pytest.fixture(scope="module")
def trained(mocap_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("cascade_lifter")
    spec = {"kind": "mocap", "path": str(mocap_file), "views": 6,
            "rig": {"focal_px": [900.0, 1100.0], "distance_m": [3.0, 6.0]}}
    config = from_dict(TrainConfig, {
        "lifter": {"width": 256}, "train_data": {**spec, "subjects": ["s1", "s2", "s3"]},
        "optim": {"epochs": 12, "batch_size": 64}, "output_dir": str(out), "device": "cpu"})
    checkpoint = train(config, progress=False)
    test = load_pose_set(from_dict(DataSpec, {**spec, "views": 1, "seed": 555, "every": 8}))
    return TorchLifter.from_checkpoint(checkpoint), test, checkpoint


def person(keypoints: np.ndarray, scores: float | np.ndarray = 0.9, score: float = 0.8) -> Person2D:
    scores = np.broadcast_to(np.asarray(scores, dtype=float), (17,)).copy()
    return Person2D(keypoints, scores, np.array([0.0, 0.0, 10.0, 10.0]), score, H36M17)


def test_lifting_recovers_a_projected_known_pose(trained):
    lifter, test, _ = trained
    intr = Intrinsics(*test.intrinsics[0])
    cascade = Pose3DEstimator(FixedPeople([]), lifter)
    errors, root_errors = [], []
    for i in range(0, len(test), max(1, len(test) // 40)):
        intr = Intrinsics(*test.intrinsics[i])
        result = cascade.lift_people([person(test.keypoints_2d[i])], intr, (1280, 720))
        p = result.people[0]
        truth = test.joints_3d[i] / 1000.0
        errors.append(np.linalg.norm(p.relative_m - (truth - truth[0]), axis=1).mean())
        root_errors.append(np.linalg.norm(p.root_m - truth[0]) / truth[0, 2])
        assert np.allclose(p.joints_m, p.root_m + p.relative_m, atol=1e-5)
        # the root lies on the back-projection ray of its pixel (eq. 6)
        assert np.allclose(p.root_m[0] / p.root_m[2], (test.keypoints_2d[i, 0, 0] - intr.cx) / intr.fx, atol=1e-5)
    # tolerance stated: a small lifter trained on these synthetic clips recovers the relative pose to
    # under 80 mm and the absolute root to under 10 % of its depth, on average
    assert np.mean(errors) < 0.080, np.mean(errors)
    assert np.mean(root_errors) < 0.10, np.mean(root_errors)


def test_canonical_depth_makes_depth_scale_with_focal_length(trained):
    lifter, test, _ = trained
    cascade = Pose3DEstimator(FixedPeople([]), lifter)
    kp = test.keypoints_2d[0]
    a = cascade.lift_people([person(kp)], Intrinsics(1000.0, 1000.0, 640.0, 360.0), (1280, 720)).people[0]
    b = cascade.lift_people([person(kp)], Intrinsics(1500.0, 1500.0, 640.0, 360.0), (1280, 720)).people[0]
    assert np.isclose(b.root_m[2] / a.root_m[2], 1.5, rtol=1e-5)
    assert np.isclose(a.canonical_depth, b.canonical_depth, rtol=1e-5)
    guessed = cascade.lift_people([person(kp)], None, (1280, 720))
    assert guessed.intrinsics_assumed and not guessed.people[0].metric_depth
    assert np.isclose(guessed.intrinsics.fx, 640.0 / np.tan(np.radians(30.0)))


def test_untrustworthy_people_are_skipped_and_counted(trained):
    lifter, test, _ = trained
    kp = test.keypoints_2d[0].astype(float)
    nan_kp = kp.copy()
    nan_kp[5] = np.nan
    low = np.full(17, 0.9)
    low[:6] = 0.1
    people = [person(kp), person(kp, score=0.05), person(nan_kp), person(kp, scores=low), person(np.full((17, 2), 50.0))]
    result = Pose3DEstimator(FixedPeople(people), lifter, CascadeConfig(min_valid_joints=13)).process(
        np.zeros((720, 1280, 3), np.uint8), Intrinsics(1000.0, 1000.0, 640.0, 360.0))
    assert len(result.people) == 1
    assert result.skipped == Counter({"low person score": 1, "joint without coordinates": 1,
                                      "too few confident joints": 1, "degenerate 2D pose": 1})
    partly = low.copy()
    partly[:6] = 0.9
    partly[13] = 0.1  # one weak wrist: lifted, but flagged
    p = Pose3DEstimator(FixedPeople([person(kp, scores=partly)]), lifter).process(
        np.zeros((720, 1280, 3), np.uint8), Intrinsics(1000.0, 1000.0, 640.0, 360.0)).people[0]
    assert not p.valid[13] and p.valid.sum() == 16
    with pytest.raises(ValueError):
        Pose3DEstimator(FixedPeople([]), lifter).process(np.zeros((0, 0, 3), np.uint8))


def test_full_cascade_and_infer_command_on_a_real_photo(trained, tmp_path):
    """MoveNet + lifter on a real photo (NASA portrait shipped by scikit-image): structure and frames."""
    import json

    from PIL import Image
    from skimage import data as skimage_data

    from poselifter_core.cli import main as cli_main
    from poselifter_core.pose2d.movenet import MoveNet

    lifter, _, checkpoint = trained
    photo = skimage_data.astronaut()
    result = Pose3DEstimator(MoveNet(), lifter, CascadeConfig(min_valid_joints=8)).process(
        photo, Intrinsics(600.0, 600.0, 255.5, 255.5))
    assert result.timings_ms["pose2d"] > 0 and result.timings_ms["lift"] > 0
    assert not result.intrinsics_assumed
    for p in result.people:
        assert p.joints_m.shape == (17, 3) and p.root_m[2] > 0 and p.metric_depth
        assert p.keypoints_2d.shape == (17, 2) and p.valid.dtype == bool
    assert len(result.people) + sum(result.skipped.values()) >= 1
    Image.fromarray(photo).save(tmp_path / "astronaut.png")
    assert cli_main(["infer", str(tmp_path / "astronaut.png"), "-o", str(tmp_path / "out"), "--lifter", str(checkpoint),
                     "--fov", "60", "--no-progress"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())["astronaut.png"]
    assert results["intrinsics"]["assumed"] is False and "metres" in results["coordinate_frame"]
    assert (tmp_path / "out" / "astronaut_2d.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "astronaut_3d.png").stat().st_size > 10_000
    assert cli_main(["infer", str(tmp_path / "missing.png"), "--lifter", str(checkpoint)]) == 2
    assert cli_main(["infer", str(tmp_path / "astronaut.png"), "--lifter", str(tmp_path / "none.pt")]) == 2


def test_infer_on_a_video_writes_one_line_per_frame_and_an_annotated_video(trained, tmp_path):
    import json

    import imageio.v2 as iio
    from skimage import data as skimage_data

    from poselifter_core.cli import main as cli_main

    _, _, checkpoint = trained
    frame = np.zeros((240, 320, 3), np.uint8)
    frame[:, 64:256] = skimage_data.astronaut()[::2, ::2][:240, 32:224]
    with iio.get_writer(tmp_path / "clip.mp4", fps=10, macro_block_size=1) as writer:
        for shift in range(3):
            writer.append_data(np.roll(frame, 4 * shift, axis=1))
    assert cli_main(["infer", str(tmp_path / "clip.mp4"), "-o", str(tmp_path / "out"), "--lifter", str(checkpoint),
                     "--fx", "400", "--no-progress"]) == 0
    lines = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["frame"] for line in lines] == [0, 1, 2]
    assert json.loads(lines[1])["time_s"] == pytest.approx(0.1)
    assert len(iio.mimread(tmp_path / "out" / "clip_annotated.mp4")) == 3


def test_cascade_benchmarks_report_frames(trained, tmp_path):
    import imageio.v2 as iio

    from poselifter_core.benchmark import cascade_report, cascade_video_report

    lifter, test, _ = trained
    cascade = Pose3DEstimator(FixedPeople([person(test.keypoints_2d[0])]), lifter)
    report = cascade_report(cascade, np.zeros((100, 60, 3), np.uint8), people_counts=(1,), repeats=3,
                            intrinsics=Intrinsics(1000.0, 1000.0, 640.0, 360.0))
    assert "| 1 | 1 |" in report
    with iio.get_writer(tmp_path / "v.mp4", fps=5, macro_block_size=1) as writer:
        for _ in range(4):
            writer.append_data(np.zeros((48, 64, 3), np.uint8))
    assert "| 4 | 64x48 | 1.00 |" in cascade_video_report(cascade, tmp_path / "v.mp4")


def test_load_image_converts_grey_16bit_and_alpha_files(tmp_path):
    from PIL import Image

    from poselifter_core.infer import load_image

    Image.fromarray(np.full((4, 5), 0x1234, np.uint16)).save(tmp_path / "deep.png")
    assert load_image(tmp_path / "deep.png").shape == (4, 5, 3) and load_image(tmp_path / "deep.png")[0, 0, 0] == 0x12
    Image.fromarray(np.full((4, 5, 4), 200, np.uint8), "RGBA").save(tmp_path / "alpha.png")
    assert load_image(tmp_path / "alpha.png").shape == (4, 5, 3)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read image"):
        load_image(tmp_path / "broken.png")


def test_lift_only_cascade_loads_no_2d_model_and_refuses_images():
    """Keypoints-only users (node mode keypoints, bag --mode keypoints) need no 2D model: the
    torch backend works although MoveNet exists only as ONNX."""
    from poselifter_core.infer import build_cascade

    cascade = build_cascade(backend="torch", lift_only=True)
    assert cascade.estimator is None
    with pytest.raises(ValueError, match="no 2D stage"):
        cascade.process(np.zeros((48, 64, 3), dtype=np.uint8))
