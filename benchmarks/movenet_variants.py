"""Offline experiments on the shipped MoveNet (#16 items 3 and 4): does a batch of top-down crops
pay, and do int8 / fp16 variants keep the accuracy and run faster? Numbers in docs/benchmarks.md.

    python benchmarks/movenet_variants.py batching [--rounds 10]
    python benchmarks/movenet_variants.py precision [--frames 60]

``batching`` cuts the graph at its six head convolutions (the decoding behind them fixes the
batch at 1): the backbone gets a symbolic batch, the decoding subgraph runs once per crop. It
times 6 and 20 crops three ways, taking turns: the whole model one crop per call (what the
project does), the backbone batched + decoding per crop, and the split one crop per call; and
checks that batched and one-at-a-time outputs are the same.

``precision`` writes int8 (``onnxruntime.quantization.quantize_dynamic``) and fp16-weight
(``onnxconverter_common``, if installed; not a project dependency) variants, then compares them
with the shipped model: the labelled photo, agreement on vtest.avi, speed (frames interleaved).
Needs ``onnx`` (export-time package); files go to a temporary folder.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from poselifter_core.pose2d.movenet import DEFAULT_MODEL_PATH, MoveNet
from poselifter_core.skeleton import COCO17

VIDEO = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
HEADS = ("center_0", "box_scale_0", "box_offset_0", "kpt_heatmap_0", "kpt_regress_0", "kpt_offset_0")
#: Hand labels of the astronaut photo (tests/test_pose2d_movenet.py).
FACE = {"nose": (222, 124), "left_eye": (245, 101), "right_eye": (202, 100)}


def video_frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(VIDEO)
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    return frames


def head_outputs(model) -> list[str]:
    """The six head convolutions' outputs: where the network ends and the decoding begins."""
    consumers: dict[str, list[str]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node.op_type)
    return [node.output[0] for node in model.graph.node
            if node.op_type == "Conv" and node.output[0].split("/")[0] in HEADS
            and not all(c in ("Conv", "Relu", "Clip", "Add") for c in consumers[node.output[0]])]


def split_model(folder: Path) -> tuple[Path, Path]:
    """(backbone with a symbolic batch, decoding subgraph) of the shipped model."""
    import onnx
    import onnx.utils

    model = onnx.load(str(DEFAULT_MODEL_PATH))
    heads = head_outputs(model)
    image, output = model.graph.input[0].name, model.graph.output[0].name
    backbone, decoding = folder / "backbone.onnx", folder / "decoding.onnx"
    onnx.utils.extract_model(str(DEFAULT_MODEL_PATH), str(backbone), [image], heads)
    onnx.utils.extract_model(str(DEFAULT_MODEL_PATH), str(decoding), heads, [output])
    cut = onnx.load(str(backbone))
    for value in [cut.graph.input[0], *cut.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    del cut.graph.value_info[:]  # shapes inferred with batch 1
    onnx.save(cut, str(backbone))
    return backbone, decoding


def batching(rounds: int) -> None:
    import onnxruntime as ort

    from poselifter_core.runtime.threads import session_options

    def session(path: Path) -> ort.InferenceSession:
        return ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])

    with tempfile.TemporaryDirectory() as tmp:
        backbone_path, decoding_path = split_model(Path(tmp))
        whole, backbone, decoding = session(DEFAULT_MODEL_PATH), session(backbone_path), session(decoding_path)
    image = whole.get_inputs()[0].name
    heads = [o.name for o in backbone.get_outputs()]

    def one_at_a_time(crops):
        return np.stack([whole.run(None, {image: crops[i:i + 1]})[0][0] for i in range(len(crops))])

    def decode_each(features, count):
        return np.stack([decoding.run(None, {n: f[i:i + 1] for n, f in zip(heads, features)})[0][0] for i in range(count)])

    def batched(crops):
        return decode_each(backbone.run(heads, {image: crops}), len(crops))

    def split_single(crops):
        return np.stack([decode_each(backbone.run(heads, {image: crops[i:i + 1]}), 1)[0] for i in range(len(crops))])

    frames, rng = video_frames(60), np.random.default_rng(0)

    def crops(index: int, count: int) -> np.ndarray:
        frame = frames[index % len(frames)]
        corners = rng.integers(0, [frame.shape[1] - 256, frame.shape[0] - 256], size=(count, 2))
        return np.stack([frame[y:y + 256, x:x + 256] for x, y in corners])

    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| crops | whole model, one crop per call | backbone batched + decoding per crop | backbone + decoding, "
          "one crop per call | decoding alone | max abs(batched - whole) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in (6, 20):
        sample = crops(0, count)
        error = float(np.abs(batched(sample) - one_at_a_time(sample)).max())
        features = backbone.run(heads, {image: sample})
        calls = {"whole": one_at_a_time, "batched": batched, "split": split_single,
                 "decoding": lambda c: decode_each(features, len(c))}
        times: dict[str, list[float]] = {name: [] for name in calls}
        for k in range(rounds):
            batch = crops(k, count)
            for name in (list(calls) if k % 2 == 0 else list(calls)[::-1]):
                start = time.perf_counter()
                calls[name](batch)
                times[name].append(1000 * (time.perf_counter() - start))
        ms = {name: float(np.median(values)) for name, values in times.items()}
        print(f"| {count} | {ms['whole']:.0f} ms | {ms['batched']:.0f} ms ({ms['batched'] / ms['whole']:.2f}x) | "
              f"{ms['split']:.0f} ms ({ms['split'] / ms['whole']:.2f}x) | {ms['decoding']:.0f} ms | {error:.3g} |")
    print(f"load average {os.getloadavg()[0]:.1f}")


def variants(folder: Path) -> dict[str, Path | None]:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(DEFAULT_MODEL_PATH))
    depthwise = [n.name for n in model.graph.node
                 if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)]
    heads = [n.name for n in model.graph.node if n.op_type == "Conv" and n.output[0] in head_outputs(model)]
    files: dict[str, Path | None] = {"today (fp32)": None}
    logging.getLogger().setLevel(logging.WARNING)  # the quantiser logs every tensor
    files["int8 dynamic, all convolutions"] = folder / "int8_all.onnx"
    quantize_dynamic(str(DEFAULT_MODEL_PATH), str(files["int8 dynamic, all convolutions"]), weight_type=QuantType.QUInt8)
    files["int8 dynamic, pointwise only"] = folder / "int8_pointwise.onnx"
    quantize_dynamic(str(DEFAULT_MODEL_PATH), str(files["int8 dynamic, pointwise only"]), weight_type=QuantType.QUInt8,
                     op_types_to_quantize=["Conv"], nodes_to_exclude=depthwise + heads)
    try:
        from onnxconverter_common import float16
    except ImportError:
        print("onnxconverter_common is not installed: no fp16 variant")
        return files
    files["fp16 weights"] = folder / "fp16.onnx"
    keep_fp32 = [n.name for n in model.graph.node if n.op_type != "Conv"]  # the decoding's index maths
    onnx.save(float16.convert_float_to_float16(model, keep_io_types=True, node_block_list=keep_fp32),
              str(files["fp16 weights"]))
    return files


def precision(count: int) -> None:
    from skimage.data import astronaut

    with tempfile.TemporaryDirectory() as tmp:
        files = variants(Path(tmp))
        nets = {name: MoveNet(path, backend="onnxruntime-cpu") for name, path in files.items()}
        sizes = {name: (path or DEFAULT_MODEL_PATH).stat().st_size / 1e6 for name, path in files.items()}
    photo = astronaut()
    reference = nets["today (fp32)"].estimate(photo)[0]
    photo_rows = {}
    for name, net in nets.items():
        net.min_person_score = 0.0  # the best person even when its score falls below the default
        person = net.estimate(photo)[0]
        net.min_person_score = 0.2
        labels = " / ".join(f"{np.linalg.norm(person.keypoints[COCO17.joint_names.index(j)] - xy):.1f}"
                            for j, xy in FACE.items())
        distance = np.linalg.norm(person.keypoints - reference.keypoints, axis=1)
        found = "" if person.score >= 0.2 else f" (person score {person.score:.3f} < 0.2)"
        photo_rows[name] = f"{labels} px{found} | {np.median(distance):.2f} / {distance.max():.2f}"
    frames = video_frames(count)
    times: dict[str, list[float]] = {name: [] for name in nets}
    found: dict[str, list] = {name: [] for name in nets}
    for index, frame in enumerate(frames):
        for name in (list(nets) if index % 2 == 0 else list(nets)[::-1]):
            start = time.perf_counter()
            found[name].append(nets[name].estimate(frame))
            times[name].append(1000 * (time.perf_counter() - start))
    print(f"load average {os.getloadavg()[0]:.1f}, {len(frames)} vtest frames")
    print("| variant | file | astronaut: nose / left eye / right eye error | astronaut vs today (median / max px) | "
          "vtest people/frame | frames with today's count | matched keypoints vs today (median / p90 px) | "
          "ms per frame (ratio) |")
    print("|---|---:|---|---|---:|---:|---|---:|")
    base = float(np.median(times["today (fp32)"]))
    for name in nets:
        same = sum(len(a) == len(b) for a, b in zip(found[name], found["today (fp32)"]))
        distances = []
        for mine, today in zip(found[name], found["today (fp32)"]):
            for person in mine:
                match = min(today, key=lambda p: np.linalg.norm(p.box - person.box), default=None)
                if match is not None and np.linalg.norm(match.box - person.box) < 20:
                    both = (person.scores >= 0.3) & (match.scores >= 0.3)
                    distances.extend(np.linalg.norm(person.keypoints - match.keypoints, axis=1)[both])
        matched = f"{np.median(distances):.2f} / {np.percentile(distances, 90):.2f}" if distances else "-"
        ms = float(np.median(times[name]))
        print(f"| {name} | {sizes[name]:.1f} MB | {photo_rows[name]} | {np.mean([len(f) for f in found[name]]):.2f} | "
              f"{same}/{len(frames)} | {matched} | {ms:.1f} ({ms / base:.2f}) |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", choices=("batching", "precision"))
    parser.add_argument("--rounds", type=int, default=10, help="batching: rounds per crop count")
    parser.add_argument("--frames", type=int, default=60, help="precision: vtest frames")
    args = parser.parse_args(argv)
    batching(args.rounds) if args.experiment == "batching" else precision(args.frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
