"""Offline experiments on the shipped MoveNet (#16 items 3 and 4): does a batch of top-down crops
pay, do int8 / fp16 variants keep the accuracy and run faster, and does the in-graph decoding
belong in the graph? Numbers in docs/benchmarks.md.

    python benchmarks/movenet_variants.py batching [--rounds 10]
    python benchmarks/movenet_variants.py precision [--frames 60]
    python benchmarks/movenet_variants.py decoding [--frames 120] [--rounds 60]

``batching`` cuts the graph at its six head convolutions (the decoding behind them fixes the
batch at 1): the backbone gets a symbolic batch, the decoding subgraph runs once per crop. It
times 6 and 20 crops three ways, taking turns: the whole model one crop per call (what the
project does), the backbone batched + decoding per crop, and the split one crop per call; and
checks that batched and one-at-a-time outputs are the same.

``precision`` writes int8 (``onnxruntime.quantization.quantize_dynamic``) and fp16-weight
(``onnxconverter_common``, if installed; not a project dependency) variants, then compares them
with the shipped model: the labelled photo, agreement on vtest.avi, speed (frames interleaved).
Needs ``onnx`` (export-time package); files go to a temporary folder.

``decoding`` compares the graph's CenterNet decoding (everything after the six head convolutions)
with the numpy rewrite in ``movenet_decoding.py``: agreement with the whole model on vtest.avi
frames and the OpenCV sample photos (bottom-up, 256 px letterbox; vtest also at 384 px) and on
256x256 crops; ONNX Runtime's per-node profile of the whole model split into backbone + heads and
decoding; and the whole model, backbone + numpy decoder, the backbone, the decoding subgraph and
the numpy decoder timed taking turns on the same inputs, medians (the saving: the median of each
input's whole-model minus backbone + numpy time, the two run back to back).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from movenet_decoding import decode_heads

from poselifter_core.pose2d.movenet import DEFAULT_MODEL_PATH, MoveNet
from poselifter_core.pose2d.transforms import CropTransform
from poselifter_core.skeleton import COCO17

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
VIDEO = str(DATA / "vtest.avi")
HEADS = ("center_0", "box_scale_0", "box_offset_0", "kpt_heatmap_0", "kpt_regress_0", "kpt_offset_0")
#: The network's ops in ONNX Runtime's profile: convolutions (fused, NCHWc) and their layout reorders.
LAYOUT_OPS = ("Conv", "ReorderInput", "ReorderOutput")
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


def session(path: Path, profile: str | None = None):
    """A CPU ONNX Runtime session under the project's thread policy; ``profile``: per-node profiling
    to files with this prefix."""
    import onnxruntime as ort

    from poselifter_core.runtime.threads import session_options

    options = session_options()
    if profile:
        options.enable_profiling, options.profile_file_prefix = True, profile
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def batching(rounds: int) -> None:
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


class CutModel:
    """The shipped model whole, and cut at its heads: the backbone, the decoding subgraph (ONNX
    Runtime) and the numpy decoder on the backbone's outputs."""

    def __init__(self, folder: Path) -> None:
        import onnx

        backbone, decoding = split_model(folder)
        self.whole, self.backbone, self.decoding = session(DEFAULT_MODEL_PATH), session(backbone), session(decoding)
        self.image = self.whole.get_inputs()[0].name
        self.heads = [o.name for o in self.backbone.get_outputs()]
        self.order = [next(n for n in self.heads if n.split("/")[0] == head) for head in HEADS]
        model = onnx.load(str(DEFAULT_MODEL_PATH))
        reached = set(head_outputs(model))
        self.nodes = {node.name for node in model.graph.node}
        self.decoding_nodes: set[str] = set()
        for node in model.graph.node:  # topologically sorted: everything downstream of the heads
            if reached.intersection(node.input):
                reached.update(node.output)
                self.decoding_nodes.add(node.name)

    def run_whole(self, image: np.ndarray) -> np.ndarray:
        return self.whole.run(None, {self.image: image[None]})[0][0]

    def features(self, image: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(self.heads, self.backbone.run(self.heads, {self.image: image[None]})))

    def graph_decode(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return self.decoding.run(None, features)[0][0]

    def numpy_decode(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return decode_heads(*(features[name] for name in self.order))

    def profile(self, images: list[np.ndarray], prefix: str, warm_up: int = 3) -> tuple[float, float, list]:
        """ONNX Runtime's per-node kernel times of the whole model, ms per run after ``warm_up``
        runs: backbone + heads (every convolution, the heads' fused with the decoding's sigmoids,
        and ONNX Runtime's layout reorders), decoding (the rest), and the decoding's costliest op
        types."""
        profiled = session(DEFAULT_MODEL_PATH, prefix)
        for image in images[:warm_up] + images:
            profiled.run(None, {self.image: image[None]})
        with open(profiled.end_profiling(), encoding="utf-8") as stream:
            events = json.load(stream)
        start = sorted(e["ts"] for e in events if e.get("cat") == "Session" and e["name"] == "model_run")[warm_up]
        backbone, decoding, ops = 0.0, 0.0, {}
        for event in events:
            if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time") or event["ts"] < start:
                continue
            name, op = event["name"][: -len("_kernel_time")].removesuffix("_nchwc"), event["args"]["op_name"]
            ms = event["dur"] / 1000 / len(images)
            if op not in LAYOUT_OPS and (name in self.decoding_nodes or name not in self.nodes):
                decoding += ms
                ops[op] = ops.get(op, 0.0) + ms
            else:
                backbone += ms
        return backbone, decoding, sorted(ops.items(), key=lambda item: -item[1])[:5]


def photos() -> list[np.ndarray]:
    """The OpenCV sample photos, RGB."""
    images = [cv2.imread(str(path), cv2.IMREAD_COLOR) for path in sorted(DATA.iterdir())
              if path.suffix.lower() in (".jpg", ".png")]
    return [cv2.cvtColor(image, cv2.COLOR_BGR2RGB) for image in images if image is not None]


def letterboxed(image: np.ndarray, long_side: int = 256) -> np.ndarray:
    """MoveNet's bottom-up input."""
    return CropTransform.letterbox((image.shape[1], image.shape[0]), long_side).apply(image)


def random_crops(frames: list[np.ndarray], count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    crops = []
    for k in range(count):
        frame = frames[k % len(frames)]
        x, y = rng.integers(0, [frame.shape[1] - 256, frame.shape[0] - 256])
        crops.append(frame[y:y + 256, x:x + 256])
    return crops


def agreement(cut: CutModel, images: list[np.ndarray], min_score: float = 0.2) -> dict[str, float]:
    """Numpy decoding vs the whole model: max / median |difference| of the keypoints (input px) and
    of the keypoint and person scores over all 6 rows, and the images whose people (rows with a
    person score >= ``min_score``) are the same rows."""
    pixels, scores, people, same = [], [], [], 0
    for image in images:
        whole, mine = cut.run_whole(image), cut.numpy_decode(cut.features(image))
        difference = np.abs(whole[:, :51] - mine[:, :51]).reshape(6, 17, 3)
        pixels.append(difference[..., :2] * np.array(image.shape[:2], dtype=np.float64))
        scores.append(difference[..., 2].ravel())
        people.append(np.abs(whole[:, 51:] - mine[:, 51:]).ravel())  # box and person score
        same += np.array_equal(np.flatnonzero(whole[:, 55] >= min_score), np.flatnonzero(mine[:, 55] >= min_score))
    px, sc, pe = np.concatenate(pixels).ravel(), np.concatenate(scores), np.concatenate(people)
    return {"images": len(images), "same people": same, "px max": float(px.max()), "px median": float(np.median(px)),
            "score max": float(sc.max()), "score median": float(np.median(sc)), "box/person max": float(pe.max())}


def timed_turns(calls: dict[str, object], inputs: list) -> dict[str, np.ndarray]:
    """ms of each call on each input, the calls taking turns (order reversed every input)."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for k, item in enumerate(inputs):
        for name in (list(calls) if k % 2 == 0 else list(calls)[::-1]):
            start = time.perf_counter()
            calls[name](item)
            times[name].append(1000 * (time.perf_counter() - start))
    return {name: np.array(values) for name, values in times.items()}


def decoding(count: int, rounds: int) -> None:
    frames = video_frames(count)
    sets = {"bottom-up 256 px, vtest frames": [letterboxed(f) for f in frames],
            "bottom-up 256 px, OpenCV sample photos": [letterboxed(p) for p in photos()],
            "bottom-up 384 px, vtest frames": [letterboxed(f, 384) for f in frames],
            "256x256 crops of vtest frames": random_crops(frames, max(count, rounds))}
    with tempfile.TemporaryDirectory() as tmp:
        cut = CutModel(Path(tmp))
        print(f"load average {os.getloadavg()[0]:.1f}")
        print("| inputs | images | same people (score >= 0.2) | keypoints max / median px | keypoint score max / median "
              "| box, person score max |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, images in sets.items():
            a = agreement(cut, images)
            print(f"| {name} | {a['images']} | {a['same people']} | {a['px max']:.2g} / {a['px median']:.2g} | "
                  f"{a['score max']:.2g} / {a['score median']:.2g} | {a['box/person max']:.2g} |")
        timing_sets = {"bottom-up 256 px (vtest)": sets["bottom-up 256 px, vtest frames"],
                       "bottom-up 384 px (vtest)": sets["bottom-up 384 px, vtest frames"],
                       "256x256 crop": sets["256x256 crops of vtest frames"]}
        print(f"\nload average {os.getloadavg()[0]:.1f}; ONNX Runtime per-node profile of the whole model, ms per run")
        print("| input | backbone + heads | decoding | decoding share | costliest decoding ops |")
        print("|---|---:|---:|---:|---|")
        for name, images in timing_sets.items():
            backbone, decode, ops = cut.profile(images[:rounds], str(Path(tmp) / "profile"))
            top = ", ".join(f"{op} {ms:.2f}" for op, ms in ops)
            print(f"| {name} | {backbone:.2f} | {decode:.2f} | {decode / (backbone + decode):.1%} | {top} |")
        print(f"\nload average {os.getloadavg()[0]:.1f}; taking turns, medians in ms")
        print("| input | whole model (today) | backbone + numpy decoder | saved (median of paired differences) | "
              "backbone alone | decoding subgraph (ONNX Runtime) | numpy decoder |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, images in timing_sets.items():
            images = (images * (rounds // len(images) + 1))[:rounds]
            features = [cut.features(image) for image in images]
            runs = timed_turns({"whole": lambda k: cut.run_whole(images[k]),
                              "split": lambda k: cut.numpy_decode(cut.features(images[k])),
                              "backbone": lambda k: cut.features(images[k]),
                              "graph": lambda k: cut.graph_decode(features[k]),
                              "numpy": lambda k: cut.numpy_decode(features[k])}, list(range(rounds)))
            ms = {call: float(np.median(values)) for call, values in runs.items()}
            saved = float(np.median(runs["whole"] - runs["split"]))  # paired: the two ran back to back
            print(f"| {name} | {ms['whole']:.2f} | {ms['split']:.2f} | {saved:.2f} ({saved / ms['whole']:.1%}) | "
                  f"{ms['backbone']:.2f} | {ms['graph']:.2f} | {ms['numpy']:.2f} |")
        print(f"load average {os.getloadavg()[0]:.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", choices=("batching", "precision", "decoding"))
    parser.add_argument("--rounds", type=int, default=None,
                        help="batching: rounds per crop count (10); decoding: timed runs per input kind (60)")
    parser.add_argument("--frames", type=int, default=None, help="precision (60), decoding (120): vtest frames")
    args = parser.parse_args(argv)
    if args.experiment == "batching":
        batching(args.rounds or 10)
    elif args.experiment == "precision":
        precision(args.frames or 60)
    else:
        decoding(args.frames or 120, args.rounds or 60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
