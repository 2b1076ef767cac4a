import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from poselifter_core.cli import main as cli_main
from poselifter_core.config import apply_overrides, from_dict, load_yaml, save_yaml
from poselifter_core.data.sources import DataSpec, load_pose_set
from poselifter_core.lifter.checkpoint import load_lifter, read_checkpoint
from poselifter_core.lifter.inference import TorchLifter
from poselifter_core.lifter.model import LifterConfig
from poselifter_core.train import TrainConfig, train


def tiny_config(mocap_file: Path, out: Path, epochs: int = 6) -> TrainConfig:
    spec = dict(kind="mocap", path=str(mocap_file), views=2, every=2)
    return from_dict(TrainConfig, {
        "lifter": {"width": 64},
        "train_data": {**spec, "subjects": ["s1", "s2"]},
        "val_data": {**spec, "subjects": ["s3"], "seed": 99},
        "test_data": {**spec, "subjects": ["s3"], "seed": 123},
        "optim": {"epochs": epochs, "batch_size": 32},
        "output_dir": str(out),
        "device": "cpu",
    })


def read_metrics(path: Path) -> list[dict[str, float]]:
    with path.open() as stream:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(stream)]


def test_tiny_training_run_loss_falls_and_checkpoint_round_trips(mocap_file, tmp_path):
    config = tiny_config(mocap_file, tmp_path / "run")
    best = train(config, progress=False)
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert len(rows) == 6
    assert (tmp_path / "run" / "training_curves.png").stat().st_size > 10_000
    assert rows[-1]["train_loss"] < 0.5 * rows[0]["train_loss"]
    assert rows[-1]["val_mpjpe_mm"] < rows[0]["val_mpjpe_mm"]
    assert rows[3]["lr"] == pytest.approx(1e-3) and rows[4]["lr"] == pytest.approx(1e-4)  # drop after 2/3
    payload = read_checkpoint(best)
    assert payload["lifter_config"]["width"] == 64 and payload["lifter_config"]["f0"] == 1000.0
    assert payload["train_config"]["optim"]["epochs"] == 6 and "package_version" in payload
    model, _ = load_lifter(best)
    data = load_pose_set(config.test_data)
    a = TorchLifter(model).lift(data.keypoints_2d, data.intrinsics)
    b = TorchLifter.from_checkpoint(best).lift(data.keypoints_2d, data.intrinsics)
    assert np.array_equal(a.absolute, b.absolute)
    assert np.allclose(a.absolute, a.root[:, None] + a.relative)
    assert np.allclose(a.relative[:, 0], 0.0)


def test_resume_continues_where_it_stopped(mocap_file, tmp_path):
    full = tiny_config(mocap_file, tmp_path / "full", epochs=4)
    train(full, progress=False)
    part = tiny_config(mocap_file, tmp_path / "part", epochs=4)
    part.optim.epochs = 2
    train(part, progress=False)
    part.optim.epochs = 4
    # resuming must rebuild the schedule for 4 epochs: the checkpoint carries its state
    with pytest.raises(ValueError, match="not a training checkpoint"):
        train(part, resume=str(tmp_path / "part" / "checkpoint_best.pt"), progress=False)
    train(tiny_config(mocap_file, tmp_path / "part", epochs=4), resume=str(tmp_path / "part" / "checkpoint_last.pt"), progress=False)
    rows = read_metrics(tmp_path / "part" / "metrics.csv")
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]


def test_bad_checkpoint_file_gives_clear_error(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable PoseLifter checkpoint"):
        load_lifter(path)
    with pytest.raises(FileNotFoundError):
        load_lifter(tmp_path / "missing.pt")


def test_lifter_rejects_bad_input(mocap_file, tmp_path):
    lifter = TorchLifter(__import__("poselifter_core.lifter.model", fromlist=["PoseLifter"]).PoseLifter(LifterConfig(width=32)))
    good = np.random.default_rng(0).uniform(100, 500, (2, 17, 2))
    with pytest.raises(ValueError, match="NaN"):
        lifter.lift(np.where(np.arange(17)[None, :, None] == 3, np.nan, good), np.array([1000.0, 1000, 320, 240]))
    with pytest.raises(ValueError, match=r"\(N, 17, 2\)"):
        lifter.lift(good[:, :15], np.array([1000.0, 1000, 320, 240]))
    with pytest.raises(ValueError, match="focal lengths must be positive"):
        lifter.lift(good, np.array([0.0, 1000, 320, 240]))


def test_config_yaml_round_trip_and_errors(tmp_path, mocap_file):
    config = tiny_config(mocap_file, tmp_path)
    save_yaml(config, tmp_path / "c.yaml")
    assert load_yaml(TrainConfig, tmp_path / "c.yaml") == config
    (tmp_path / "typo.yaml").write_text("optim:\n  epocs: 3\n")
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['epocs'\]"):
        load_yaml(TrainConfig, tmp_path / "typo.yaml")
    changed = apply_overrides(config, ["optim.epochs=9", "lifter.features=scale"])
    assert changed.optim.epochs == 9 and changed.lifter.features == "scale"
    with pytest.raises(ValueError, match="no setting"):
        apply_overrides(config, ["optim.nope=1"])


def test_cli_help_and_evaluate(mocap_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["--help"])
    assert exit_info.value.code == 0
    assert "train" in capsys.readouterr().out
    config = tiny_config(mocap_file, tmp_path / "run", epochs=1)
    save_yaml(config, tmp_path / "c.yaml")
    assert cli_main(["train", "--config", str(tmp_path / "c.yaml"), "--no-progress"]) == 0
    assert cli_main(["evaluate", "--checkpoint", str(tmp_path / "run" / "checkpoint_best.pt"),
                     "--config", str(tmp_path / "c.yaml"), "--output", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "| Method | MPJPE | PA-MPJPE | MRPE |" in out and "analytic root" in out and "root included" in out
    assert (tmp_path / "eval" / "results.json").exists()
    assert cli_main(["evaluate", "--checkpoint", str(tmp_path / "missing.pt"), "--config", str(tmp_path / "c.yaml")]) == 2
    assert cli_main(["evaluate", "--checkpoint", str(tmp_path / "run" / "checkpoint_best.pt"), "--config",
                     str(tmp_path / "c.yaml"), "--depth-bins", "10"]) == 2  # ignored without --partial-bodies
    assert "--depth-bins adds a table to --partial-bodies" in capsys.readouterr().err
    # --depth-bins without a mocap test_data to render again, or negative: an error before the data, the lifters and
    # the other tables are computed (it came after them)
    for depth_bins, error in (("10", "--depth-bins renders the test poses again"), ("-1", "--depth-bins must be")):
        assert cli_main(["evaluate", "--checkpoint", str(tmp_path / "missing.pt"), "--partial-bodies",
                         "--depth-bins", depth_bins]) == 2
        assert error in capsys.readouterr().err
    # with --config and --data, the per-bin table was the config's test data and the others --data's, unsaid: refused
    pose_set = load_pose_set(config.test_data)
    pose_set.save(tmp_path / "test.npz")
    assert cli_main(["evaluate", "--checkpoint", str(tmp_path / "run" / "checkpoint_best.pt"), "--config",
                     str(tmp_path / "c.yaml"), "--data", str(tmp_path / "test.npz"), "--partial-bodies",
                     "--depth-bins", "10", "--output", str(tmp_path / "bins")]) == 2
    assert "--depth-bins renders the config's mocap test_data again, while --data" in capsys.readouterr().err
    assert not (tmp_path / "bins").exists()  # before any table


def test_evaluate_partial_bodies_tables_old_and_new_side_by_side(mocap_file, tmp_path, capsys):
    from poselifter_core.lifter.checkpoint import save_checkpoint
    from poselifter_core.lifter.model import PoseLifter

    from runtime_fixtures import write_checkpoint

    config = tiny_config(mocap_file, tmp_path / "run")
    config.test_data.rig.min_visible_joints = 17  # full bodies, as the #18 tables
    save_yaml(config, tmp_path / "c.yaml")
    new = write_checkpoint(tmp_path / "new" / "lifter.pt", width=16)
    old = tmp_path / "old" / "lifter.pt"  # before #18: no mask input
    old.parent.mkdir()
    save_checkpoint(old, PoseLifter(LifterConfig(width=8, input_space="pixels", depth_output="canonical")).eval())
    assert cli_main(["evaluate", "--checkpoint", str(old), str(new), "--config", str(tmp_path / "c.yaml"),
                     "--input-noise", "mixture", "--partial-bodies", "--depth-bins", "12",
                     "--output", str(tmp_path / "eval")]) == 0
    report = (tmp_path / "eval" / "partial_bodies.md").read_text()
    assert report.strip() in capsys.readouterr().out
    samples = len(load_pose_set(config.test_data))
    assert f"| all | {samples} | " in report  # the full-body table: every sample, both lifters
    assert "| MPJPE old/lifter | MPJPE new/lifter |" in report
    missing = [line for line in report.splitlines() if line.startswith("| 3 missing, limbs")]
    assert len(missing) == 1 and " | n/a | " in missing[0]  # the old lifter takes no missing joints
    roots = report[report.index("### Learned root"):report.index("### Missing")].splitlines()
    assert "| new/lifter learned, oracle vs training mean |" in roots[4]  # train_data gives the training mean
    assert "| old/lifter learned, signed depth error % |" in roots[4]
    assert len([line for line in roots if line.startswith(("| s3 |", "| all |"))]) == 2
    test_table, per_bin = report[report.index("### Signed root depth error"):].split("samples rendered in every bin")

    def bin_counts(table: str) -> dict[str, int]:
        return {line.split(" | ")[0][2:]: int(line.split(" | ")[1]) for line in table.splitlines()
                if line.startswith("| ") and (line[2].isdigit() or line.startswith("| all |"))}

    counts = bin_counts(test_table)
    assert counts.pop("all") == sum(counts.values()) == samples
    assert bin_counts(per_bin) == {**{f"{low:g}-{high}": 12 for low, high in zip([0.8, *range(2, 20, 2)], range(2, 21, 2))},
                                   "all": 120}
    assert "| bias old/lifter analytic, size oracle |" in per_bin  # every root of every lifter, with ± intervals
    assert "| bias new/lifter floor, mount error |" in per_bin  # the rig records its floor: the two floor roots
    assert sum(line.count(" ± ") for line in per_bin.splitlines() if line.startswith("| ")) == 11 * 2 * 2 * 7


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed not built")
def test_distributed_training_with_torchrun(mocap_file, tmp_path):
    config = tiny_config(mocap_file, tmp_path / "ddp", epochs=2)
    save_yaml(config, tmp_path / "c.yaml")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
         "-m", "poselifter_core", "train", "--config", str(tmp_path / "c.yaml"), "--no-progress"],
        capture_output=True, text=True, timeout=180, env=env, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_metrics(tmp_path / "ddp" / "metrics.csv")
    assert len(rows) == 2  # only rank 0 writes
    load_lifter(tmp_path / "ddp" / "checkpoint_best.pt")


def test_ablation_and_focal_experiments_produce_tables(mocap_file, tmp_path):
    from poselifter_core.experiments import run_ablation, run_focal

    config = tiny_config(mocap_file, tmp_path, epochs=1)
    config.val_data = None
    report = run_ablation(config, tmp_path / "ablation", progress=False)
    for name in ("Baseline", "+ Location", "+ Scale", "+ Location & scale", "analytic root"):
        assert name in report
    assert (tmp_path / "ablation" / "features_scale" / "checkpoint_best.pt").exists()
    report = run_focal(config, tmp_path / "focal", [400.0, 1000.0], progress=False)
    assert "f = 400 px (20% outside), raw depth" in report and "f = 1000 px (inside), canonical depth" in report


def test_training_with_mixture_noise_and_noisy_evaluation(mocap_file, tmp_path, capsys):
    config = tiny_config(mocap_file, tmp_path / "noisy", epochs=1)
    config.augment.input_noise = "mixture"
    config.augment.outlier_mode = "paper-code"
    save_yaml(config, tmp_path / "c.yaml")
    assert cli_main(["train", "--config", str(tmp_path / "c.yaml"), "--no-progress"]) == 0
    args = ["evaluate", "--checkpoint", str(tmp_path / "noisy" / "checkpoint_best.pt"), "--config", str(tmp_path / "c.yaml"),
            "--no-analytic-root"]
    assert cli_main(args + ["--output", str(tmp_path / "clean")]) == 0
    assert cli_main(args + ["--output", str(tmp_path / "mixture"), "--input-noise", "mixture"]) == 0
    import json
    clean = json.loads((tmp_path / "clean" / "results.json").read_text())["overall"]
    noisy = json.loads((tmp_path / "mixture" / "results.json").read_text())["overall"]
    name = next(iter(clean))
    assert noisy[name]["MPJPE"] != clean[name]["MPJPE"]


def test_clean_fraction_leaves_that_share_of_the_batch_noise_free(mocap_file, tmp_path):
    from poselifter_core.train import Trainer

    keypoints = torch.as_tensor(load_pose_set(DataSpec(path=str(mocap_file), views=2)).keypoints_2d[:2000])
    shares = {}
    for fraction in (0.0, 0.3, 1.0):
        config = tiny_config(mocap_file, tmp_path / "c", epochs=1)
        config.val_data = None
        config.augment.input_noise = "mixture"
        config.augment.clean_fraction = fraction
        untouched = (Trainer(config, progress=False)._add_noise(keypoints) == keypoints).all(dim=(1, 2))
        shares[fraction] = untouched.float().mean().item()
    assert shares[0.0] == 0.0 and shares[1.0] == 1.0
    assert 0.25 < shares[0.3] < 0.35  # 2000 samples: the share within a few standard errors
    with pytest.raises(ValueError, match="clean_fraction"):
        from_dict(TrainConfig, {"augment": {"clean_fraction": 1.5}})


def test_noise_for_the_wrong_skeleton_is_rejected(tmp_path):
    from poselifter_core.noise.error_model import default_error_model
    from poselifter_core.train import AugmentConfig, make_noise

    model = default_error_model()
    model.skeleton = "coco17"
    model.save(tmp_path / "coco.yaml")
    with pytest.raises(ValueError, match="coco17"):
        make_noise(AugmentConfig(input_noise="mixture", error_model=str(tmp_path / "coco.yaml")), "h36m17")
    assert make_noise(AugmentConfig(), "h36m17") is None


def test_noise_experiment_table(mocap_file, tmp_path):
    from poselifter_core.experiments import run_noise

    config = tiny_config(mocap_file, tmp_path, epochs=1)
    config.val_data = None
    report = run_noise(config, tmp_path / "noise", progress=False)
    assert "trained on mixture noise, tested on limb swaps" in report
    assert "trained on ground-truth 2D, tested on clean 2D" in report and "synthetic" in report


def test_layout_perturbations_apply_the_conversion_rules(mocap_file):
    from poselifter_core.experiments import layout_perturbations
    from poselifter_core.skeleton import H36M17

    test = load_pose_set(DataSpec(kind="mocap", path=str(mocap_file), views=1, every=8))
    variants = layout_perturbations(test, head_ratios=(0.5, 0.9), hip_scales=(2.0,))
    assert list(variants) == ["exact training joints", "Head from the COCO rule (ratio 0.5)",
                              "Head from the COCO rule (ratio 0.9)", "Head rule (0.5) + hips 2x wider"]
    exact, head_rule, head_rule_09, wide = variants.values()
    assert np.array_equal(exact, test.keypoints_2d.astype(np.float64))
    h, n, t = H36M17.index("Head"), H36M17.index("Neck/Nose"), H36M17.index("Thorax")
    assert np.allclose(head_rule[:, h], exact[:, n] + 0.5 * (exact[:, n] - exact[:, t]))
    assert np.allclose(head_rule_09[:, h], exact[:, n] + 0.9 * (exact[:, n] - exact[:, t]))
    lhip, rhip = H36M17.index("LHip"), H36M17.index("RHip")
    assert np.allclose(wide[:, h], head_rule[:, h])  # the hip rows carry the first ratio's crown
    assert np.allclose(wide[:, lhip] - exact[:, 0], 2.0 * (exact[:, lhip] - exact[:, 0]))
    assert np.allclose(wide[:, rhip] - exact[:, 0], 2.0 * (exact[:, rhip] - exact[:, 0]))
    others = [j for j in range(17) if j not in (h, lhip, rhip)]
    assert np.array_equal(wide[:, others], exact[:, others])
    # Given 2D (e.g. noisy) is what the rules start from; the test set's own 2D is left alone.
    shifted = test.keypoints_2d + 7.0
    moved = layout_perturbations(test, head_ratios=(0.5,), hip_scales=(), keypoints=shifted)
    assert np.allclose(moved["exact training joints"], shifted)
    assert np.allclose(moved["Head from the COCO rule (ratio 0.5)"][:, h], head_rule[:, h] + 7.0)
    with pytest.raises(ValueError, match="at least one head ratio"):
        layout_perturbations(test, head_ratios=())


def test_mismatch_experiment_on_validation_with_chosen_ratios_and_noise(mocap_file, tmp_path, capsys):
    from runtime_fixtures import write_checkpoint

    config = tiny_config(mocap_file, tmp_path / "run", epochs=1)
    save_yaml(config, tmp_path / "c.yaml")
    checkpoint = write_checkpoint(tmp_path / "lifter.pt")
    common = ["experiment", "mismatch", "--config", str(tmp_path / "c.yaml"), "--checkpoint", str(checkpoint)]
    assert cli_main([*common, "--data", "val", "--head-ratio", "0.7", "0.85", "--output", str(tmp_path / "val")]) == 0
    report = (tmp_path / "val" / "mismatch.md").read_text()
    assert report.startswith("Val samples: ") and "exact projected 2D" in report
    assert "(ratio 0.7) |" in report and "(ratio 0.85) |" in report and "Head rule (0.7) + hips 1.25x wider" in report
    assert "least-squares ratio on this data's 2D" in report
    assert cli_main([*common, "--input-noise", "mixture", "--output", str(tmp_path / "test")]) == 0
    report = (tmp_path / "test" / "mismatch.md").read_text()
    assert report.startswith("Test samples: ") and "mixture noise (seed 0)" in report
    assert "(ratio 0.85) |" in report  # the default: cascade.head_ratio's
    rows = json.loads((tmp_path / "test" / "mismatch.json").read_text())["rows"]
    assert rows["exact training joints"] != rows["Head from the COCO rule (ratio 0.85)"]
    config.val_data = None
    save_yaml(config, tmp_path / "no_val.yaml")
    assert cli_main(["experiment", "mismatch", "--config", str(tmp_path / "no_val.yaml"), "--data", "val",
                     "--output", str(tmp_path / "x")]) == 2
    assert "mismatch --data val: the config has no val_data" in capsys.readouterr().err


def test_evaluate_names_every_lifter_even_in_folders_of_the_same_name(tmp_path):
    """runs/a/best/lifter.pt and runs/b/best/lifter.pt were both 'best/lifter.pt': one dict entry,
    so only the second was evaluated, silently; a.pt beside a.onnx keeps its short names."""
    import torch

    from poselifter_core.cli.evaluate import load_lifters

    from runtime_fixtures import write_checkpoint

    for run in ("a", "b"):
        (tmp_path / run / "best").mkdir(parents=True)
        write_checkpoint(tmp_path / run / "best" / "lifter.pt", width=8, seed=ord(run))
    paths = [str(tmp_path / run / "best" / "lifter.pt") for run in ("a", "b")]
    lifters = load_lifters(paths, torch.device("cpu"))
    assert len(lifters) == 2 and len(set(map(id, lifters.values()))) == 2, list(lifters)
    assert all(name.endswith("best/lifter.pt") for name in lifters)
    (tmp_path / "c").mkdir()
    write_checkpoint(tmp_path / "c" / "x.pt", width=8)
    assert list(load_lifters([str(tmp_path / "c" / "x.pt")], torch.device("cpu"))) == ["c/x"]
