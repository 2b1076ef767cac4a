"""``poselifter train-2d`` on tiny generated images: the documented layout reads, the loss falls."""
import argparse
import colorsys
import json

import numpy as np
import pytest
import torch
import yaml
from PIL import Image, ImageDraw

from poselifter_core.cli import train_2d as cli
from poselifter_core.pose2d.integral_estimator import IntegralPoseEstimator
from poselifter_core.pose2d.keypoint_data import AugmentConfig, KeypointCropDataset, read_annotations
from poselifter_core.skeleton import COCO17

COLOURS = [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(j / 17, 1.0, 1.0)) for j in range(17)]


def make_dataset(root, count=16, size=96, seed=0):
    """Images with one 'person': 17 coloured discs (one colour per joint) at known points, a
    fixed layout in the box jittered by up to 6 px per joint."""
    rng = np.random.default_rng(seed)
    template = np.random.default_rng(1).uniform(12, 52, size=(17, 2))
    (root / "images").mkdir(parents=True)
    entries = []
    for i in range(count):
        image = Image.new("RGB", (size, size), (40, 40, 40))
        draw = ImageDraw.Draw(image)
        x0, y0 = rng.uniform(4, 20, size=2)
        box = [x0, y0, x0 + 64, y0 + 64]
        points = np.add(box[:2], template) + rng.uniform(-6, 6, size=(17, 2))
        for (x, y), colour in zip(points, COLOURS):
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        name = f"images/{i:03d}.png"
        image.save(root / name)
        keypoints = [[float(x), float(y), 2] for x, y in points]
        keypoints[16][2] = 0  # one unlabelled joint
        entries.append({"file": name, "people": [{"box": [float(v) for v in box], "keypoints": keypoints}]})
    (root / "annotations.json").write_text(json.dumps({"skeleton": "coco17", "images": entries}))


def test_dataset_samples_match_labels(tmp_path):
    make_dataset(tmp_path, count=2)
    skeleton, people = read_annotations(tmp_path)
    assert skeleton == COCO17 and len(people) == 2 and not people[0].labelled[16]
    plain = KeypointCropDataset(people, skeleton, input_size=64, augment=None, padding=1.0)
    image, heatmaps, coords, visible = plain[0]
    assert image.shape == (3, 64, 64) and heatmaps.shape == (17, 16, 16)
    assert not visible[16] and visible[:16].all()
    # Without augmentation the crop is the box itself (64 px box -> 64 px crop, scale 1).
    # The box edges map to the crop edges (-0.5 and 63.5 in pixel-centre coordinates).
    assert np.allclose(coords[:16].numpy(), people[0].keypoints[:16] - people[0].box[:2] - 0.5, atol=1e-4)
    # Flip-only augmentation swaps left and right joints and mirrors x.
    torch.manual_seed(0)
    flipped = KeypointCropDataset(people, skeleton, 64, AugmentConfig(shift_px=0, flip=True, color_jitter=0), 1.0)
    samples = [flipped[0] for _ in range(8)]
    mirrored = [s for s in samples if not torch.allclose(s[2], coords)]
    assert mirrored, "a flip should happen in 8 tries"
    flip = COCO17.flip_index
    assert np.allclose(mirrored[0][2].numpy()[flip][:15, 0], 63 - coords.numpy()[:15, 0], atol=1e-4)


def test_bad_datasets(tmp_path):
    with pytest.raises(FileNotFoundError, match="annotation"):
        read_annotations(tmp_path)
    (tmp_path / "annotations.json").write_text(json.dumps({"skeleton": "coco17", "images": [{"file": "x.png"}]}))
    with pytest.raises(FileNotFoundError, match="x.png"):
        read_annotations(tmp_path)
    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    bad = {"skeleton": "coco17", "images": [{"file": "x.png", "people": [{"box": [0, 0, 4, 4], "keypoints": [[1, 1, 2]]}]}]}
    (tmp_path / "annotations.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="17 x"):
        read_annotations(tmp_path)


def test_train_2d_command_loss_falls(tmp_path, capsys):
    make_dataset(tmp_path / "data")
    config = {
        "data": {"root": str(tmp_path / "data"), "val_fraction": 0.0},
        "model": {"depth": 10, "base_width": 8, "deconv_channels": 32, "input_size": 64},
        "optim": {"lr": 2e-3, "batch_size": 4, "epochs": 8, "lr_drop_epoch": 100},
        "augment": {"shift_px": 2.0, "flip": False, "color_jitter": 0.2},
        "heatmap_weight": 100.0,
        "coord_weight": 0.1,
        "device": "cpu",
    }
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(config))
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["train-2d", "--config", str(tmp_path / "cfg.yaml"), "--output-dir", str(tmp_path / "run")])
    assert args.func(args) == 0
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    losses = [h["loss"] for h in history]
    assert len(losses) == 8
    # Measured: loss 5.3 -> 1.4, heatmap MSE 0.038 -> 0.009, coordinate L1 14 -> 5.4 px.
    assert np.mean(losses[-2:]) < 0.5 * losses[0], losses
    assert history[-1]["heatmap_mse"] < 0.5 * history[0]["heatmap_mse"]
    assert history[-1]["coord_l1"] < 0.6 * history[0]["coord_l1"]
    estimator = IntegralPoseEstimator.from_checkpoint(tmp_path / "run" / "checkpoint.pt", padding=1.0)
    image = np.asarray(Image.open(tmp_path / "data" / "images" / "000.png").convert("RGB"))
    assert len(estimator.estimate(image, np.array([[4, 4, 68, 68]]))) == 1
    assert "loss" in capsys.readouterr().out


def test_example_config_loads():
    from pathlib import Path

    from poselifter_core.config import load_yaml
    from poselifter_core.pose2d.training import Train2DConfig

    config = load_yaml(Train2DConfig, Path(__file__).parent.parent / "config" / "train_2d_example.yaml")
    assert config.model.depth == 50 and config.optim.lr == 1e-4 and config.augment.color_jitter == 0.4
