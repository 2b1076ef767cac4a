"""``poselifter infer`` workflow: images, folders or videos -> JSON results and pictures."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from .camera import Intrinsics
from .images import pil_to_rgb
from .cascade import CascadeConfig, CascadeResult, Pose3DEstimator
from .pose2d.base import Pose2DEstimator
from .runtime.lifter_runtime import LifterRuntime
from .skeleton import H36M17

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}
#: The lifter shipped with the package (docs/model_card.md): checkpoint and its ONNX export.
DEFAULT_LIFTER = Path(__file__).resolve().parent / "assets" / "lifter" / "poselifter_default.pt"


@dataclass
class CameraSpec:
    """What the user said about the camera; missing values fall back to the image centre."""

    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None
    hfov_deg: float | None = None

    def intrinsics(self, width: int, height: int) -> Intrinsics | None:
        if self.fx is None and self.hfov_deg is None:
            return None
        if self.fx is None:
            return Intrinsics.from_fov(width, height, self.hfov_deg)  # type: ignore[arg-type]
        cx = (width - 1) / 2 if self.cx is None else self.cx
        cy = (height - 1) / 2 if self.cy is None else self.cy
        return Intrinsics(self.fx, self.fy if self.fy is not None else self.fx, cx, cy)


def load_lifter_runtime(lifter_path: str | Path | None = None, backend: str = "auto") -> LifterRuntime:
    """A lifter checkpoint (.pt) or ONNX export (.onnx) on the chosen backend (default: the shipped model)."""
    path = Path(lifter_path) if lifter_path else DEFAULT_LIFTER
    if not path.is_file():
        raise FileNotFoundError(f"no lifter at {path}; train one with 'poselifter train' and pass it with --lifter")
    if path.suffix == ".onnx":
        return LifterRuntime.from_onnx(path, backend)
    shipped_onnx = path.with_suffix(".onnx")
    if backend != "torch" and shipped_onnx.is_file():
        return LifterRuntime.from_onnx(shipped_onnx, backend, checkpoint=path)
    return LifterRuntime.from_checkpoint(path, backend)


def load_pose2d(pose2d_path: str | Path | None = None, backend: str = "auto") -> Pose2DEstimator:
    """The 2D stage on the chosen backend, by file: none for the shipped MoveNet; a ``.yaml``
    description of a top-down ONNX keypoint model; an ``.onnx`` integral-ResNet export
    (``poselifter export``) or else a MoveNet-compatible ONNX file; any other file is read as a
    ``poselifter train-2d`` checkpoint. All but MoveNet are top-down and need person boxes."""
    from .pose2d.movenet import MoveNet

    if pose2d_path is None:
        return MoveNet(backend=backend)
    path = Path(pose2d_path)
    if not path.is_file():
        raise FileNotFoundError(f"no 2D model at {path}")
    if path.suffix.lower() in (".yaml", ".yml"):
        from .pose2d.onnx_keypoints import OnnxKeypointModel

        return OnnxKeypointModel.from_yaml(path, backend=backend)
    from .pose2d.integral_estimator import IntegralPoseEstimator
    from .runtime.pose2d_export import is_integral_resnet_export

    if path.suffix.lower() != ".onnx":
        return IntegralPoseEstimator.from_checkpoint(path, backend=backend)
    if is_integral_resnet_export(path):
        return IntegralPoseEstimator.from_onnx(path, backend=backend)
    return MoveNet(path, backend=backend)


def build_cascade(lifter_path: str | Path | None = None, pose2d_path: str | Path | None = None,
                  config: CascadeConfig = CascadeConfig(), backend: str = "auto",
                  lift_only: bool = False) -> Pose3DEstimator:
    """The 2D stage (default: the shipped MoveNet, see :func:`load_pose2d`) + a lifter (default:
    the shipped one), both on the one ``backend`` setting. ``lift_only`` leaves the 2D stage out,
    for 2D people from elsewhere (no 2D model is loaded)."""
    pose2d = None if lift_only else load_pose2d(pose2d_path, backend)
    return Pose3DEstimator(pose2d, load_lifter_runtime(lifter_path, backend), config)


def result_to_dict(result: CascadeResult) -> dict:
    k = result.intrinsics
    return {
        "intrinsics": {"fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy, "assumed": result.intrinsics_assumed},
        "skipped": dict(result.skipped),
        "timings_ms": {name: round(v, 2) for name, v in result.timings_ms.items()},
        "coordinate_frame": "camera optical frame: x right, y down, z forward; metres",
        "joint_names": list(H36M17.joint_names),
        "people": [{
            "box": p.box.round(1).tolist(), "score": round(p.score, 4),
            "keypoints_2d": p.keypoints_2d.round(2).tolist(), "scores": p.scores.round(3).tolist(),
            "valid": p.valid.tolist(), "root_m": p.root_m.round(4).tolist(), "joints_m": p.joints_m.round(4).tolist(),
            "canonical_depth": round(p.canonical_depth, 7), "metric_depth": p.metric_depth,
        } for p in result.people],
    }


def load_image(path: Path) -> np.ndarray:
    """Any image file as (H, W, 3) uint8 RGB (grey, alpha and 16-bit images converted as in :mod:`.images`)."""
    try:
        with Image.open(path) as image:
            return pil_to_rgb(image)
    except OSError as error:
        raise ValueError(f"cannot read image {path}: {error}") from error


def _images(source: Path) -> list[Path]:
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return files
    return [source]


def _boxes_for(boxes: dict | list | None, name: str) -> np.ndarray | None:
    if boxes is None:
        return None
    value = boxes.get(name) if isinstance(boxes, dict) else boxes
    return None if value is None else np.asarray(value, dtype=np.float64).reshape(-1, 4)


def run_images(cascade: Pose3DEstimator, source: Path, camera: CameraSpec, output: Path,
               boxes: dict | list | None = None, progress: bool = True) -> Path:
    from .viz.poses import draw_2d, plot_3d

    output.mkdir(parents=True, exist_ok=True)
    results = {}
    for path in tqdm(_images(source), desc="images", disable=not progress):
        image = load_image(path)
        result = cascade.process(image, camera.intrinsics(image.shape[1], image.shape[0]), _boxes_for(boxes, path.name))
        results[path.name] = result_to_dict(result)
        Image.fromarray(draw_2d(image, result)).save(output / f"{path.stem}_2d.png")
        plot_3d(result, output / f"{path.stem}_3d.png", title=path.name)
    out = output / "results.json"
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return out


def run_video(cascade: Pose3DEstimator, source: Path, camera: CameraSpec, output: Path, progress: bool = True) -> Path:
    """One JSON line per frame, and an annotated copy of the video."""
    import imageio.v2 as iio2

    from .viz.poses import draw_2d

    output.mkdir(parents=True, exist_ok=True)
    reader = iio2.get_reader(source)
    fps = float(reader.get_meta_data().get("fps", 30.0))
    lines = output / "results.jsonl"
    with lines.open("w", encoding="utf-8") as stream, \
            iio2.get_writer(output / f"{source.stem}_annotated.mp4", fps=fps, macro_block_size=1) as writer:
        for index, frame in enumerate(tqdm(reader, desc="frames", disable=not progress)):
            image = np.ascontiguousarray(np.asarray(frame)[..., :3])
            result = cascade.process(image, camera.intrinsics(image.shape[1], image.shape[0]))
            stream.write(json.dumps({"frame": index, "time_s": index / fps, **result_to_dict(result)}) + "\n")
            writer.append_data(draw_2d(image, result))
    reader.close()
    return lines


def run(source: str | Path, cascade: Pose3DEstimator, camera: CameraSpec, output: str | Path,
        boxes_file: str | Path | None = None, progress: bool = True) -> Path:
    source, output = Path(source), Path(output)
    if not source.exists():
        raise FileNotFoundError(f"no such image, video or folder: {source}")
    boxes = json.loads(Path(boxes_file).read_text(encoding="utf-8")) if boxes_file else None
    if source.suffix.lower() in VIDEO_SUFFIXES:
        if boxes is not None:
            raise ValueError("--boxes is supported for images and folders, not videos")
        return run_video(cascade, source, camera, output, progress)
    return run_images(cascade, source, camera, output, boxes, progress)
