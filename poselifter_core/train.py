"""Training of the lifter (paper section 5.1): RMSprop, lr 1e-3 -> 1e-4 after 2/3 of the epochs,
batch 64, random horizontal flips, optional synthetic 2D noise, eq. 8 loss.

Runs on CUDA when present, else on the CPU; several GPUs (or CPU processes) with
``torchrun --nproc_per_node N -m poselifter_core train ...`` (DistributedDataParallel, each
rank taking a disjoint shard of every epoch's permutation; rank 0 logs and writes checkpoints).
"""
from __future__ import annotations

import csv
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from .config import save_yaml, to_dict
from .data.flip import flip_samples
from .data.missingness import Missingness, MissingnessConfig
from .data.pose_set import PoseSet
from .data.sources import DataSpec, load_pose_set
from .lifter.checkpoint import read_checkpoint, save_checkpoint
from .lifter.decoding import decode
from .lifter.loss import lifter_targets, poselifter_loss
from .lifter.model import LifterConfig, PoseLifter
from .viz.training_curves import plot_training_curves

log = logging.getLogger(__name__)

NoiseFn = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]


@dataclass
class OptimConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    lr_final: float = 1e-4
    lr_drop_fraction: float = 2 / 3  # the paper drops at epoch 200 of 300
    pose_weight: float = 1.0  # lambda of eq. 8 (see lifter.loss for units)


@dataclass
class AugmentConfig:
    flip_probability: float = 0.5
    resample_views_each_epoch: bool = True  # fresh rig cameras every epoch (mocap data only)
    input_noise: str = "none"  # none | gaussian | mixture (2D error model synthesis)
    error_model: str | None = None  # error model YAML; None = the shipped default
    outlier_mode: str = "mixture"  # mixture | paper-code
    # share of each batch's samples left noise-free (exact 2D): without any, the lifter learns that
    # 2D poses come widened by detector noise and places noise-free 2D too far (docs/model_card.md)
    clean_fraction: float = 0.0
    # fresh missing joints per batch (data.missingness); null: only the rig's border cut. Lifters
    # with the pixel input space (no mask) ignore masks and see every joint.
    missing: MissingnessConfig | None = field(default_factory=MissingnessConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.clean_fraction <= 1.0:
            raise ValueError(f"augment.clean_fraction must be in [0, 1], got {self.clean_fraction}")


@dataclass
class TrainConfig:
    lifter: LifterConfig = field(default_factory=LifterConfig)
    train_data: DataSpec = field(default_factory=DataSpec)
    val_data: DataSpec | None = None
    test_data: DataSpec | None = None  # read by `poselifter evaluate --config`
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0
    output_dir: str = "runs/lifter"
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    eval_batch_size: int = 4096


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    return device


def make_noise(config: AugmentConfig, skeleton_name: str) -> NoiseFn | None:
    if config.input_noise == "none":
        return None
    from .noise.error_model import ErrorModel, default_error_model  # only needed when noise is requested
    from .noise.synthesis import make_input_noise

    model = ErrorModel.load(config.error_model) if config.error_model else default_error_model()
    if model.skeleton != skeleton_name:
        raise ValueError(f"error model is for skeleton {model.skeleton!r}, the lifter uses {skeleton_name!r}")
    return make_input_noise(config.input_noise, model, config.outlier_mode)


class _Tensors:
    """A PoseSet as device tensors; ``with_mask`` False marks every joint observed (pixel-space lifters)."""

    def __init__(self, pose_set: PoseSet, device: torch.device, with_mask: bool = True) -> None:
        self.pose_set = pose_set
        self.keypoints = torch.as_tensor(pose_set.keypoints_2d, device=device)
        self.joints = torch.as_tensor(pose_set.joints_3d, device=device)
        self.intrinsics = torch.as_tensor(pose_set.intrinsics, dtype=torch.float32, device=device)
        visible = pose_set.visible if with_mask else np.ones_like(pose_set.visible)
        self.visible = torch.as_tensor(visible, device=device)

    def __len__(self) -> int:
        return len(self.keypoints)


class Trainer:
    def __init__(self, config: TrainConfig, resume: str | None = None, progress: bool = True) -> None:
        self.config = config
        self.rank, self.world = _init_distributed()
        self.device = resolve_device(config.device)
        if self.device.type == "cuda" and self.world > 1:
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.manual_seed(config.seed)
        self.model = PoseLifter(config.lifter).to(self.device)
        self.skeleton = self.model.skeleton
        self.net = DistributedDataParallel(self.model) if self.world > 1 else self.model
        self.optimizer = torch.optim.RMSprop(self.model.parameters(), lr=config.optim.lr)
        drop_epoch = max(1, round(config.optim.epochs * config.optim.lr_drop_fraction))
        self.scheduler = torch.optim.lr_scheduler.MultiStepLR(
            self.optimizer, milestones=[drop_epoch], gamma=config.optim.lr_final / config.optim.lr)
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed * 1000 + self.rank)
        self.noise = make_noise(config.augment, self.skeleton.name)
        self.with_mask = config.lifter.takes_mask
        self.missing = (Missingness(config.augment.missing, self.device)
                        if config.augment.missing is not None and self.with_mask else None)
        self.flip_index = torch.as_tensor(self.skeleton.flip_index, device=self.device)
        self.output_dir = Path(config.output_dir)
        self.progress = progress and self.rank == 0
        self.start_epoch = 0
        self.best = float("inf")
        if resume:
            self._resume(resume)
        self.val = _Tensors(load_pose_set(config.val_data), self.device, self.with_mask) if config.val_data else None

    def _resume(self, path: str) -> None:
        payload = read_checkpoint(path)
        if "optimizer" not in payload:
            raise ValueError(f"{path} is not a training checkpoint (no optimizer state); use checkpoint_last.pt")
        self.model.load_state_dict(payload["state_dict"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["scheduler"])
        self.generator.set_state(payload["generator"])
        torch.set_rng_state(payload["torch_rng"])
        self.start_epoch = payload["epoch"] + 1
        self.best = payload.get("best", float("inf"))
        log.info("resumed from %s at epoch %d", path, self.start_epoch)

    def run(self) -> Path:
        cfg = self.config
        if self.rank == 0:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            save_yaml(cfg, self.output_dir / "config.yaml")
        train = None
        for epoch in range(self.start_epoch, cfg.optim.epochs):
            if train is None or (cfg.augment.resample_views_each_epoch and cfg.train_data.kind == "mocap"):
                train = _Tensors(load_pose_set(cfg.train_data, seed_offset=epoch), self.device, self.with_mask)
            started = time.perf_counter()
            stats = self._train_epoch(train, epoch)
            stats["samples_per_s"] = len(train) / (time.perf_counter() - started)
            stats["lr"] = self.optimizer.param_groups[0]["lr"]
            self.scheduler.step()
            if self.val is not None:
                stats.update(self._validate())
            if self.rank == 0:
                self._write_epoch(epoch, stats)
        if self.world > 1:
            dist.barrier()  # no rank tears the group down while another still uses it (gloo aborts otherwise)
            dist.destroy_process_group()
        if self.rank == 0 and (self.output_dir / "metrics.csv").exists():
            plot_training_curves(self.output_dir / "metrics.csv", self.output_dir / "training_curves.png")
        best = self.output_dir / "checkpoint_best.pt"
        return best if best.exists() else self.output_dir / "checkpoint_last.pt"

    def _train_epoch(self, data: _Tensors, epoch: int) -> dict[str, float]:
        cfg = self.config
        self.net.train()
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(cfg.seed + epoch))
        order = order[self.rank::self.world].to(self.device)
        batch = cfg.optim.batch_size
        steps = len(order) // batch  # drop the last partial batch: BatchNorm needs > 1 sample
        totals = torch.zeros(3, device=self.device)
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{cfg.optim.epochs}", disable=not self.progress,
                   mininterval=1.0, leave=False)
        for step in bar:
            idx = order[step * batch:(step + 1) * batch]
            keypoints, joints, intrinsics = data.keypoints[idx], data.joints[idx], data.intrinsics[idx]
            mask = torch.rand(len(idx), generator=self.generator, device=self.device) < cfg.augment.flip_probability
            keypoints, joints, visible = flip_samples(keypoints, joints, intrinsics, self.flip_index, mask,
                                                      data.visible[idx])
            if self.missing is not None:
                visible = self.missing(visible, self.generator)
            if self.noise is not None:
                keypoints = self._add_noise(keypoints)
            visible = visible.float()
            target = lifter_targets(joints, keypoints, intrinsics, visible, cfg.lifter, self.skeleton.root)
            raw = self.net(keypoints, intrinsics, visible)
            loss, depth_term, pose_term = poselifter_loss(raw, target, cfg.optim.pose_weight)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            totals += torch.stack([loss.detach(), depth_term.detach(), pose_term.detach()])
            if self.progress and step % 50 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
        totals /= max(steps, 1)
        if self.world > 1:
            dist.all_reduce(totals)
            totals /= self.world
        return {"train_loss": totals[0].item(), "train_depth_l1": totals[1].item(), "train_pose_l1": totals[2].item()}

    def _add_noise(self, keypoints: torch.Tensor) -> torch.Tensor:
        """Synthetic 2D errors on every sample but a random ``clean_fraction`` of them."""
        assert self.noise is not None
        noisy = self.noise(keypoints, self.generator)
        share = self.config.augment.clean_fraction
        if share <= 0:  # no extra random draw: runs without clean samples replay as before
            return noisy
        clean = torch.rand(len(keypoints), generator=self.generator, device=self.device) < share
        return torch.where(clean[:, None, None], keypoints, noisy)

    @torch.no_grad()
    def _validate(self) -> dict[str, float]:
        """Loss, MPJPE and MRPE (mm) on the validation set, decoded as at inference (:func:`decode`)."""
        self.model.eval()
        assert self.val is not None
        val, root, step = self.val, self.skeleton.root, self.config.eval_batch_size
        losses, raws = [], []
        for start in range(0, len(val), step):
            part = slice(start, start + step)
            kp, k, visible = val.keypoints[part], val.intrinsics[part], val.visible[part].float()
            raw = self.model(kp, k, visible)
            target = lifter_targets(val.joints[part], kp, k, visible, self.config.lifter, root)
            losses.append(poselifter_loss(raw, target, self.config.optim.pose_weight)[0] * len(kp))
            raws.append(raw.cpu().numpy())
        data = val.pose_set
        visible = val.visible.cpu().numpy()
        out = decode(np.concatenate(raws), data.keypoints_2d, data.intrinsics, visible, self.config.lifter, self.skeleton)
        joints = data.joints_3d.astype(np.float64)
        relative = joints - joints[:, root:root + 1]
        return {
            "val_loss": (torch.stack(losses).sum() / len(val)).item(),
            "val_mpjpe_mm": float(np.linalg.norm(out.relative - relative, axis=-1).mean()),
            "val_mrpe_mm": float(np.linalg.norm(out.root - joints[:, root], axis=-1).mean()),
        }

    def _write_epoch(self, epoch: int, stats: dict[str, float]) -> None:
        path = self.output_dir / "metrics.csv"
        row = {"epoch": epoch + 1, **stats}
        new = not path.exists() or epoch == 0
        with path.open("w" if new else "a", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        score = stats.get("val_loss", stats["train_loss"])
        extra = {"train_config": to_dict(self.config), "epoch": epoch, "metrics": stats}
        if score < self.best:
            self.best = score
            save_checkpoint(self.output_dir / "checkpoint_best.pt", self.model, **extra)
        save_checkpoint(self.output_dir / "checkpoint_last.pt", self.model, **extra, best=self.best,
                        optimizer=self.optimizer.state_dict(), scheduler=self.scheduler.state_dict(),
                        generator=self.generator.get_state(), torch_rng=torch.get_rng_state())
        log.info("epoch %d/%d %s", epoch + 1, self.config.optim.epochs,
                 " ".join(f"{k}={v:.4g}" for k, v in stats.items()))


def _init_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


def train(config: TrainConfig, resume: str | None = None, progress: bool = True) -> Path:
    """Train and return the path of the best checkpoint (by validation loss, else training loss)."""
    np.random.seed(config.seed)
    return Trainer(config, resume, progress).run()
