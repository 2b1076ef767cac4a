"""Training the integral-regression ResNet on labelled images (``poselifter train-2d``).

Defaults are section 5.1's: RMSprop, learning rate 1e-4 dropped to 1e-5 after 30 of 60 epochs,
batch 48, MSE heatmap + L1 coordinate loss, shift/flip/colour augmentation. (The paper starts
from ImageNet weights; none can be had here, so training starts from scratch.)
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..config import to_dict
from .integral_resnet import IntegralResNet, IntegralResNetConfig, integral_loss, save_checkpoint
from .keypoint_data import AugmentConfig, KeypointCropDataset, read_annotations

log = logging.getLogger(__name__)


@dataclass
class DataConfig:
    root: str = ""
    annotations: str = "annotations.json"
    #: fraction of people held out to report validation error (0: none)
    val_fraction: float = 0.1


@dataclass
class OptimConfig:
    lr: float = 1e-4
    lr_drop_epoch: int = 30
    lr_drop_factor: float = 0.1
    batch_size: int = 48
    epochs: int = 60


@dataclass
class Train2DConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: IntegralResNetConfig = field(default_factory=IntegralResNetConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    heatmap_sigma: float = 2.0
    heatmap_weight: float = 1.0
    coord_weight: float = 1.0
    crop_padding: float = 1.25
    output_dir: str = "runs/pose2d"
    seed: int = 0
    num_workers: int = 0
    #: "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
    device: str = "auto"


@dataclass
class EpochLog:
    epoch: int
    loss: float
    heatmap_mse: float
    coord_l1: float
    val_error_px: float | None
    seconds: float


def train_2d(config: Train2DConfig) -> list[EpochLog]:
    """Train, writing ``checkpoint.pt`` (the last epoch) and ``history.json`` to ``output_dir``.

    ``val_error_px`` is the mean keypoint error on held-out people, in crop pixels.
    """
    if not config.data.root:
        raise ValueError("data.root must name the dataset folder")
    if not 0 <= config.data.val_fraction < 1:
        raise ValueError(f"data.val_fraction must be in [0, 1), got {config.data.val_fraction}")
    torch.manual_seed(config.seed)
    skeleton, people = read_annotations(config.data.root, config.data.annotations)
    model_config = config.model
    if model_config.num_joints != skeleton.num_joints:
        raise ValueError(f"model.num_joints is {model_config.num_joints}, the data's {skeleton.name} has {skeleton.num_joints}")

    order = np.random.default_rng(config.seed).permutation(len(people))
    n_val = int(round(config.data.val_fraction * len(people)))
    val_people = [people[i] for i in order[:n_val]]
    train_people = [people[i] for i in order[n_val:]]
    common = dict(skeleton=skeleton, input_size=model_config.input_size, padding=config.crop_padding, sigma=config.heatmap_sigma)
    train_set = KeypointCropDataset(train_people, augment=config.augment, **common)
    loader = torch.utils.data.DataLoader(
        train_set, batch_size=config.optim.batch_size, shuffle=True, num_workers=config.num_workers, drop_last=False
    )
    val_loader = (
        torch.utils.data.DataLoader(KeypointCropDataset(val_people, augment=None, **common), batch_size=config.optim.batch_size)
        if val_people
        else None
    )

    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if config.device == "auto" else config.device)
    model = IntegralResNet(model_config).to(device)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=config.optim.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config.optim.lr_drop_epoch, config.optim.lr_drop_factor)
    out_dir = Path(config.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    history: list[EpochLog] = []
    for epoch in range(1, config.optim.epochs + 1):
        start = time.perf_counter()
        model.train()
        sums = np.zeros(3)
        count = 0
        for batch in loader:
            images, heatmaps, coords, visible = (t.to(device) for t in batch)
            pred_heatmaps, pred_coords = model(images)
            loss, parts = integral_loss(
                pred_heatmaps, pred_coords, heatmaps, coords, visible, config.heatmap_weight, config.coord_weight
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            sums += len(images) * np.array([float(loss.detach()), parts["heatmap_mse"], parts["coord_l1"]])
            count += len(images)
        scheduler.step()
        val_error = _validation_error(model, val_loader, device) if val_loader is not None else None
        entry = EpochLog(epoch, *(sums / count), val_error, time.perf_counter() - start)
        history.append(entry)
        log.info(
            "epoch %d/%d loss %.4f (heatmap %.5f, coords %.3f px)%s",
            epoch, config.optim.epochs, entry.loss, entry.heatmap_mse, entry.coord_l1,
            f" val error {val_error:.2f} px" if val_error is not None else "",
        )
        save_checkpoint(out_dir / "checkpoint.pt", model, skeleton, {"epoch": epoch, "train_config": to_dict(config)})
        (out_dir / "history.json").write_text(json.dumps([vars(h) for h in history], indent=1), encoding="utf-8")
    return history


@torch.no_grad()
def _validation_error(model: IntegralResNet, loader: torch.utils.data.DataLoader, device: torch.device) -> float:
    model.eval()
    total, count = 0.0, 0
    for images, _, coords, visible in loader:
        images, coords, visible = images.to(device), coords.to(device), visible.to(device)
        _, pred = model(images)
        errors = torch.linalg.norm(pred - coords, dim=-1)[visible]
        total += float(errors.sum())
        count += int(visible.sum())
    return total / max(count, 1)
