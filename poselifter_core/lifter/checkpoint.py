"""Checkpoints that carry everything needed to run them.

A checkpoint is a ``torch.save`` dict with: ``format`` (version of this layout), ``package_version``,
``lifter_config`` (architecture, skeleton, normalization constants, f0), ``state_dict``, and, for
training checkpoints, ``train_config``, ``epoch``, ``optimizer``, ``scheduler``, ``rng`` and
``metrics``. :func:`load_lifter` rebuilds the network from the file alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..config import to_dict
from ..integrity import verify_shipped
from .model import LifterConfig, PoseLifter, lifter_config_from_dict

FORMAT = 1


def save_checkpoint(path: str | Path, model: PoseLifter, **extra: Any) -> None:
    """Write atomically (temporary file + rename) so a crash never leaves a half-written checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "package_version": __version__,
        "lifter_config": to_dict(model.config),
        "state_dict": model.state_dict(),
        **extra,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    verify_shipped(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises several types for corrupt files
        raise ValueError(f"{path} is not a readable PoseLifter checkpoint: {error}") from error
    if not isinstance(payload, dict) or "lifter_config" not in payload or "state_dict" not in payload:
        raise ValueError(f"{path} is not a PoseLifter checkpoint (no lifter_config/state_dict)")
    if payload.get("format", 0) > FORMAT:
        raise ValueError(f"{path} has checkpoint format {payload['format']}; this version reads up to {FORMAT}")
    return payload


def checkpoint_config(payload: dict[str, Any]) -> LifterConfig:
    """The lifter config of a checkpoint dict (one written before #18 reads as a pixel-space model)."""
    return lifter_config_from_dict(payload["lifter_config"])


def load_lifter(path: str | Path, device: str | torch.device = "cpu") -> tuple[PoseLifter, dict[str, Any]]:
    """The network in eval mode on ``device``, and the whole checkpoint dict."""
    payload = read_checkpoint(path)
    model = PoseLifter(checkpoint_config(payload))
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval(), payload
