"""Fold eval-mode BatchNorm1d layers into the Linear layer before them, for export.

The exporter keeps ``Linear -> BatchNorm -> ReLU`` as three ONNX nodes and ONNX Runtime does
not fuse a Gemm with a BatchNormalization, so the ReLU cannot be fused either. Folding gives
``Gemm -> ReLU``, which ONNX Runtime fuses into one kernel. In eval mode the result is the same
function: BN(Wx + b) = s * (Wx + b - mean) + beta with s = gamma / sqrt(var + eps).
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """An eval-mode copy of ``module`` where each (Linear, BatchNorm1d) pair inside an
    ``nn.Sequential`` is one Linear; the BatchNorm becomes an ``nn.Identity``."""
    folded = copy.deepcopy(module).eval()
    for sequential in [m for m in folded.modules() if isinstance(m, nn.Sequential)]:
        children = list(sequential.children())
        for index, (first, second) in enumerate(zip(children, children[1:])):
            if isinstance(first, nn.Linear) and isinstance(second, nn.BatchNorm1d) and second.track_running_stats:
                _fold_into(first, second)
                sequential[index + 1] = nn.Identity()
    return folded


@torch.no_grad()
def _fold_into(linear: nn.Linear, norm: nn.BatchNorm1d) -> None:
    scale = torch.rsqrt(norm.running_var + norm.eps)
    shift = -norm.running_mean * scale
    if norm.affine:
        scale, shift = scale * norm.weight, shift * norm.weight + norm.bias
    bias = linear.bias if linear.bias is not None else torch.zeros_like(norm.running_mean)
    linear.weight.mul_(scale[:, None])
    linear.bias = nn.Parameter(bias * scale + shift)
