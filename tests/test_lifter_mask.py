"""The visibility mask (docs/lifter_input.md): all ones changes nothing, masked joints never
matter, and lifters from before the mask still load and run."""
from __future__ import annotations

import numpy as np
import pytest

from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import Pose3DEstimator
from poselifter_core.lifter.checkpoint import load_lifter
from poselifter_core.lifter.export import random_lifter_inputs
from poselifter_core.lifter.inference import TorchLifter
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.pose2d.base import Person2D
from poselifter_core.skeleton import H36M17

from runtime_fixtures import legacy_checkpoint, tiny_lifter


@pytest.fixture(scope="module")
def inputs():
    return random_lifter_inputs(6, 17, np.random.default_rng(2))


def test_a_mask_of_all_ones_gives_the_same_output_as_no_mask(inputs):
    lifter = TorchLifter(tiny_lifter())
    plain = lifter.lift(inputs["keypoints"], inputs["intrinsics"])
    ones = lifter.lift(inputs["keypoints"], inputs["intrinsics"], np.ones((6, 17)))
    for name in ("relative", "root", "absolute", "canonical_depth"):
        assert np.array_equal(getattr(plain, name), getattr(ones, name)), name


def test_a_masked_joint_s_coordinates_change_nothing(inputs):
    lifter = TorchLifter(tiny_lifter())
    visible = np.ones((6, 17))
    visible[:, [0, 3, 13]] = 0  # the pelvis too: least-squares root
    moved = inputs["keypoints"].copy()
    moved[:, [0, 3, 13]] = [[5e3, -7e3]]
    a = lifter.lift(inputs["keypoints"], inputs["intrinsics"], visible)
    b = lifter.lift(moved, inputs["intrinsics"], visible)
    nan = inputs["keypoints"].copy()
    nan[:, [0, 3, 13]] = np.nan
    c = lifter.lift(nan, inputs["intrinsics"], visible)
    assert np.array_equal(a.absolute, b.absolute) and np.array_equal(a.absolute, c.absolute)
    assert np.isfinite(a.absolute).all() and (a.root[:, 2] > 0).all()


def test_an_old_checkpoint_loads_and_runs_as_a_pixel_space_model(tmp_path, inputs):
    path = legacy_checkpoint(tmp_path / "old.pt")
    model, _ = load_lifter(path)
    assert model.config.input_space == "pixels" and model.config.depth_output == "canonical"
    assert not model.config.takes_mask
    torch_result = TorchLifter(model).lift(inputs["keypoints"], inputs["intrinsics"])
    runtime = LifterRuntime.from_checkpoint(path, backend="onnxruntime-cpu", export_dir=tmp_path)
    assert runtime.backend.input_names == ("keypoints", "intrinsics")
    onnx_result = runtime.lift(inputs["keypoints"], inputs["intrinsics"])
    np.testing.assert_allclose(onnx_result.absolute, torch_result.absolute, rtol=1e-4, atol=1e-2)
    with pytest.raises(ValueError, match="model takes no missing joints"):
        runtime.lift(inputs["keypoints"], inputs["intrinsics"], np.eye(17)[:6] == 0)
    # in the cascade: low-score joints are fed as before #18; a joint without coordinates is a skip
    kp = inputs["keypoints"][0].astype(float)
    scores = np.full(17, 0.9)
    scores[13] = 0.05
    nan = kp.copy()
    nan[13] = np.nan
    people = [Person2D(kp, scores, np.zeros(4), 0.9, H36M17), Person2D(nan, scores, np.zeros(4), 0.9, H36M17)]
    result = Pose3DEstimator(None, runtime).lift_people(people, Intrinsics(*inputs["intrinsics"][0]), (1280, 720))
    assert len(result.people) == 1 and not result.people[0].valid[13]
    assert np.allclose(result.people[0].joints_m * 1000, torch_result.absolute[0], rtol=1e-4, atol=0.05)
    assert [p.reason for p in result.skipped_people] == ["model takes no missing joints"]
