"""Any top-down ONNX keypoint model a user supplies, described by a small YAML file.

Example description (``model`` is relative to the YAML file)::

    model: hrnet_w32_coco_256x192.onnx
    skeleton: coco17            # keypoint layout of the outputs: coco17 or h36m17
    crop_padding: 1.25          # person box -> crop context
    input:
      width: 192
      height: 256
      layout: nchw              # nchw or nhwc
      dtype: float32            # float32 (normalised with mean/std) or uint8 (raw pixels)
      channel_order: rgb        # rgb or bgr
      mean: [123.675, 116.28, 103.53]   # 0-255 units
      std: [58.395, 57.12, 57.375]
    output:
      index: 0                  # which of the model's outputs holds the keypoints
      kind: heatmaps            # heatmaps (N, J, h, w) or coordinates (N, J, 2 or 3)
      decode: argmax            # heatmaps: argmax (+ quarter-cell refinement) or soft_argmax
      units: pixels             # coordinates: pixels of the network input, or normalized [0, 1]
      order: xy                 # coordinates: xy or yx; a third column is the score

Heatmap cells are taken to tile the input evenly (cell ``j`` centred on input pixel
``stride * (j + 0.5) - 0.5``); a heatmap's peak value (clipped to [0, 1]) is the joint's score.
Normalised coordinates are edge-based (``x_px = x * width - 0.5``). A coordinate model with no
score column gets score 1 for every joint.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..config import load_yaml
from ..runtime.factory import create_backend
from ..skeleton import get_skeleton
from .integral_resnet import IMAGENET_MEAN, IMAGENET_STD, cells_to_pixels, soft_argmax
from .topdown import TopDownEstimator


@dataclass
class OnnxInputSpec:
    width: int = 256
    height: int = 256
    layout: str = "nchw"
    dtype: str = "float32"
    channel_order: str = "rgb"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


@dataclass
class OnnxOutputSpec:
    index: int = 0
    kind: str = "heatmaps"
    decode: str = "argmax"
    units: str = "pixels"
    order: str = "xy"


@dataclass
class OnnxKeypointSpec:
    """The YAML description of a user's ONNX keypoint model (see the module docstring)."""

    model: str = ""
    skeleton: str = "coco17"
    crop_padding: float = 1.25
    input: OnnxInputSpec = field(default_factory=OnnxInputSpec)
    output: OnnxOutputSpec = field(default_factory=OnnxOutputSpec)

    def check(self) -> None:
        choices = {
            "input.layout": (self.input.layout, ("nchw", "nhwc")),
            "input.dtype": (self.input.dtype, ("float32", "uint8")),
            "input.channel_order": (self.input.channel_order, ("rgb", "bgr")),
            "output.kind": (self.output.kind, ("heatmaps", "coordinates")),
            "output.decode": (self.output.decode, ("argmax", "soft_argmax")),
            "output.units": (self.output.units, ("pixels", "normalized")),
            "output.order": (self.output.order, ("xy", "yx")),
        }
        for name, (value, allowed) in choices.items():
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if not self.model:
            raise ValueError("the description must name the ONNX file in 'model'")
        if min(self.input.width, self.input.height) < 1:
            raise ValueError(f"input width and height must be positive, got {self.input.width}x{self.input.height}")
        if len(self.input.mean) != 3 or len(self.input.std) != 3 or min(self.input.std) <= 0:
            raise ValueError(f"input.mean and input.std need 3 values, std > 0; got {self.input.mean}, {self.input.std}")


def decode_heatmaps_argmax(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, J, h, w)`` -> cell coordinates ``(N, J, 2)`` of each peak, moved a quarter cell
    toward the higher neighbour (the usual sub-cell refinement), and peak values ``(N, J)``."""
    n, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, j, -1)
    peak = flat.argmax(-1)
    ys, xs = np.divmod(peak, w)
    coords = np.stack([xs, ys], axis=-1).astype(np.float64)
    ni, ji = np.meshgrid(np.arange(n), np.arange(j), indexing="ij")
    inner_x = (xs > 0) & (xs < w - 1)
    inner_y = (ys > 0) & (ys < h - 1)
    dx = heatmaps[ni, ji, ys, np.minimum(xs + 1, w - 1)] - heatmaps[ni, ji, ys, np.maximum(xs - 1, 0)]
    dy = heatmaps[ni, ji, np.minimum(ys + 1, h - 1), xs] - heatmaps[ni, ji, np.maximum(ys - 1, 0), xs]
    coords[..., 0] += np.where(inner_x, 0.25 * np.sign(dx), 0.0)
    coords[..., 1] += np.where(inner_y, 0.25 * np.sign(dy), 0.0)
    return coords, flat.max(-1).astype(np.float64)


class OnnxKeypointModel(TopDownEstimator):
    """A top-down estimator running a user's ONNX model as its :class:`OnnxKeypointSpec` says.

    The model needs one image input, of the element type ``input.dtype`` casts to; it runs on the
    ``backend`` setting (ONNX Runtime, or TensorRT when only its batch axis is dynamic).
    """

    def __init__(self, spec: OnnxKeypointSpec, base_dir: str | Path = ".", num_threads: int = 0,
                 backend: str = "auto") -> None:
        spec.check()
        super().__init__(get_skeleton(spec.skeleton), (spec.input.width, spec.input.height), spec.crop_padding)
        self.spec = spec
        model_path = Path(spec.model)
        self.backend = create_backend(backend, model_path if model_path.is_absolute() else Path(base_dir) / model_path,
                                      threads=num_threads or None, model_name=f"ONNX keypoint model {model_path.name}")
        if len(self.backend.input_names) != 1:
            raise ValueError(f"a keypoint model has one image input, this one has {list(self.backend.input_names)}")
        self.input_name = self.backend.input_names[0]
        declared = self.backend.signature.dtypes[0]
        if not np.can_cast(np.dtype(spec.input.dtype), declared, casting="same_kind"):
            raise ValueError(f"input.dtype is {spec.input.dtype} but the model's input {self.input_name!r} is {declared}")
        if not 0 <= spec.output.index < len(self.backend.output_names):
            raise ValueError(f"output.index {spec.output.index} but the model has {len(self.backend.output_names)} output(s)")
        self.output_name = self.backend.output_names[spec.output.index]

    @classmethod
    def from_yaml(cls, path: str | Path, num_threads: int = 0, backend: str = "auto") -> "OnnxKeypointModel":
        path = Path(path)
        return cls(load_yaml(OnnxKeypointSpec, path), base_dir=path.parent, num_threads=num_threads, backend=backend)

    def _network_input(self, crops: np.ndarray) -> np.ndarray:
        x = crops[..., ::-1] if self.spec.input.channel_order == "bgr" else crops
        if self.spec.input.dtype == "float32":
            x = (x.astype(np.float32) - np.float32(self.spec.input.mean)) / np.float32(self.spec.input.std)
        if self.spec.input.layout == "nchw":
            x = x.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(x)

    def predict_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        output = self.backend.run({self.input_name: self._network_input(crops)})[self.output_name]
        joints = self.skeleton.num_joints
        if self.spec.output.kind == "heatmaps":
            keypoints, scores = self._from_heatmaps(np.asarray(output, dtype=np.float64), joints)
        else:
            keypoints, scores = self._from_coordinates(np.asarray(output, dtype=np.float64), joints)
        return keypoints, scores, scores.mean(axis=1)

    def _from_heatmaps(self, heatmaps: np.ndarray, joints: int) -> tuple[np.ndarray, np.ndarray]:
        if heatmaps.ndim != 4 or heatmaps.shape[1] != joints:
            raise ValueError(f"heatmap output must be (N, {joints}, h, w), got {heatmaps.shape}")
        if self.spec.output.decode == "soft_argmax":
            cells = soft_argmax(torch.from_numpy(heatmaps)).numpy()
            scores = heatmaps.reshape(*heatmaps.shape[:2], -1).max(-1)
        else:
            cells, scores = decode_heatmaps_argmax(heatmaps)
        stride = np.array([self.input_size[0] / heatmaps.shape[3], self.input_size[1] / heatmaps.shape[2]])
        return cells_to_pixels(cells, stride), np.clip(scores, 0.0, 1.0)

    def _from_coordinates(self, coords: np.ndarray, joints: int) -> tuple[np.ndarray, np.ndarray]:
        if coords.ndim != 3 or coords.shape[1] != joints or coords.shape[2] not in (2, 3):
            raise ValueError(f"coordinate output must be (N, {joints}, 2 or 3), got {coords.shape}")
        points = coords[..., :2] if self.spec.output.order == "xy" else coords[..., [1, 0]]
        if self.spec.output.units == "normalized":
            points = points * np.array(self.input_size, dtype=np.float64) - 0.5
        scores = coords[..., 2] if coords.shape[2] == 3 else np.ones(coords.shape[:2])
        return points, np.clip(scores, 0.0, 1.0)
