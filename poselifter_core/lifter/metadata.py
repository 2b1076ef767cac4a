"""What an exported lifter declares, read without torch or ``onnx``: its input/output signature
and the configuration stored in its metadata (the run-time path on ONNX Runtime, #16)."""
from __future__ import annotations

import json
from pathlib import Path

from ..runtime.backend import BackendError, Signature
from ..runtime.onnx_metadata import META_FORMAT, read_metadata
from .config import LifterConfig, lifter_config_from_dict

LIFTER_SIGNATURE = Signature(("keypoints", "intrinsics", "visible"), ("raw",))
#: Lifters from before the visibility mask (pixel input space) have no ``visible`` input.
LEGACY_LIFTER_SIGNATURE = Signature(("keypoints", "intrinsics"), ("raw",))
META_LIFTER_CONFIG = "poselifter.lifter_config"
META_JOINTS = "poselifter.joint_names"
LIFTER_META_FORMAT = "1"


def lifter_signature(config: LifterConfig) -> Signature:
    """The ONNX inputs and outputs of a lifter with this config."""
    return LIFTER_SIGNATURE if config.takes_mask else LEGACY_LIFTER_SIGNATURE


def read_lifter_metadata(onnx_path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an exported lifter; :class:`BackendError` if unreadable or not a lifter."""
    props = read_metadata(onnx_path)
    if props.get(META_FORMAT) != LIFTER_META_FORMAT or META_LIFTER_CONFIG not in props:
        raise BackendError(f"{onnx_path} is not a lifter exported by 'poselifter export' (no {META_LIFTER_CONFIG} metadata)")
    return props


def read_lifter_config(onnx_path: str | Path) -> LifterConfig:
    """The lifter configuration stored in an exported lifter."""
    props = read_lifter_metadata(onnx_path)
    try:
        return lifter_config_from_dict(json.loads(props[META_LIFTER_CONFIG]))
    except (ValueError, TypeError) as error:
        raise BackendError(f"{onnx_path}: unreadable lifter config metadata: {error}") from error
