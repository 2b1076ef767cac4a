"""Labelled-image datasets for training the 2D estimator, with the paper's augmentations.

Layout (documented in ``docs/train_2d.md``): a folder holding ``annotations.json`` and the
images it names (any format Pillow reads, paths relative to the folder)::

    {
      "skeleton": "coco17",                    # or "h36m17": the keypoint order below
      "images": [
        {"file": "images/000001.jpg",
         "people": [
           {"box": [x1, y1, x2, y2],           # pixels, pixel centres at integers
            "keypoints": [[x, y, v], ...]}     # one per joint; v = 0 not labelled, > 0 labelled
         ]}
      ]
    }

Every labelled person is one training sample: the box is cropped like at inference
(:class:`.transforms.CropTransform`), then section 5.1's augmentations are applied: a random
shift of up to ``shift_px`` crop pixels, a random horizontal flip (left/right joints swapped),
and colour jitter scaling each channel by a factor in ``[1 - c, 1 + c]``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..skeleton import Skeleton, get_skeleton
from .integral_resnet import gaussian_heatmaps, normalize_crops
from .transforms import CropTransform


@dataclass
class AugmentConfig:
    """Section 5.1's augmentations; all off gives the inference-time crop."""

    shift_px: float = 4.0
    flip: bool = True
    color_jitter: float = 0.4


@dataclass(frozen=True)
class PersonLabel:
    image_path: Path
    box: np.ndarray  # (4,)
    keypoints: np.ndarray  # (J, 2)
    labelled: np.ndarray  # (J,) bool


def read_annotations(root: str | Path, annotations: str = "annotations.json") -> tuple[Skeleton, list[PersonLabel]]:
    """Read and check a dataset folder; errors name the file and the entry at fault."""
    root = Path(root)
    path = root / annotations
    if not path.is_file():
        raise FileNotFoundError(f"no annotation file at {path}")
    with path.open(encoding="utf-8") as stream:
        data = json.load(stream)
    if not isinstance(data, dict) or "images" not in data or "skeleton" not in data:
        raise ValueError(f"{path}: expected a mapping with 'skeleton' and 'images'")
    skeleton = get_skeleton(data["skeleton"])
    people: list[PersonLabel] = []
    for i, entry in enumerate(data["images"]):
        image_path = root / entry["file"]
        if not image_path.is_file():
            raise FileNotFoundError(f"{path}: images[{i}] names {image_path}, which does not exist")
        for k, person in enumerate(entry.get("people", [])):
            where = f"{path}: images[{i}].people[{k}]"
            box = np.asarray(person["box"], dtype=np.float64)
            points = np.asarray(person["keypoints"], dtype=np.float64)
            if box.shape != (4,) or not (box[2] > box[0] and box[3] > box[1]):
                raise ValueError(f"{where}: box must be [x1, y1, x2, y2] with x2 > x1, y2 > y1, got {person['box']}")
            if points.shape != (skeleton.num_joints, 3):
                raise ValueError(f"{where}: keypoints must be {skeleton.num_joints} x [x, y, v], got shape {points.shape}")
            labelled = points[:, 2] > 0
            if labelled.any():
                people.append(PersonLabel(image_path, box, points[:, :2], labelled))
    if not people:
        raise ValueError(f"{path}: no labelled person found")
    return skeleton, people


class KeypointCropDataset(torch.utils.data.Dataset):
    """Samples ``(image (3, S, S), heatmaps (J, S/4, S/4), coords (J, 2), visible (J,))``."""

    def __init__(
        self,
        people: list[PersonLabel],
        skeleton: Skeleton,
        input_size: int,
        augment: AugmentConfig | None = None,
        padding: float = 1.25,
        sigma: float = 2.0,
    ) -> None:
        self.people = people
        self.skeleton = skeleton
        self.input_size = input_size
        self.augment = augment
        self.padding = padding
        self.sigma = sigma

    def __len__(self) -> int:
        return len(self.people)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        label = self.people[index]
        with Image.open(label.image_path) as image:
            pixels = np.asarray(image.convert("RGB"))
        size = self.input_size
        transform = CropTransform.from_box(label.box, (size, size), self.padding)
        flip = False
        # Drawn from torch's generator, which DataLoader seeds per worker (and the trainer seeds).
        rng = np.random.default_rng(int(torch.randint(2**31 - 1, ())))
        if self.augment is not None:
            shift = rng.uniform(-self.augment.shift_px, self.augment.shift_px, size=2)
            transform = CropTransform(transform.scale, tuple(np.add(transform.offset, shift)), transform.output_size)
            flip = self.augment.flip and bool(rng.random() < 0.5)
        crop = transform.apply(pixels)
        keypoints = transform.to_output(label.keypoints)
        labelled = label.labelled.copy()
        if flip:
            crop = crop[:, ::-1]
            keypoints[:, 0] = size - 1 - keypoints[:, 0]
            keypoints, labelled = keypoints[self.skeleton.flip_index], labelled[self.skeleton.flip_index]
        if self.augment is not None and self.augment.color_jitter > 0:
            c = self.augment.color_jitter
            crop = np.clip(crop * rng.uniform(1 - c, 1 + c, size=3), 0, 255).astype(np.uint8)
        inside = np.all((keypoints >= -0.5) & (keypoints <= size - 0.5), axis=1)
        visible = labelled & inside
        keypoints[~visible] = np.nan
        heatmaps = gaussian_heatmaps(keypoints, size // 4, 4, self.sigma)
        return (
            normalize_crops(crop[None])[0],
            torch.from_numpy(heatmaps),
            torch.from_numpy(np.nan_to_num(keypoints).astype(np.float32)),
            torch.from_numpy(visible),
        )
