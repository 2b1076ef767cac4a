"""Test-time flip averaging (poselifter_core/lifter/flip.py): the averaged lift is mirror-symmetric
on every backend, the mirrored answer is mirrored back with left and right swapped, the mask keeps
its meaning, older lifters still run, and the cascade's setting reaches the lifter."""
from __future__ import annotations

import numpy as np
import pytest

from poselifter_core import shipped
from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import CascadeConfig, Pose3DEstimator
from poselifter_core.infer import build_cascade, load_lifter_runtime
from poselifter_core.lifter import flip
from poselifter_core.lifter.checkpoint import load_lifter
from poselifter_core.lifter.config import LifterConfig
from poselifter_core.lifter.decoding import LiftResult
from poselifter_core.lifter.export import random_lifter_inputs
from poselifter_core.lifter.inference import TorchLifter
from poselifter_core.lifter.inputs import LifterInput, prepare_input
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.pose2d.base import Person2D
from poselifter_core.skeleton import H36M17

from runtime_fixtures import legacy_checkpoint, write_checkpoint

#: H36M-17 left/right partners written out here (not read from the skeleton), so a wrong pair
#: list in the skeleton would fail these tests too.
MIRROR = [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13]
LWRIST, RWRIST = 13, 16


def mirror_2d(keypoints: np.ndarray, intrinsics: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The image mirrored about the principal point's vertical line: u -> 2 cx - u, sides swapped."""
    mirrored = keypoints[:, MIRROR].astype(np.float64)
    mirrored[..., 0] = 2.0 * intrinsics[:, None, 2] - mirrored[..., 0]
    return mirrored.astype(np.float32), visible[:, MIRROR]


def mirror_3d(points: np.ndarray) -> np.ndarray:
    """(N, J, 3) camera-frame joints mirrored: X -> -X, sides swapped."""
    mirrored = points[:, MIRROR].copy()
    mirrored[..., 0] = -mirrored[..., 0]
    return mirrored


def mirror_gap_mm(lifter, inputs: dict[str, np.ndarray]) -> float:
    """Largest distance between the lift of the mirrored input and the mirrored lift of the input."""
    plain = lifter.lift(inputs["keypoints"], inputs["intrinsics"], inputs["visible"])
    keypoints, visible = mirror_2d(inputs["keypoints"], inputs["intrinsics"], inputs["visible"])
    mirrored = lifter.lift(keypoints, inputs["intrinsics"], visible)
    return float(np.abs(mirrored.absolute - mirror_3d(plain.absolute)).max())


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    values = random_lifter_inputs(8, 17, np.random.default_rng(3), missing_fraction=0.25)
    values["visible"][:3, 0] = 0  # the pelvis hidden: the least-squares root must mirror too
    values["visible"][3, [LWRIST, 12]] = 0  # one side's arm hidden, the other seen
    return values


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("flip") / "lifter.pt")


@pytest.fixture(scope="module", params=["torch-eager", "onnxruntime-cpu"])
def make_lifter(request, checkpoint, tmp_path_factory):
    """A factory of the tiny lifter on PyTorch eager or on ONNX Runtime (an export), flip on or off."""
    export_dir = tmp_path_factory.mktemp("export")
    if request.param == "torch-eager":
        return lambda flip_average: TorchLifter.from_checkpoint(checkpoint, flip_average=flip_average)
    return lambda flip_average: LifterRuntime.from_checkpoint(checkpoint, "onnxruntime-cpu", export_dir,
                                                              flip_average=flip_average)


def test_the_flip_averaged_lift_of_a_mirror_is_the_mirrored_lift(make_lifter, inputs):
    # random weights: the network alone is far from symmetric, so the test can tell
    assert mirror_gap_mm(make_lifter(False), inputs) > 50.0
    assert mirror_gap_mm(make_lifter(True), inputs) < 0.05  # float32 rounding of metres-sized values


def test_a_mirrored_answer_taken_back_without_swapping_sides_breaks_the_symmetry(make_lifter, inputs, monkeypatch):
    def x_only(raw: np.ndarray, skeleton) -> np.ndarray:  # the mistake: X negated, left and right not swapped
        back = raw.copy()
        back[:, 1::3] = -back[:, 1::3]
        return back

    monkeypatch.setattr(flip, "unmirror_raw", x_only)
    assert mirror_gap_mm(make_lifter(True), inputs) > 10.0


def test_unmirror_raw_takes_a_mirrored_body_back_exactly():
    rng = np.random.default_rng(0)
    body = rng.normal(size=(4, 17, 3))
    body[:, 0] = 0.0  # root-relative: the pelvis at the origin
    depth = rng.normal(size=(4, 1))
    raw = np.concatenate([depth, body[:, 1:].reshape(4, -1)], axis=1)
    raw_of_mirror = np.concatenate([depth, mirror_3d(body)[:, 1:].reshape(4, -1)], axis=1)
    assert np.array_equal(flip.unmirror_raw(raw_of_mirror, H36M17), raw)
    assert not np.allclose(flip.unmirror_raw(raw, H36M17), raw)


def test_mirror_input_keeps_missing_joints_at_zero_and_swaps_their_flags(inputs):
    batch = flip.mirror_input(prepare_input(inputs["keypoints"], inputs["intrinsics"], inputs["visible"],
                                            LifterConfig(), H36M17), H36M17)
    expected_kp, expected_visible = mirror_2d(inputs["keypoints"], inputs["intrinsics"], inputs["visible"])
    assert np.array_equal(batch.visible, expected_visible)
    assert (batch.keypoints[batch.visible == 0] == 0).all()
    seen = batch.visible > 0
    np.testing.assert_allclose(batch.keypoints[seen], expected_kp[seen], atol=1e-3)


def test_with_flip_a_full_mask_is_no_mask_and_hidden_joints_change_nothing(make_lifter, inputs):
    lifter = make_lifter(True)
    plain = lifter.lift(inputs["keypoints"], inputs["intrinsics"])
    ones = lifter.lift(inputs["keypoints"], inputs["intrinsics"], np.ones((8, 17)))
    for name in ("relative", "root", "absolute", "canonical_depth"):
        assert np.array_equal(getattr(plain, name), getattr(ones, name)), name
    moved = inputs["keypoints"].copy()
    moved[inputs["visible"] == 0] = [4e3, -9e3]
    a = lifter.lift(inputs["keypoints"], inputs["intrinsics"], inputs["visible"])
    b = lifter.lift(moved, inputs["intrinsics"], inputs["visible"])
    assert np.array_equal(a.absolute, b.absolute) and np.isfinite(a.absolute).all()


def test_both_lifts_share_one_backend_call(checkpoint, tmp_path, inputs):
    runtime = LifterRuntime.from_checkpoint(checkpoint, "onnxruntime-cpu", tmp_path, flip_average=True)
    calls = []
    run = runtime.backend.run
    runtime.backend.run = lambda feeds: calls.append(len(feeds["keypoints"])) or run(feeds)
    runtime.lift(inputs["keypoints"], inputs["intrinsics"], inputs["visible"])
    assert calls == [16]


def test_an_empty_batch_lifts_to_nothing_with_flip(checkpoint, tmp_path):
    runtime = LifterRuntime.from_checkpoint(checkpoint, "onnxruntime-cpu", tmp_path, flip_average=True)
    empty = LifterInput(np.zeros((0, 17, 2), np.float32), np.zeros((0, 4), np.float32), np.zeros((0, 17), np.float32))
    result = runtime.lift_input(empty)
    assert isinstance(result, LiftResult) and result.absolute.shape == (0, 17, 3)


def test_hidden_joints_stay_flagged_inferred_in_the_cascade():
    runtime = load_lifter_runtime(None, "onnxruntime-cpu", flip_average=True)  # plausible output: the cascade keeps it
    pose = shipped.check_set().subset(slice(0, 1))
    keypoints = pose.keypoints_2d[0].astype(float)
    scores = np.full(17, 0.9)
    scores[LWRIST] = 0.05  # the left wrist below the score threshold; its right partner seen
    result = Pose3DEstimator(None, runtime).lift_people([Person2D(keypoints, scores, np.zeros(4), 0.9, H36M17)],
                                                        Intrinsics(*pose.intrinsics[0]), (1920, 1080))
    (person,) = result.people
    assert not person.valid[LWRIST] and person.valid[RWRIST] and person.valid.sum() == 16
    visible = (scores >= 0.3).astype(np.float32)[None]
    expected = runtime.lift(keypoints[None], pose.intrinsics[0], visible)
    np.testing.assert_allclose(person.joints_m * 1000, expected.absolute[0], atol=0.05)


def test_a_lifter_from_before_the_mask_runs_flip_averaged_on_both_backends(tmp_path, inputs):
    path = legacy_checkpoint(tmp_path / "old.pt")
    full = {**inputs, "visible": np.ones((8, 17), np.float32)}
    torch_lifter = TorchLifter(load_lifter(path)[0], flip_average=True)
    onnx_lifter = LifterRuntime.from_checkpoint(path, "onnxruntime-cpu", tmp_path, flip_average=True)
    assert onnx_lifter.backend.input_names == ("keypoints", "intrinsics")  # an old export: no mask input
    a = torch_lifter.lift(full["keypoints"], full["intrinsics"])
    b = onnx_lifter.lift(full["keypoints"], full["intrinsics"])
    np.testing.assert_allclose(b.absolute, a.absolute, rtol=1e-4, atol=1e-2)
    assert mirror_gap_mm(onnx_lifter, full) < 0.05
    plain = LifterRuntime.from_checkpoint(path, "onnxruntime-cpu", tmp_path).lift(full["keypoints"], full["intrinsics"])
    assert not np.allclose(plain.absolute, b.absolute, atol=1.0)  # the flip did something


def test_the_cascade_setting_reaches_the_lifter():
    assert build_cascade(lift_only=True).lifter.flip_average is CascadeConfig().lifter_flip_average
    off = build_cascade(config=CascadeConfig(lifter_flip_average=False), lift_only=True)
    on = build_cascade(config=CascadeConfig(lifter_flip_average=True), lift_only=True)
    assert (off.lifter.flip_average, on.lifter.flip_average) == (False, True)
