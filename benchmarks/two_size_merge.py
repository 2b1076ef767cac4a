"""How ``merge_passes`` treats the people of two MoveNet input sizes (``cascade.pose2d_extra_size``).

Runs the bottom-up pass at the first size and at each extra size on a video (every ``--every``-th
frame) and on a folder of photos, then prints, per source and size pair:

* the cross-pass pairs of box IoU 0.2 or more, by IoU (below / from ``MERGE_IOU``) and, from it, by
  :func:`~poselifter_core.pose2d.duplicates.joint_distance` in pixels of the coarser pass's input
  (the bands around ``MERGE_JOINT_PX``), with their OKS;
* the people after the merge with the boxes alone (``input_pixel=None``, the eighth session's rule)
  and with the joint check and the blend step (what ``MoveNet`` does), the frames where they
  differ, and the merge's time per frame;
* a controlled different person: each cross-pass pair of IoU ``MERGE_IOU`` or more with the
  extra pass's person shifted sideways until the boxes overlap by IoU 0.4-0.7 (someone standing
  there, with the real passes' keypoint error); the share the joint check keeps apart.

    python benchmarks/two_size_merge.py --video /usr/share/doc/opencv-doc/examples/data/vtest.avi \
        --photos /usr/share/doc/opencv-doc/examples/data --every 4 --extra-sizes 384 512

``--dump FILE`` keeps every pass's people (pickle) for looking at pairs one by one.
"""
from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import numpy as np

from poselifter_core.infer import VideoReader
from poselifter_core.pose2d.duplicates import (
    MERGE_IOU,
    MERGE_JOINT_PX,
    box_iou,
    joint_distance,
    keypoint_similarity,
    merge_passes,
)
from poselifter_core.pose2d.movenet import MoveNet

PHOTO_SUFFIXES = (".jpg", ".png")


def frames(args: argparse.Namespace):
    """(source, name, RGB image) of the video's every ``--every``-th frame, then the photos."""
    import cv2

    if args.video:
        reader = VideoReader(args.video)
        for index, (image, _) in enumerate(reader):
            if index % args.every == 0:
                yield "video", f"#{index}", image
        reader.close()
    if args.photos:
        for path in sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES):
            image = cv2.imread(str(path))
            if image is not None and min(image.shape[:2]) >= 32:
                yield "photos", path.name, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def shifted_split_share(a, b, input_pixel: float) -> tuple[int, int]:
    """(shifts tried, shifts kept apart): ``b`` moved sideways by 0.1-0.5 of its width each way,
    those whose box overlaps ``a``'s by IoU 0.4-0.7."""
    from poselifter_core.pose2d.base import Person2D

    tried = apart = 0
    width = b.box[2] - b.box[0]
    for shift in np.r_[np.linspace(0.1, 0.5, 17), -np.linspace(0.1, 0.5, 17)] * width:
        moved = Person2D(b.keypoints + [shift, 0], b.scores, b.box + [shift, 0, shift, 0], b.score, b.skeleton)
        if 0.4 <= box_iou(moved.box[None], a.box)[0] <= 0.7:
            tried += 1
            apart += len(merge_passes([[a], [moved]], max_oks=np.inf, input_pixel=input_pixel)) == 2
    return tried, apart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", help="a video (every --every-th frame)")
    parser.add_argument("--photos", help="a folder of .jpg/.png photos")
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="the first pass's long side [px]")
    parser.add_argument("--extra-sizes", type=int, nargs="+", default=[384, 512])
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    parser.add_argument("--dump", help="pickle of every pass's people per frame")
    args = parser.parse_args()
    net = MoveNet(long_side=args.size, backend="onnxruntime-cpu", num_threads=args.threads)
    sizes = (args.size, *args.extra_sizes)
    records, pass_ms = [], {size: [] for size in sizes}
    for source, name, image in frames(args):
        people = {}
        for size in sizes:
            start = time.perf_counter()
            people[size] = net._bottom_up(image, size)
            pass_ms[size].append((time.perf_counter() - start) * 1e3)
        records.append((source, name, max(image.shape[:2]), people))
    if args.dump:
        with open(args.dump, "wb") as file:
            pickle.dump(records, file)
    print(f"{len(records)} images; median ms per pass: "
          + ", ".join(f"{size} px {np.median(ms):.1f}" for size, ms in pass_ms.items()))
    for source in sorted({r[0] for r in records}):
        chosen = [r for r in records if r[0] == source]
        for extra in args.extra_sizes:
            report(source, chosen, args.size, extra)


def distance_band(distance: float) -> str:
    if np.isnan(distance):
        return "too few in both"
    if distance <= 5:
        return "<= 5 px"
    return f"5-{MERGE_JOINT_PX:g} px" if distance <= MERGE_JOINT_PX else f"> {MERGE_JOINT_PX:g} px"


def report(source: str, records: list, size: int, extra: int) -> None:
    bands: dict[str, list[float]] = {}
    tried = apart = 0
    counts = {"boxes alone": 0, "with the joint check": 0}
    changed, merge_ms = [], {key: 0.0 for key in counts}
    for _, name, long_side, people in records:
        pixel = long_side / min(size, extra)
        for a in people[size]:
            for b in people[extra]:
                iou = box_iou(a.box[None], b.box)[0]
                if iou < 0.2:
                    continue
                distance = joint_distance(a, b) / pixel
                band = f"IoU 0.2-{MERGE_IOU}" if iou < MERGE_IOU else f"IoU >= {MERGE_IOU}, joints {distance_band(distance)}"
                bands.setdefault(band, []).append(keypoint_similarity(a, b))
                if iou >= MERGE_IOU:
                    t, k = shifted_split_share(a, b, pixel)
                    tried, apart = tried + t, apart + k
        found = {}
        for key, input_pixel in (("boxes alone", None), ("with the joint check", pixel)):
            start = time.perf_counter()
            found[key] = len(merge_passes([people[size], people[extra]], input_pixel=input_pixel))
            merge_ms[key] += (time.perf_counter() - start) * 1e3
            counts[key] += found[key]
        if len(set(found.values())) > 1:
            changed.append(f"{name} ({found['boxes alone']} -> {found['with the joint check']})")
    n = len(records)
    print(f"\n{source}, {size}+{extra} px, {n} images; cross-pass pairs of box IoU >= 0.2:")
    for band in sorted(bands):
        oks = np.array(bands[band])
        print(f"  {band}: {len(oks)} pairs, OKS median {np.median(oks):.2f}, max {oks.max():.2f}")
    for key, count in counts.items():
        print(f"  merged, {key}: {count} people ({count / n:.3f} per image), merge {merge_ms[key] / n:.3f} ms per image")
    print(f"  images that differ: {len(changed)} {', '.join(changed)}")
    if tried:
        print(f"  a person shifted to box IoU 0.4-0.7 (a different person there): {apart} of {tried} "
              f"({apart / tried:.1%}) kept apart by the joint check, 0 by the boxes alone")


if __name__ == "__main__":
    main()
