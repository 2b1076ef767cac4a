"""fit-error-model and plot-error-model end to end on generated detection files (npz and JSON)."""
import argparse
import json

import numpy as np
import pytest

from poselifter_core.cli import fit_error_model, plot_error_model
from poselifter_core.lifter.normalization import person_scale
from poselifter_core.noise.error_model import ErrorModel
from poselifter_core.noise.errors import normalized_errors

GAMMA = np.linspace(0.75, 0.98, 17)
STD = np.linspace(0.03, 0.08, 17)[:, None] * np.array([1.0, 1.2])
WINDOW = 0.8


def run(*argv):
    """Parse and run one of the noise commands as `poselifter` would."""
    parser = argparse.ArgumentParser(prog="poselifter")
    subparsers = parser.add_subparsers(dest="command", required=True)
    fit_error_model.register(subparsers)
    plot_error_model.register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


def make_frames(num_frames, seed=0):
    """Ground truth (N, 17, 2) px of people of different sizes, detections drawn from eq. 9."""
    rng = np.random.default_rng(seed)
    template = rng.normal(0.0, 1.0, (17, 2))
    gt = template + rng.normal(0.0, 0.1, (num_frames, 17, 2))
    gt = gt * rng.uniform(20, 200, (num_frames, 1, 1)) + rng.uniform(100, 900, (num_frames, 1, 2))
    inlier = rng.random((num_frames, 17)) < GAMMA
    errors = np.where(inlier[..., None], STD * rng.standard_normal((num_frames, 17, 2)),
                      rng.uniform(-WINDOW, WINDOW, (num_frames, 17, 2)))
    return errors * person_scale(gt)[:, None, None] + gt, gt


def test_normalized_errors_known_answer():
    gt = np.array([[[0.0, 0.0], [2.0, 0.0]]])  # sigma = 1
    pred = np.array([[[0.5, 0.0], [np.nan, 1.0]]])
    errors, valid = normalized_errors(pred * 10, gt * 10)  # units cancel
    assert np.allclose(errors[0, 0], [0.5, 0.0]) and valid.tolist() == [[True, False]]
    with pytest.raises(ValueError, match="degenerate"):
        normalized_errors(pred, np.zeros_like(gt))


@pytest.mark.slow
def test_fit_from_npz_recovers_the_model_and_plots(tmp_path, capsys):
    pred, gt = make_frames(6000)
    np.savez(tmp_path / "pred.npz", keypoints_2d=pred.astype(np.float32), skeleton="h36m17")
    np.savez(tmp_path / "gt.npz", keypoints_2d=gt.astype(np.float32))
    assert run("fit-error-model", "--pred", str(tmp_path / "pred.npz"), "--gt", str(tmp_path / "gt.npz"),
               "-o", str(tmp_path / "model.yaml")) == 0
    assert "LWrist" in capsys.readouterr().out
    model = ErrorModel.load(tmp_path / "model.yaml")
    assert model.skeleton == "h36m17" and model.window == WINDOW and model.num_samples.tolist() == [6000] * 17
    assert np.all(np.abs(model.gamma - GAMMA) < 0.03)
    assert np.all(np.abs(model.std / STD - 1) < 0.06)
    assert (model.nll_mixture < model.nll_gaussian).all()

    out = tmp_path / "plots"
    assert run("plot-error-model", str(tmp_path / "model.yaml"), "--pred", str(tmp_path / "pred.npz"),
               "--gt", str(tmp_path / "gt.npz"), "-o", str(out), "--bins", "40") == 0
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 2 * 17 + 2 and "13_LWrist_x.png" in pngs and "09_Neck_Nose_y.png" in pngs
    assert all((out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in pngs)


def test_fit_from_json_with_missing_and_invisible_joints(tmp_path):
    pred, gt = make_frames(400, seed=1)
    pred_list = pred.tolist()
    pred_list[0][13] = [None, None]  # a missed detection
    visibility = np.ones((400, 17), dtype=int)
    visibility[:100, 16] = 0
    (tmp_path / "pred.json").write_text(json.dumps({"keypoints_2d": pred_list, "skeleton": "h36m17"}))
    (tmp_path / "gt.json").write_text(json.dumps(gt.tolist()))
    (tmp_path / "vis.json").write_text(json.dumps({"visibility": visibility.tolist()}))
    assert run("fit-error-model", "--pred", str(tmp_path / "pred.json"), "--gt", str(tmp_path / "gt.json"),
               "--visibility", str(tmp_path / "vis.json"), "-o", str(tmp_path / "model.json")) == 0
    model = ErrorModel.load(tmp_path / "model.json")
    assert model.num_samples[13] == 399 and model.num_samples[16] == 300 and model.num_samples[0] == 400
    out = tmp_path / "plots"
    assert run("plot-error-model", str(tmp_path / "model.json"), "-o", str(out)) == 0
    assert [p.name for p in out.glob("*.png")] == ["summary_parameters.png"]


def test_bad_inputs_give_clear_errors(tmp_path):
    pred, gt = make_frames(50)
    np.savez(tmp_path / "pred.npz", keypoints_2d=pred)
    np.savez(tmp_path / "gt.npz", keypoints_2d=gt[:40])
    np.savez(tmp_path / "other.npz", points=gt)
    base = ["fit-error-model", "--pred", str(tmp_path / "pred.npz"), "-o", str(tmp_path / "m.yaml")]
    with pytest.raises(ValueError, match="same frames"):
        run(*base, "--gt", str(tmp_path / "gt.npz"))
    with pytest.raises(ValueError, match="no 'keypoints_2d'"):
        run(*base, "--gt", str(tmp_path / "other.npz"))
    np.savez(tmp_path / "coco.npz", keypoints_2d=gt, skeleton="coco17")
    np.savez(tmp_path / "h36m.npz", keypoints_2d=pred, skeleton="h36m17")
    with pytest.raises(ValueError, match="different skeletons"):
        run("fit-error-model", "--pred", str(tmp_path / "h36m.npz"), "--gt", str(tmp_path / "coco.npz"),
            "-o", str(tmp_path / "m.yaml"))
    with pytest.raises(FileNotFoundError):
        run(*base, "--gt", str(tmp_path / "missing.npz"))


def test_assumed_default_writes_the_shipped_asset(tmp_path):
    from poselifter_core.noise.error_model import DEFAULT_MODEL_PATH
    out = tmp_path / "default.yaml"
    assert run("fit-error-model", "--assumed-default", "-o", str(out)) == 0
    assert out.read_text() == DEFAULT_MODEL_PATH.read_text()


def test_fit_needs_detections_and_ground_truth(tmp_path):
    with pytest.raises(SystemExit, match="--pred and --gt are required"):
        run("fit-error-model", "-o", str(tmp_path / "m.yaml"))
