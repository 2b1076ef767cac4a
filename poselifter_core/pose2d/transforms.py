"""Image -> network-input warps (letterbox, person-box crop) with exact point inverses.

Both warps are the same kind of map: a uniform scale and a shift, ``out = scale * in + offset``
on pixel coordinates (pixel centres at integers, see :mod:`.base`). A uniform scale keeps the
aspect ratio, which is what the paper's 256x256 crop and MoveNet's letterbox need; no rotation is
needed because the paper's augmentations (section 5.1: shift, flip, colour) have none. Because
the map is affine and stored exactly, :meth:`CropTransform.to_input` undoes
:meth:`CropTransform.to_output` to floating-point precision.

Resampling is OpenCV's and, when shrinking by ``1/scale = w``, filters like Pillow's antialiased
bilinear resize: a tent of radius ``w`` (a separable filter, the box of width ``w`` convolved
with itself), then bilinear sampling at the exact map with ``warpAffine``. Tents spaced by their
radius sum to a constant, so no content is lost or doubled and a blob's centroid moves exactly
like a point; the 2D model sees nearly the pixels it saw with Pillow (#16: mean difference 0.13
of 255 on vtest.avi). Shrinks by more than 4 first halve by 2x2 averaging. Output pixels whose
centres fall outside the image are black.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

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
        height, width = image.shape[:2]
        # Image pixels the output can see (its outer edges mapped back), plus the filters' reach:
        # only this window is resampled, so a crop costs the crop's area, not the frame's.
        left, top = self.to_input([-0.5, -0.5])
        right, bottom = self.to_input([out_w - 0.5, out_h - 0.5])
        margin = math.ceil(1.0 / self.scale) + 1
        ix0, iy0 = max(math.floor(left) - margin, 0), max(math.floor(top) - margin, 0)
        ix1, iy1 = min(math.ceil(right) + margin + 1, width), min(math.ceil(bottom) + margin + 1, height)
        if ix1 <= ix0 or iy1 <= iy0:  # the output sees no pixel of the image
            return np.zeros((out_h, out_w, 3), dtype=np.uint8)
        window = image[iy0:iy1, ix0:ix1]
        window, gain, bias = _shrink(window, self.scale)
        # What is left of out = scale * (x + ix0) + offset, in the shrunk window's coordinates
        # u = gain * x + bias.
        rest = self.scale / gain
        matrix = np.array([[rest, 0.0, self.scale * ix0 + self.offset[0] - rest * bias],
                           [0.0, rest, self.scale * iy0 + self.offset[1] - rest * bias]])
        # Outside the image the window repeats its edge pixels, so borders do not darken; output
        # pixels whose centres fall outside the image are blacked out below.
        resized = cv2.warpAffine(window, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        xs = self.to_input(np.stack([np.arange(out_w), np.zeros(out_w)], axis=1))[:, 0]
        ys = self.to_input(np.stack([np.zeros(out_h), np.arange(out_h)], axis=1))[:, 1]
        resized[(ys < -0.5) | (ys > height - 0.5)] = 0
        resized[:, (xs < -0.5) | (xs > width - 0.5)] = 0
        return resized


def _tent_kernel(width: float) -> np.ndarray:
    """The tent of radius ``width`` pixels as a column kernel: a box of ``width`` pixels (as
    per-pixel overlaps, centred on a pixel) convolved with itself; odd length, sum 1."""
    half = width / 2.0
    reach = math.ceil(half - 0.5)
    centres = np.arange(-reach, reach + 1, dtype=np.float64)
    box = np.clip(np.minimum(centres + 0.5, half) - np.maximum(centres - 0.5, -half), 0.0, None)
    tent = np.convolve(box, box)
    return (tent / tent.sum()).reshape(-1, 1)


def _shrink(window: np.ndarray, scale: float) -> tuple[np.ndarray, float, float]:
    """``window`` prepared for bilinear sampling at ``scale``: halved (2x2 averages, each mapping
    ``x -> (x + 0.5) / 2 - 0.5``) while the scale left is at most 1/4, then tent-filtered for the
    rest; with the map from window to result coordinates, ``u = gain * x + bias``."""
    gain, bias = 1.0, 0.0
    while scale / gain <= 0.25 + 1e-9:
        window = cv2.resize(window, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_LINEAR)
        gain, bias = 0.5 * gain, 0.5 * (bias + 0.5) - 0.5
    rest = scale / gain
    if rest < 1.0 - 1e-9:
        kernel = _tent_kernel(1.0 / rest)
        window = cv2.sepFilter2D(window, -1, kernel, kernel, borderType=cv2.BORDER_REPLICATE)
    return window, gain, bias
