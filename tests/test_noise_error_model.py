"""ErrorModel files: round trips, validation, the shipped default model."""
import json

import numpy as np
import pytest

from poselifter_core.noise.default_model import MOTIONBERT_GAMMA, build_default_model
from poselifter_core.noise.error_model import (
    DEFAULT_MODEL_PATH,
    DEFAULT_WINDOW,
    FORMAT,
    ErrorModel,
    default_error_model,
)
from poselifter_core.skeleton import COCO17, H36M17


def fitted_model(num_joints=17, skeleton="h36m17"):
    rng = np.random.default_rng(0)
    return ErrorModel(
        skeleton=skeleton,
        mean=rng.normal(0, 0.01, (num_joints, 2)),
        std=rng.uniform(0.02, 0.1, (num_joints, 2)),
        gamma=rng.uniform(0.7, 1.0, num_joints),
        window=0.8,
        gaussian_mean=rng.normal(0, 0.01, (num_joints, 2)),
        gaussian_std=rng.uniform(0.1, 0.2, (num_joints, 2)),
        nll_mixture=rng.normal(-2, 0.1, num_joints),
        nll_gaussian=rng.normal(-1, 0.1, num_joints),
        num_samples=rng.integers(100, 1000, num_joints),
        fit=("em",) * (num_joints - 1) + ("gaussian-fallback",),
        notes="line one\nline two",
    )


def assert_same(a: ErrorModel, b: ErrorModel):
    for name in ("mean", "std", "gamma", "gaussian_mean", "gaussian_std", "nll_mixture", "nll_gaussian"):
        assert np.allclose(getattr(a, name), getattr(b, name), rtol=1e-5, atol=1e-9), name
    assert np.array_equal(a.num_samples, b.num_samples)
    assert (a.skeleton, a.window, a.fit, a.units, a.notes) == (b.skeleton, b.window, b.fit, b.units, b.notes)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip(tmp_path, suffix):
    model = fitted_model()
    path = tmp_path / f"model{suffix}"
    model.save(path)
    assert_same(ErrorModel.load(path), model)


def test_yaml_is_readable_with_header_and_joint_names(tmp_path):
    path = tmp_path / "model.yaml"
    fitted_model().save(path)
    text = path.read_text()
    assert text.startswith("# PoseLifter 2D keypoint error model")
    assert "units: person_scale" in text and "- name: LWrist" in text and "notes: |" in text
    assert f"format: {FORMAT}" in text


def test_json_file_is_plain_json(tmp_path):
    path = tmp_path / "model.json"
    fitted_model(17, "coco17").save(path)
    values = json.loads(path.read_text())
    assert values["skeleton"] == "coco17" and values["joints"][0]["name"] == COCO17.joint_names[0]
    assert "total" in values and values["total"]["num_samples"] > 0


def test_validation_errors(tmp_path):
    model = fitted_model()
    with pytest.raises(ValueError, match="gamma"):
        ErrorModel(**{**model.__dict__, "gamma": np.full(17, 1.5)})
    with pytest.raises(ValueError, match="positive"):
        ErrorModel(**{**model.__dict__, "std": np.zeros((17, 2))})
    with pytest.raises(ValueError, match=r"\(17, 2\)"):
        ErrorModel(**{**model.__dict__, "mean": np.zeros((16, 2))})
    with pytest.raises(ValueError, match="units"):
        ErrorModel(**{**model.__dict__, "units": "pixels"})
    path = tmp_path / "bad.yaml"
    path.write_text("format: something-else\n")
    with pytest.raises(ValueError, match="not a PoseLifter error model"):
        ErrorModel.load(path)
    values = model.to_dict()
    values["joints"][0]["name"] = "Pelvis"
    with pytest.raises(ValueError, match="do not match skeleton"):
        ErrorModel.from_dict(values)
    with pytest.raises(FileNotFoundError):
        ErrorModel.load(tmp_path / "missing.yaml")


def test_paper_window_conversion():
    # +-50 px of a 256 px crop whose side is 1.25 x the joint extent; sigma = 0.305 x extent.
    assert DEFAULT_WINDOW == pytest.approx(50 / (256 / 1.25 * 0.305), abs=0.005)
    assert DEFAULT_WINDOW == 0.8


def test_default_model_is_the_documented_one():
    model = default_error_model()
    assert model.skeleton == H36M17.name and model.window == DEFAULT_WINDOW
    assert np.allclose(model.gamma, MOTIONBERT_GAMMA)
    assert model.nll_mixture is None and model.fit == ("assumed",) * 17
    assert "NOT fitted" in model.notes
    # Wrists and ankles are assumed noisier than the torso.
    names = H36M17.joint_names
    assert model.std[names.index("LWrist"), 0] > model.std[names.index("Thorax"), 0]
    assert 0.02 <= model.std.min() and model.std.max() <= 0.1
    built = build_default_model()  # the shipped file is what the builder writes
    assert np.allclose(model.std, built.std) and np.allclose(model.gaussian_std, built.gaussian_std, rtol=1e-5)
    assert model.notes == built.notes
    assert DEFAULT_MODEL_PATH.read_text().startswith("# PoseLifter")


def test_default_gaussian_is_the_moment_match_of_the_mixture():
    model = build_default_model()
    rng = np.random.default_rng(0)
    j, n = H36M17.joint_names.index("LWrist"), 400_000
    inlier = rng.random(n) < model.gamma[j]
    x = np.where(inlier, model.std[j, 0] * rng.standard_normal(n), rng.uniform(-0.8, 0.8, n))
    assert x.std() == pytest.approx(model.gaussian_std[j, 0], rel=0.01)
