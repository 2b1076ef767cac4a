"""Google MoveNet MultiPose Lightning (shipped ONNX, Apache-2.0) on an inference backend.

The model exists only as ONNX (uint8 image input with a dynamic height and width), so it runs on
ONNX Runtime (CUDA or CPU execution provider); ``auto`` explains in its log line why TensorRT and
``torch`` do not apply.

Two modes behind one :meth:`MoveNet.estimate`:

* bottom-up (no boxes): letterbox the frame to ``long_side`` (padded to multiples of 32), run
  once, keep the up to 6 people whose score reaches ``min_person_score``, less any that repeats a
  better-scored one's keypoints (:mod:`.duplicates`: the model does that at inputs above 256 px);
  with an ``extra_long_side``, a second pass at that size too, whose people join the first's
  less those both found (:func:`.duplicates.merge_passes`: overlapping boxes whose joints agree
  to a few of the coarser pass's input pixels), so up to 12;
* on crops (boxes given): crop each box as a top-down estimator would (square, with context
  padding) and keep the detection in the crop that overlaps the box best; one result per box.

The model's outputs are normalised to its input: ``(y, x)`` in [0, 1] across the input's
extent, read here as pixel-edge coordinates (0 = the outer edge of the first pixel).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime.factory import create_backend
from ..skeleton import COCO17
from .base import Person2D, Pose2DEstimator, check_boxes, check_image
from .duplicates import DUPLICATE_OKS, box_iou, drop_duplicates, merge_passes
from .transforms import CropTransform

#: The shipped model (see ``assets/movenet/NOTICE.md`` for its licence and provenance).
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "movenet" / "movenet_multipose_lightning.onnx"

_NUM_KEYPOINTS = 17


class MoveNet(Pose2DEstimator):
    """MoveNet MultiPose Lightning: COCO-17 keypoints of up to 6 people.

    ``long_side``: letterbox size of the bottom-up mode (a multiple of 32; 256 is the model's
    native size, larger finds smaller people at more cost). ``extra_long_side``: 0, or the size
    of a second bottom-up pass merged with the first (a multiple of 32; larger inputs lose large,
    close people that 256 finds, so 256 + 384 or 512 sees both). ``min_person_score``: people below
    it are dropped. ``crop_size``, ``crop_padding``: the square crop of the on-crop mode.
    ``min_crop_iou``: in that mode, a detection must overlap the given box at least this much,
    otherwise the box's person is reported as not found (score 0, NaN keypoints).
    ``duplicate_oks``: in the bottom-up mode, a person whose score-weighted keypoint similarity
    to a better-scored one exceeds this is the same person reported twice, and dropped.
    ``num_threads``: ONNX Runtime intra-op threads, 0 for its default (physical cores).
    ``backend``: the setting of :func:`~poselifter_core.runtime.factory.create_backend`
    (``auto``, ``onnxruntime``, ``onnxruntime-cpu``, ...), usually the cascade's one.
    """

    skeleton = COCO17

    def __init__(
        self,
        model_path: str | Path | None = None,
        long_side: int = 256,
        extra_long_side: int = 0,
        min_person_score: float = 0.2,
        crop_size: int = 256,
        crop_padding: float = 1.25,
        min_crop_iou: float = 0.3,
        duplicate_oks: float = DUPLICATE_OKS,
        num_threads: int = 0,
        backend: str = "auto",
    ) -> None:
        if any(size % 32 for size in (long_side, crop_size, extra_long_side)) or min(long_side, crop_size) < 32 \
                or extra_long_side < 0:
            raise ValueError(f"long_side, extra_long_side and crop_size must be multiples of 32 (extra_long_side 0: "
                             f"off), got {long_side}, {extra_long_side}, {crop_size}")
        self.backend = create_backend(backend, model_path or DEFAULT_MODEL_PATH, threads=num_threads or None,
                                      model_name="MoveNet")
        if len(self.backend.input_names) != 1:
            raise ValueError(f"a MoveNet model has one image input, this one has {list(self.backend.input_names)}")
        self.input_name = self.backend.input_names[0]
        self.output_name = self.backend.output_names[0]
        self.long_side = long_side
        self.extra_long_side = extra_long_side
        self.min_person_score = float(min_person_score)
        self.crop_size = crop_size
        self.crop_padding = float(crop_padding)
        self.min_crop_iou = float(min_crop_iou)
        self.duplicate_oks = float(duplicate_oks)

    def estimate(self, image: np.ndarray, boxes: np.ndarray | None = None) -> list[Person2D]:
        check_image(image)
        if boxes is None:
            passes = [self._bottom_up(image, size) for size in (self.long_side, self.extra_long_side) if size]
            if len(passes) == 1:
                return passes[0]
            # image pixels per input pixel of the coarser pass: its letterbox scale (:mod:`.duplicates`)
            return merge_passes(passes, self.duplicate_oks,
                                input_pixel=max(image.shape[:2]) / min(self.long_side, self.extra_long_side))
        boxes = check_boxes(boxes, image.shape)
        return [self._on_crop(image, box) for box in boxes]

    def run(self, network_input: np.ndarray) -> np.ndarray:
        """Raw model output ``(6, 56)`` for one ``(H, W, 3)`` uint8 input (H, W multiples of 32)."""
        return self.backend.run({self.input_name: network_input[None]})[self.output_name][0]

    def decode(self, raw: np.ndarray, transform: CropTransform) -> tuple[np.ndarray, ...]:
        """Raw ``(6, 56)`` output -> image-pixel keypoints ``(6, 17, 2)``, keypoint scores
        ``(6, 17)``, boxes ``(6, 4)`` and person scores ``(6,)``."""
        width, height = transform.output_size
        size = np.array([width, height], dtype=np.float64)
        yxs = raw[:, : 3 * _NUM_KEYPOINTS].reshape(-1, _NUM_KEYPOINTS, 3).astype(np.float64)
        # Normalised edge coordinates -> input pixel centres -> image pixels.
        keypoints = transform.to_input(yxs[..., [1, 0]] * size - 0.5)
        scores = yxs[..., 2]
        ymin, xmin, ymax, xmax = raw[:, 51:55].astype(np.float64).T
        corners = np.stack([xmin * width, ymin * height, xmax * width, ymax * height], axis=1) - 0.5
        boxes = transform.boxes_to_input(corners)
        return keypoints, scores, boxes, raw[:, 55].astype(np.float64)

    def _bottom_up(self, image: np.ndarray, long_side: int) -> list[Person2D]:
        transform = CropTransform.letterbox((image.shape[1], image.shape[0]), long_side)
        keypoints, scores, boxes, person_scores = self.decode(self.run(transform.apply(image)), transform)
        order = np.argsort(-person_scores)
        return drop_duplicates([
            Person2D(keypoints[i], scores[i], boxes[i], person_scores[i], COCO17)
            for i in order
            if person_scores[i] >= self.min_person_score
        ], self.duplicate_oks)

    def _on_crop(self, image: np.ndarray, box: np.ndarray) -> Person2D:
        transform = CropTransform.from_box(box, (self.crop_size, self.crop_size), self.crop_padding)
        keypoints, scores, boxes, person_scores = self.decode(self.run(transform.apply(image)), transform)
        overlap = np.where(person_scores >= self.min_person_score, box_iou(boxes, box), 0.0)
        best = int(np.argmax(overlap))
        if overlap[best] < self.min_crop_iou:
            nan = np.full((_NUM_KEYPOINTS, 2), np.nan)
            return Person2D(nan, np.zeros(_NUM_KEYPOINTS), box, 0.0, COCO17)
        return Person2D(keypoints[best], scores[best], box, person_scores[best], COCO17)
