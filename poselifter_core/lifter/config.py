"""The lifter's configuration: architecture and input/output encodings (stored in every
checkpoint and ONNX export). Needs no torch: the run-time path reads it from an ONNX file."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import from_dict

DEPTH_OUTPUTS = ("log_size", "canonical", "metres")

#: What a lifter config written before #18 (no ``input_space`` key) means: the paper's pixel-space
#: input without a mask and the canonical depth output (or metres for the raw-depth ablation).
LEGACY_SETTINGS = {"input_space": "pixels", "depth_output": "canonical"}


@dataclass
class LifterConfig:
    """Architecture and input/output-encoding settings; stored in every checkpoint and ONNX export."""

    skeleton: str = "h36m17"
    width: int = 1024  # 4096 in the paper; 1024 runs in real time on a CPU
    num_blocks: int = 2
    dropout: float = 0.5
    features: str = "both"  # none | location | scale | both (Table 2 ablations)
    input_space: str = "rays"  # rays (focal-normalized, visibility mask) | pixels (before #18, no mask)
    depth_output: str = "log_size"  # log_size ln(Z sigma) | canonical (eq. 7, f0) | metres (Table 6 ablation)
    f0: float = 1000.0  # reference focal length (px) of the canonical depth output
    location_unit_px: float = 1000.0  # pixels input space only
    scale_unit_px: float = 100.0  # pixels input space only

    def __post_init__(self) -> None:
        if self.depth_output not in DEPTH_OUTPUTS:
            raise ValueError(f"depth_output must be one of {DEPTH_OUTPUTS}, got {self.depth_output!r}")

    @property
    def takes_mask(self) -> bool:
        """Whether the network has the ``visible`` input (missing joints allowed)."""
        return self.input_space == "rays"


def lifter_config_from_dict(values: dict[str, Any]) -> LifterConfig:
    """A stored lifter config (checkpoint or ONNX metadata); the one place where a config written
    before #18 gets its meaning (:data:`LEGACY_SETTINGS`; ``canonical_depth: false`` -> metres)."""
    values = dict(values)
    if "input_space" not in values:
        canonical = values.pop("canonical_depth", True)
        values = {**LEGACY_SETTINGS, **values, "depth_output": "canonical" if canonical else "metres"}
    return from_dict(LifterConfig, values)
