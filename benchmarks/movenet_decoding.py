"""MoveNet MultiPose's in-graph decoding, rewritten in numpy (#16 item 3; benchmark side only).

Read off the shipped graph (the nodes after the six head convolutions, see
``movenet_variants.head_outputs``); ``h, w`` is the head grid (the input size / 4):

1. centres: sigmoid of the centre heatmap; a cell is a peak where it equals the 5x5 max-pool
   (``|c - pool| < 1.01e-6``), others become 0; the 6 highest (``TopK``, ties to the lower index).
2. per centre ``(y, x)``: the regressed keypoints ``(y + dy, x + dx)`` (``kpt_regress``), the box
   ``centre + box_offset +- relu(box_scale) / 2`` clipped to the grid.
3. per person and keypoint: the keypoint heatmap (sigmoid) weighted by
   ``exp(-d^2 / (0.3 min(h, w)))``, ``d`` the distance in cells to the regressed point, and zero
   outside the person's box; the argmax cell ``(yk, xk)`` plus ``kpt_offset`` there is the keypoint, the
   keypoint score is the *maximum over the 6 people* of that weighted heatmap at the cell.
4. person score: centre score x the mean of the keypoint scores above 0.127 (1 when none).

Output the model's ``(6, 56)`` rows: 17 x (y, x, score) normalised by ``(h, w)``, the box
(ymin, xmin, ymax, xmax) normalised, the person score. The constants are the graph's (fp16-rounded
values of 0.3, 0.127).
"""
from __future__ import annotations

import numpy as np

PEOPLE, KEYPOINTS = 6, 17
PEAK_TOLERANCE = np.float32(1.0132789611816406e-06)
SIGMA_FACTOR = np.float32(0.300048828125)
KEYPOINT_THRESHOLD = np.float32(0.126953125)
F = np.float32


def sigmoid(x: np.ndarray) -> np.ndarray:
    return F(1) / (F(1) + np.exp(-x))


def max_pool_5x5(grid: np.ndarray) -> np.ndarray:
    """5x5 max of each cell's neighbourhood, stride 1, the border padded with -inf (SAME)."""
    padded = np.pad(grid, 2, constant_values=-np.inf)
    h, w = grid.shape
    rows = np.max([padded[i:i + h] for i in range(5)], axis=0)
    return np.max([rows[:, j:j + w] for j in range(5)], axis=0)


def best_cells(heat: np.ndarray, along_y: np.ndarray, along_x: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per person and keypoint, the cell ``(y, x)`` where ``heat * along_y * along_x`` is largest,
    the first in row-major order on ties and ``(0, 0)`` where it is 0 everywhere (the graph's
    ``ArgMax`` over the whole grid). The weights are 0 outside the person's box (``box`` in cells,
    a cell inside when ``top <= y < bottom``), so only the box is searched."""
    top, left, bottom, right = np.ceil(box).astype(np.int64).T
    ky = np.zeros((PEOPLE, KEYPOINTS), dtype=np.int64)
    kx = np.zeros_like(ky)
    joints = np.arange(KEYPOINTS)
    for p in range(PEOPLE):
        rows, cols = slice(top[p], bottom[p]), slice(left[p], right[p])
        region = heat[:, rows, cols] * along_y[p, :, rows, None] * along_x[p, :, None, cols]
        if region.size == 0:
            continue
        flat = region.reshape(KEYPOINTS, -1)
        best = np.argmax(flat, axis=1)
        row, col = np.divmod(best, region.shape[2])
        found = flat[joints, best] > 0
        ky[p], kx[p] = np.where(found, top[p] + row, 0), np.where(found, left[p] + col, 0)
    return ky, kx


def decode_heads(center: np.ndarray, box_scale: np.ndarray, box_offset: np.ndarray, kpt_heatmap: np.ndarray,
                 kpt_regress: np.ndarray, kpt_offset: np.ndarray) -> np.ndarray:
    """The six head outputs (NCHW, batch 1, float32; ``movenet_variants.HEADS`` order) -> the model's
    output ``(6, 56)``."""
    centre = sigmoid(center[0, 0])
    h, w = centre.shape
    peaks = np.where(np.abs(centre - max_pool_5x5(centre)) < PEAK_TOLERANCE, centre, F(0)).ravel()
    index = np.argsort(-peaks, kind="stable")[:PEOPLE]
    value = peaks[index]
    ys, xs = np.divmod(index, w)
    yf, xf = ys.astype(F), xs.astype(F)

    regress = kpt_regress[0][:, ys, xs].T.reshape(PEOPLE, KEYPOINTS, 2)
    ry, rx = yf[:, None] + regress[..., 0], xf[:, None] + regress[..., 1]  # (6, 17)
    offset = box_offset[0][:, ys, xs]
    half = np.maximum(box_scale[0][:, ys, xs], F(0)) * F(0.5)
    cy, cx = yf + offset[0], xf + offset[1]
    box = np.stack([np.clip(cy - half[0], 0, h), np.clip(cx - half[1], 0, w),
                    np.clip(cy + half[0], 0, h), np.clip(cx + half[1], 0, w)], axis=1).astype(F)  # (6, 4), cells

    # The keypoint heatmap weighted per person: the graph takes exp(-(dy^2 + dx^2) / s) on the whole
    # grid; exp(-dy^2 / s) exp(-dx^2 / s) is the same to float rounding and needs h + w exponentials
    # per keypoint instead of h w.
    gy, gx = np.arange(h, dtype=F), np.arange(w, dtype=F)
    scale = F(min(h, w)) * SIGMA_FACTOR
    along_y = np.exp(np.square(gy - ry[..., None]) * F(-1) / scale) * ((gy >= box[:, :1]) & (gy < box[:, 2:3]))[:, None]
    along_x = np.exp(np.square(gx - rx[..., None]) * F(-1) / scale) * ((gx >= box[:, 1:2]) & (gx < box[:, 3:]))[:, None]
    heat = sigmoid(kpt_heatmap[0])  # (17, h, w)
    ky, kx = best_cells(heat, along_y, along_x, box)
    joint = np.arange(KEYPOINTS)[None, :]
    # At each chosen cell, the best of the 6 people's weighted heatmaps.
    score = (heat[joint, ky, kx] * along_y[:, joint, ky] * along_x[:, joint, kx]).max(axis=0)
    kpt = kpt_offset[0].reshape(KEYPOINTS, 2, h, w)
    y = (ky.astype(F) + kpt[joint, 0, ky, kx]) * (F(4) / F(4 * h))
    x = (kx.astype(F) + kpt[joint, 1, ky, kx]) * (F(4) / F(4 * w))

    confident = score > KEYPOINT_THRESHOLD
    mean = F(1) / np.maximum(confident.sum(axis=1), 1).astype(F)
    person = mean * (value[:, None] * np.where(confident, score, F(0))).sum(axis=1)
    box_normalised = np.clip(box * F(4) / np.array([4 * h, 4 * w, 4 * h, 4 * w], dtype=F), 0, 1)
    return np.concatenate([np.stack([y, x, score], axis=2).reshape(PEOPLE, 3 * KEYPOINTS), box_normalised,
                           person[:, None].astype(F)], axis=1).astype(F)
