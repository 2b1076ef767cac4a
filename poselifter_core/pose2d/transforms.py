"""Image -> network-input warps (letterbox, person-box crop) with exact point inverses.

Both warps are the same kind of map: a uniform scale and a shift, ``out = scale * in + offset``
on pixel coordinates (pixel centres at integers, see :mod:`.base`). A uniform scale keeps the
aspect ratio, which is what the paper's 256x256 crop and MoveNet's letterbox need; no rotation is
needed because the paper's augmentations (section 5.1: shift, flip, colour) have none. Because
the map is affine and stored exactly, :meth:`CropTransform.to_input` undoes
:meth:`CropTransform.to_output` to floating-point precision.

Resampling uses Pillow's antialiased bilinear resize, so downscaling a large frame does not
alias; output pixels whose centres fall outside the image are black.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .base import check_image


@dataclass(frozen=True)
class CropTransform:
    """``out = scale * in + offset`` from image pixels to an ``output_size`` (width, height) image."""

    scale: float
    offset: tuple[float, float]
    output_size: tuple[int, int]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be positive and finite, got {self.scale}")
        if len(self.output_size) != 2 or min(self.output_size) < 1:
            raise ValueError(f"output_size must be (width, height) >= 1, got {self.output_size}")

    @classmethod
    def from_box(
        cls, box: np.ndarray | list[float], output_size: tuple[int, int] = (256, 256), padding: float = 1.25
    ) -> "CropTransform":
        """Crop around a person box: the box, grown to the output's aspect ratio and then by
        ``padding``, fills the output, centred."""
        x1, y1, x2, y2 = (float(v) for v in box)
        width, height = x2 - x1, y2 - y1
        if width <= 0 or height <= 0:
            raise ValueError(f"box must have positive width and height, got {[x1, y1, x2, y2]}")
        if padding <= 0:
            raise ValueError(f"padding must be positive, got {padding}")
        out_w, out_h = output_size
        aspect = out_w / out_h
        if width / height > aspect:
            height = width / aspect
        else:
            width = height * aspect
        scale = out_w / (width * padding)
        cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
        offset = ((out_w - 1) / 2.0 - scale * cx, (out_h - 1) / 2.0 - scale * cy)
        return cls(scale, offset, (int(out_w), int(out_h)))

    @classmethod
    def letterbox(cls, image_size: tuple[int, int], long_side: int = 256, multiple: int = 32) -> "CropTransform":
        """Scale an image of ``image_size`` (width, height) so its long side is ``long_side``,
        then pad right and bottom to multiples of ``multiple`` (what MoveNet takes)."""
        width, height = image_size
        if width < 1 or height < 1:
            raise ValueError(f"image size must be positive, got {image_size}")
        if long_side < multiple or long_side % multiple:
            raise ValueError(f"long_side must be a positive multiple of {multiple}, got {long_side}")
        scale = long_side / max(width, height)
        out_w = multiple * math.ceil(width * scale / multiple - 1e-9)
        out_h = multiple * math.ceil(height * scale / multiple - 1e-9)
        # The image's outer edges (-0.5 and W - 0.5) map to -0.5 and W * scale - 0.5.
        shift = 0.5 * scale - 0.5
        return cls(scale, (shift, shift), (out_w, out_h))

    @property
    def matrix(self) -> np.ndarray:
        """The 2x3 affine matrix of image -> output pixel coordinates."""
        return np.array([[self.scale, 0.0, self.offset[0]], [0.0, self.scale, self.offset[1]]])

    def to_output(self, points: np.ndarray) -> np.ndarray:
        """Image pixel coordinates ``(..., 2)`` -> output pixel coordinates."""
        return np.asarray(points, dtype=np.float64) * self.scale + np.asarray(self.offset)

    def to_input(self, points: np.ndarray) -> np.ndarray:
        """Output pixel coordinates ``(..., 2)`` -> image pixel coordinates (exact inverse)."""
        return (np.asarray(points, dtype=np.float64) - np.asarray(self.offset)) / self.scale

    def boxes_to_input(self, boxes: np.ndarray) -> np.ndarray:
        """Output-space boxes ``(..., 4)`` x1, y1, x2, y2 -> image-space boxes."""
        boxes = np.asarray(boxes, dtype=np.float64)
        return self.to_input(boxes.reshape(*boxes.shape[:-1], 2, 2)).reshape(boxes.shape)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Warp ``image`` (HxWx3 uint8 RGB) into the output, black where the image has no pixels."""
        check_image(image)
        out_w, out_h = self.output_size
        # Source rectangle in pixel-edge coordinates (edge = centre + 0.5), Pillow's convention.
        x0 = (-0.5 - self.offset[0]) / self.scale + 0.5
        y0 = (-0.5 - self.offset[1]) / self.scale + 0.5
        x1 = x0 + out_w / self.scale
        y1 = y0 + out_h / self.scale
        # Copy the source rectangle plus the filter's reach into a window (Pillow only reads inside
        # an image; the window costs the crop's area, not the frame's). Outside the image the
        # window repeats the edge pixels, so borders do not darken; output pixels whose centres
        # fall outside the image are then blacked out.
        margin = math.ceil(1.0 / self.scale) + 1
        ix0, iy0 = math.floor(x0) - margin, math.floor(y0) - margin
        ix1, iy1 = math.ceil(x1) + margin, math.ceil(y1) + margin
        height, width = image.shape[:2]
        sx0, sy0 = min(max(ix0, 0), width), min(max(iy0, 0), height)
        sx1, sy1 = max(min(ix1, width), sx0), max(min(iy1, height), sy0)
        if sx1 == sx0 or sy1 == sy0:  # the output sees no pixel of the image
            return np.zeros((out_h, out_w, 3), dtype=np.uint8)
        pad = ((sy0 - iy0, iy1 - sy1), (sx0 - ix0, ix1 - sx1), (0, 0))
        window = np.pad(image[sy0:sy1, sx0:sx1], pad, mode="edge")
        resized = np.array(
            Image.fromarray(window).resize(
                (out_w, out_h), Image.Resampling.BILINEAR, box=(x0 - ix0, y0 - iy0, x1 - ix0, y1 - iy0)
            )
        )
        xs = self.to_input(np.stack([np.arange(out_w), np.zeros(out_w)], axis=1))[:, 0]
        ys = self.to_input(np.stack([np.zeros(out_h), np.arange(out_h)], axis=1))[:, 1]
        resized[(ys < -0.5) | (ys > height - 0.5)] = 0
        resized[:, (xs < -0.5) | (xs > width - 0.5)] = 0
        return resized
