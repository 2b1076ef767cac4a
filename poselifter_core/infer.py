"""``poselifter infer`` workflow: images, folders or videos -> JSON results and pictures."""
from __future__ import annotations

import json
import logging
import math
import queue
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .camera import Intrinsics
from .cascade import CascadeConfig, CascadeResult, Pose3DEstimator
from .digest import file_sha256
from .distortion import Distortion
from .floor import FloorPlane
from .integrity import LIFTER_CHECKPOINT, verify_shipped
from .lifter.runtime import LifterRuntime
from .pose2d.base import Pose2DEstimator
from .pose2d.topdown import TopDownEstimator
from .rosmsg.images import decode_to_rgb
from .runtime.backend import BackendError
from .runtime.onnx_metadata import META_CHECKPOINT_SHA256, read_metadata
from .skeleton import H36M17
from .tracking import Tracker, TrackingConfig
from .tracking.output_gates import TRACKING_MEANING

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}
#: What each person's ``valid`` list says (also Skeleton3D.joint_valid).
VALID_MEANING = ("per joint: true = observed (2D score >= min_joint_score, the 3D joint follows its keypoint); "
                 "false = inferred by the lifter (occluded, outside the image or low score)")
#: What a skipped person's ``head`` says (null: not located).
HEAD_MEANING = ("skipped people only, head-only (not lifted, no skeleton): position_m = the observed face keypoints' "
                "centre [m] at a depth from the face's image size and an adult head-size prior "
                "(poselifter_core/head_location.py); depth_range_m = its 10th-90th percentile")
#: What each person's ``root_source`` says, and the frame's ``floor`` counts (the keys of ``floor.FLOOR_OUTCOMES``
#: and ``floor.FLOOR_CARRIED``, ``floor.FLOOR_CARRIED_NO_MOUNT``).
ROOT_SOURCE_MEANING = ("lifter = the root depth is the lifter's; floor = fused with the depth at which an observed "
                       "ankle's ray meets the floor of the known camera mount (--camera-height; "
                       "poselifter_core/floor.py); track_floor = no floor in this frame (feet hidden, or no mount for "
                       "this frame), the lifter's "
                       "scaled by the floor / lifter ratio the person's track learned in its floor frames "
                       "(tracking.tracker.carry_floor_size; poselifter_core/tracking/floor_size.py). The frame's "
                       "floor counts its lifted people by the floor's outcome (--camera-height given): fused = "
                       "root_source floor; no_estimate = no ankle observed, or its ray misses the floor; disagreed = "
                       "the floor's depth beyond the lifter's gate, the lifter's kept; no_camera = assumed "
                       "intrinsics, the floor unused; carried = of the no_estimate people, those placed by "
                       "track_floor (not counted beside them); carried_no_mount = people of a frame without a mount "
                       "(in no other count) placed by track_floor; carry_refused = people whose carried pose would "
                       "fail the output gates (plausibility: depth range, joints in front), the lifter's kept")

#: The run's record beside its results: how they were made (settings, model files, version, command
#: line; README, "How a run's results were made"). A file of its own, so results.json stays {image name: result} and
#: results.jsonl one line per frame for their readers (fit-floor, frame_counts).
RUN_RECORD = "run.json"
#: What an earlier run left in an output folder; replaced (and said so) by the next run.
EARLIER_RESULTS = ("results.json", "results.jsonl", RUN_RECORD, "*_2d.png", "*_3d.png", "*_annotated.mp4")

LOG = logging.getLogger(__name__)


@dataclass
class CameraSpec:
    """What the user said about the camera: ``fx`` (``fy`` defaults to it, ``cx``/``cy`` to the image
    centre) or a horizontal field of view, not both; ``fy``/``cx``/``cy`` only complete an ``fx``. A
    ``distortion`` (the lens of the raw images) needs the intrinsics (``fx`` or ``hfov_deg``)."""

    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None
    hfov_deg: float | None = None
    distortion: Distortion | None = None

    def __post_init__(self) -> None:
        """The options that make sense together, with sane values (ValueError naming them)."""
        if self.distortion is not None and self.fx is None and self.hfov_deg is None:
            raise ValueError("undistorting keypoints needs the camera's intrinsics: give --fx (or --fov) with --dist")
        given = {name: value for name, value in (("--fx", self.fx), ("--fy", self.fy), ("--cx", self.cx),
                                                 ("--cy", self.cy), ("--fov", self.hfov_deg)) if value is not None}
        for name, value in given.items():
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.fx is not None and self.hfov_deg is not None:
            raise ValueError("give either --fx or --fov, not both")
        partial = [name for name in ("fy", "cx", "cy") if getattr(self, name) is not None]
        if self.fx is None and partial:
            raise ValueError(f"--{'/--'.join(partial)} need{'s' if len(partial) == 1 else ''} --fx (the focal length); "
                             "with --fov the principal point is the image centre")
        if any(given.get(name, 1.0) <= 0 for name in ("--fx", "--fy")):
            raise ValueError("--fx and --fy must be positive (focal lengths in pixels)")
        if self.hfov_deg is not None and not 1.0 < self.hfov_deg < 179.0:
            raise ValueError(f"--fov must be in (1, 179) degrees, got {self.hfov_deg}")

    def intrinsics(self, width: int, height: int) -> Intrinsics | None:
        if self.fx is None and self.hfov_deg is None:
            return None
        if self.fx is None:
            return Intrinsics.from_fov(width, height, self.hfov_deg)  # type: ignore[arg-type]
        cx = (width - 1) / 2 if self.cx is None else self.cx
        cy = (height - 1) / 2 if self.cy is None else self.cy
        if not (0 <= cx <= width and 0 <= cy <= height):
            raise ValueError(f"the principal point (--cx {cx:g}, --cy {cy:g}) is outside the {width}x{height} image")
        return Intrinsics(self.fx, self.fy if self.fy is not None else self.fx, cx, cy)


def lifter_file(lifter_path: str | Path | None = None) -> Path:
    """The lifter file a run loads: the one given, else the shipped checkpoint."""
    return Path(lifter_path) if lifter_path else LIFTER_CHECKPOINT


def pose2d_file(pose2d_path: str | Path | None = None) -> Path:
    """The 2D model file a run loads: the one given, else the shipped MoveNet."""
    from .pose2d.movenet import DEFAULT_MODEL_PATH

    return Path(pose2d_path) if pose2d_path else DEFAULT_MODEL_PATH


def load_lifter_runtime(lifter_path: str | Path | None = None, backend: str = "auto", weights: str = "auto",
                        flip_average: bool = CascadeConfig.lifter_flip_average) -> LifterRuntime:
    """A lifter checkpoint (.pt) or ONNX export (.onnx) on the chosen backend (default: the shipped
    model); ``weights``: fp32 or the int8 variant on ONNX Runtime's CPU (:mod:`.lifter.weights`);
    ``flip_average``: :mod:`.lifter.flip` (default: as the cascade does)."""
    path = lifter_file(lifter_path)
    if not path.is_file():
        raise FileNotFoundError(f"no lifter at {path}; train one with 'poselifter train' and pass it with --lifter")
    verify_shipped(path)
    if path.suffix == ".onnx":
        return LifterRuntime.from_onnx(path, backend, weights=weights, flip_average=flip_average)
    beside = path.with_suffix(".onnx")
    if backend != "torch" and beside.is_file():
        problem = export_problem(beside, path)
        if not problem:
            return LifterRuntime.from_onnx(beside, backend, checkpoint=path, weights=weights, flip_average=flip_average)
        LOG.warning("not using %s beside the checkpoint (%s); running %s itself", beside, problem, path)
    return LifterRuntime.from_checkpoint(path, backend, flip_average=flip_average)


def export_problem(onnx_path: Path, checkpoint: Path) -> str:
    """Why ``onnx_path`` cannot stand in for ``checkpoint`` ("" when it can): unreadable, or not an
    export of this very checkpoint (its recorded checkpoint SHA-256 differs), or a shipped file
    that fails its integrity check."""
    try:
        verify_shipped(onnx_path)
        recorded = read_metadata(onnx_path).get(META_CHECKPOINT_SHA256)
    except (BackendError, ValueError) as error:
        return str(error)
    if recorded != file_sha256(checkpoint):
        return "it is not an export of this checkpoint: its recorded checkpoint SHA-256 differs"
    return ""


def load_pose2d(pose2d_path: str | Path | None = None, backend: str = "auto", long_side: int = 256,
                extra_long_side: int = 0) -> Pose2DEstimator:
    """The 2D stage on the chosen backend, by file: none for the shipped MoveNet; a ``.yaml``
    description of a top-down ONNX keypoint model; an ``.onnx`` integral-ResNet export
    (``poselifter export``) or else a MoveNet-compatible ONNX file; any other file is read as a
    ``poselifter train-2d`` checkpoint. All but MoveNet are top-down and need person boxes.
    ``long_side``: MoveNet's bottom-up input size (a multiple of 32); ``extra_long_side``: 0 or the
    size of its second bottom-up pass (:class:`~.pose2d.movenet.MoveNet`; not ``long_side``, which
    ``CascadeConfig`` refuses). Top-down models have neither (a warning says so for a second pass)."""
    from .pose2d.movenet import MoveNet

    if pose2d_path is None:
        return MoveNet(backend=backend, long_side=long_side, extra_long_side=extra_long_side)
    path = Path(pose2d_path)
    if not path.is_file():
        raise FileNotFoundError(f"no 2D model at {path}")
    if path.suffix.lower() == ".onnx":
        from .pose2d.export import is_integral_resnet_export

        if not is_integral_resnet_export(path):
            return MoveNet(path, backend=backend, long_side=long_side, extra_long_side=extra_long_side)
    if extra_long_side:
        LOG.warning("%s is a top-down 2D model: the second bottom-up pass (pose2d_extra_size %d) does not apply",
                    path, extra_long_side)
    if path.suffix.lower() in (".yaml", ".yml"):
        from .pose2d.onnx_keypoints import OnnxKeypointModel

        return OnnxKeypointModel.from_yaml(path, backend=backend)
    from .pose2d.integral_estimator import IntegralPoseEstimator

    if path.suffix.lower() != ".onnx":
        return IntegralPoseEstimator.from_checkpoint(path, backend=backend)
    return IntegralPoseEstimator.from_onnx(path, backend=backend)


def build_cascade(lifter_path: str | Path | None = None, pose2d_path: str | Path | None = None,
                  config: CascadeConfig = CascadeConfig(), backend: str = "auto",
                  lift_only: bool = False) -> Pose3DEstimator:
    """The 2D stage (default: the shipped MoveNet, see :func:`load_pose2d`) + a lifter (default:
    the shipped one), both on the one ``backend`` setting. ``lift_only`` leaves the 2D stage out,
    for 2D people from elsewhere (no 2D model is loaded)."""
    pose2d = None if lift_only else load_pose2d(pose2d_path, backend, config.pose2d_size, config.pose2d_extra_size)
    lifter = load_lifter_runtime(lifter_path, backend, config.lifter_weights, config.lifter_flip_average)
    return Pose3DEstimator(pose2d, lifter, config)


def result_to_dict(result: CascadeResult) -> dict:
    k = result.intrinsics
    return {
        "intrinsics": {"fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy, "assumed": result.intrinsics_assumed},
        "skipped": dict(result.skipped),
        "skipped_people": [{"box": p.box.round(1).tolist(), "score": round(p.score, 4), "id": p.id, "reason": p.reason,
                            "head": None if p.head is None else {
                                "position_m": p.head.position_m.round(4).tolist(),
                                "depth_range_m": [round(v, 4) for v in p.head.depth_range_m],
                                "face_keypoints": p.head.face_keypoints}}
                           for p in result.skipped_people],
        "head": HEAD_MEANING,
        "second_looks": dict(result.second_looks),
        "floor": dict(result.floor),
        "tracking": dict(result.tracking),
        "tracking_meaning": TRACKING_MEANING,
        "timings_ms": {name: round(v, 2) for name, v in result.timings_ms.items()},
        "coordinate_frame": "camera optical frame: x right, y down, z forward; metres",
        "joint_names": list(H36M17.joint_names),
        "valid": VALID_MEANING,
        "root_source": ROOT_SOURCE_MEANING,
        "people": [{
            "box": p.box.round(1).tolist(), "score": round(p.score, 4),
            "keypoints_2d": p.keypoints_2d.round(2).tolist(), "scores": p.scores.round(3).tolist(),
            "valid": p.valid.tolist(), "root_m": p.root_m.round(4).tolist(), "joints_m": p.joints_m.round(4).tolist(),
            "canonical_depth": round(p.canonical_depth, 7), "metric_depth": p.metric_depth,
            "root_source": p.root_source,
            "track_id": p.track_id, "track_age": p.track_age, "track_state": p.track_state,
        } for p in result.people],
    }


def load_image(path: Path) -> np.ndarray:
    """Any image file OpenCV reads as (H, W, 3) uint8 RGB (grey, alpha and 16-bit images converted
    as in :func:`.images.decode_to_rgb`); ValueError naming the file for an unreadable, truncated or
    oversized one."""
    try:
        rgb = decode_to_rgb(np.fromfile(path, dtype=np.uint8))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read image {path}: {error}") from error
    if rgb is None:
        raise ValueError(f"cannot read image {path}: not an image file OpenCV can decode")
    return rgb


def image_files(source: Path) -> list[Path]:
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return files
    return [source]


def load_boxes(path: str | Path) -> dict | list:
    """The ``--boxes`` file: ``{image name: [[x1, y1, x2, y2], ...]}`` or one list for every image;
    ValueError naming the file for anything else."""
    path = Path(path)
    try:
        boxes = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise FileNotFoundError(f"no boxes file at {path}") from error
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"boxes file {path} is not readable JSON: {error}") from error
    if not isinstance(boxes, (dict, list)):
        raise ValueError(f"boxes file {path} must hold {{image name: [[x1, y1, x2, y2], ...]}} or a list of boxes, "
                         f"not a {type(boxes).__name__}")
    return boxes


def _boxes_for(boxes: dict | list | None, name: str) -> np.ndarray | None:
    if boxes is None:
        return None
    value = boxes.get(name) if isinstance(boxes, dict) else boxes
    try:
        return None if value is None else np.asarray(value, dtype=np.float64).reshape(-1, 4)
    except (TypeError, ValueError) as error:
        raise ValueError(f"boxes for {name} are not [[x1, y1, x2, y2], ...]: {error}") from error


def prepare_output(output: str | Path) -> list[Path]:
    """Make ``output`` a writable folder (before any model loads) and return the earlier results
    it holds (see :func:`replace_earlier_results`); ValueError saying why it cannot be written."""
    output = Path(output)
    try:
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output):
            pass
    except OSError as error:
        raise ValueError(f"cannot write to the output folder {output}: {error.strerror or error}") from error
    return sorted(p for pattern in EARLIER_RESULTS for p in output.glob(pattern))


def replace_earlier_results(output: Path) -> None:
    """Remove the results and pictures of an earlier run in ``output``, saying so, so that stale
    pictures never sit beside new results."""
    earlier = prepare_output(output)
    if earlier:
        LOG.warning("replacing the earlier results in %s: %s", output,
                    ", ".join(p.name for p in earlier[:5]) + (f" and {len(earlier) - 5} more" if len(earlier) > 5 else ""))
        for path in earlier:
            path.unlink()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def start_results(output: Path, record: dict | None) -> None:
    """Clear an earlier run's results from ``output`` (:func:`replace_earlier_results`) and write
    this run's ``record`` (None: none) as :data:`RUN_RECORD` first, so that even an interrupted
    run's results say how they were made."""
    replace_earlier_results(output)
    if record is not None:
        _write_atomically(output / RUN_RECORD, json.dumps(record, indent=1) + "\n")


NO_VIDEO_BOXES = "--boxes is supported for images and folders, not videos"


def check_boxes(boxes_file: str | Path, source: str | Path, max_frames: int | None = None) -> None:
    """What can be checked of ``--boxes`` before any model loads: a readable file, an image or
    folder source (not a video), and a mapping that names at least one of its images (of the
    first ``max_frames``, those processed)."""
    boxes = load_boxes(boxes_file)
    source = Path(source)
    if source.suffix.lower() in VIDEO_SUFFIXES:
        raise ValueError(NO_VIDEO_BOXES)
    check_box_keys(boxes, image_files(source)[:max_frames])


def check_box_keys(boxes: dict | list | None, images: list[Path]) -> None:
    """A ``--boxes`` mapping must name at least one of the input images (else it is a mistake,
    not a request for bottom-up): ValueError naming the expected keys."""
    if isinstance(boxes, dict) and not any(path.name in boxes for path in images):
        expected = ", ".join(repr(p.name) for p in images[:10]) + (" ..." if len(images) > 10 else "")
        raise ValueError(f"--boxes names no input image: its keys are {sorted(boxes)[:10]}, "
                         f"expected image file names: {expected}")


def _floor_plane(cascade: Pose3DEstimator) -> FloorPlane | None:
    """The floor of the cascade's camera mount, for pictures levelled on it; None without a mount."""
    floor = cascade.config.floor
    return floor.plane() if floor.enabled else None


def run_images(cascade: Pose3DEstimator, source: Path, camera: CameraSpec, output: Path,
               boxes: dict | list | None = None, progress: bool = True, max_frames: int | None = None,
               record: dict | None = None) -> Path:
    """``record`` as :data:`RUN_RECORD` (:func:`start_results`), ``results.json`` (rewritten
    atomically after every image, so an interrupted run keeps what it finished) and pictures
    (``<stem>_2d.png``, ``<stem>_3d.png``; ``<name>_...`` for files that share a stem) of the
    folder's images in name order, only the first ``max_frames`` when given. An image that
    cannot be read or processed is logged, recorded with its ``error`` in ``results.json`` and
    skipped; the run goes on."""
    import cv2

    from .viz.poses import draw_2d, plot_3d

    images = image_files(source)[:max_frames]
    check_box_keys(boxes, images)
    stems = Counter(path.stem for path in images)  # a.jpg and a.png: a.jpg_2d.png, a.png_2d.png
    picture_names = {path: path.stem if stems[path.stem] == 1 else path.name for path in images}
    start_results(output, record)
    out = output / "results.json"
    results = {}
    for path in tqdm(images, desc="images", disable=not progress):
        try:
            image = load_image(path)
            result = cascade.process(image, camera.intrinsics(image.shape[1], image.shape[0]),
                                     _boxes_for(boxes, path.name), distortion=camera.distortion)
        except ValueError as error:
            LOG.warning("skipped %s: %s", path, error)
            results[path.name] = {"error": str(error)}
        else:
            results[path.name] = result_to_dict(result)
            base = picture_names[path]
            cv2.imwrite(str(output / f"{base}_2d.png"), cv2.cvtColor(draw_2d(image, result), cv2.COLOR_RGB2BGR))
            plot_3d(result, output / f"{base}_3d.png", title=path.name, floor=_floor_plane(cascade))
        _write_atomically(out, json.dumps(results, indent=1))
    failed = sum("error" in r for r in results.values())
    if failed:
        LOG.warning("%d of %d images skipped (their 'error' in %s says why)", failed, len(results), out)
    return out


#: libx264 speed preset of the annotated video: at imageio's default ("medium") the encoder took
#: 26 ms of CPU per 768x576 frame, more than the cascade; "veryfast" takes 7 ms for a file of the
#: same size (docs/benchmarks.md, #16).
VIDEO_PRESET = "veryfast"


class BackgroundWriter:
    """Feeds a video writer (imageio's) from a thread: writing a frame into the encoder's pipe
    blocks until the encoder has read all of it, so the cascade goes on with the next frame
    meanwhile. At most ``depth`` frames wait; an encoder error is raised by the next call."""

    def __init__(self, writer, depth: int = 4) -> None:
        self._writer = writer
        self._queue: queue.Queue = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="video-writer", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (frame := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._writer.append_data(frame)
                except Exception as error:  # ffmpeg died, disk full, ...: reported to the caller
                    self._error = error

    def append_data(self, frame: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(frame)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._writer.close()
        if self._error is not None:
            raise self._error


#: Frame rate assumed for a video whose header states none, and for a folder of images.
DEFAULT_FPS = 30.0
#: A header frame rate above this [fps] is no camera's (high-speed cameras record about 1000) but a
#: broken or misread header (a time base taken for the rate): :data:`DEFAULT_FPS` is used instead.
MAX_FPS = 1000.0


class VideoReader:
    """A video's frames, decoded by OpenCV: ``(RGB image, presentation time [s])`` in order, the
    first ``max_frames`` when given. The time is the container's timestamp of the frame
    (``CAP_PROP_POS_MSEC``); ``fps`` is the header's rate (:data:`DEFAULT_FPS` when it states none or
    an implausible one), ``total`` its frame count (None when unknown or not a count) and
    ``expected`` the frames to be read.

    A file OpenCV cannot open is a ValueError naming it. Reading stops at the first frame that
    cannot be decoded; :meth:`warn_if_short` then logs how far it got against the header's count.
    """

    def __init__(self, source: str | Path, max_frames: int | None = None) -> None:
        import cv2

        self.source, self.max_frames = Path(source), max_frames
        self.capture = cv2.VideoCapture(str(source))
        if not self.capture.isOpened():
            raise ValueError(f"cannot read video {source}: not a video file OpenCV can open (empty, cut before its "
                             "index, or another kind of file)")
        self.fps = self._rate(self.capture.get(cv2.CAP_PROP_FPS))
        self.total = self._count(self.capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.expected = (self.total if max_frames is None else max_frames if self.total is None
                         else min(self.total, max_frames))
        self.read = 0

    def _rate(self, fps: float) -> float:
        """The header's frame rate, or :data:`DEFAULT_FPS` (with a logged note unless it states
        none, 0) when it is not a rate: not finite, negative, or above :data:`MAX_FPS`."""
        if math.isfinite(fps) and 0 < fps <= MAX_FPS:
            return float(fps)
        if fps != 0:
            LOG.warning("video %s: its header's frame rate %s fps is not plausible; assuming %g fps", self.source,
                        fps, DEFAULT_FPS)
        return DEFAULT_FPS

    def _count(self, count: float) -> int | None:
        """The header's frame count, or None (unknown: with a logged note unless it states none,
        0) when it is not a count: not finite or negative (a raw H.264 or MJPEG stream has no count,
        and OpenCV reports a large negative number)."""
        if math.isfinite(count) and count >= 0:
            return int(count) or None
        LOG.warning("video %s: its header's frame count %s is not a count; the number of frames is unknown",
                    self.source, count)
        return None

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        import cv2

        while self.max_frames is None or self.read < self.max_frames:
            ok, frame = self.capture.read()
            if not ok:
                return
            self.read += 1
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), self.capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0

    def close(self) -> None:
        self.capture.release()

    def warn_if_short(self) -> None:
        """Log a warning when fewer frames were read than expected (a truncated file, or a frame
        that cannot be decoded); the header's count can be off by one, and none means nothing to check."""
        if self.total is not None and self.read < self.expected - 1:
            LOG.warning("video %s ended after %d of the %d frames its header announces (truncated?)", self.source,
                        self.read, self.total)


def run_video(cascade: Pose3DEstimator, source: Path, camera: CameraSpec, output: Path, progress: bool = True,
              video: bool = True, tracking: TrackingConfig = TrackingConfig(), max_frames: int | None = None,
              record: dict | None = None) -> Path:
    """``record`` as :data:`RUN_RECORD` (:func:`start_results`), one JSON line per frame
    (people with track ids and filtered poses unless ``tracking`` is off), and (``video``) an
    annotated copy of the video: the image with the 2D skeletons beside a top view of the 3D
    people with their tracks; only the first ``max_frames`` frames when given. A video that
    cannot be opened is a ValueError naming it; one that ends before the frame count its header
    announces (cut short, or a frame that cannot be decoded) keeps what was read, with a
    warning."""
    import imageio.v2 as iio2

    from .viz.poses import draw_2d, draw_top_view

    reader = VideoReader(source, max_frames)
    fps = reader.fps
    start_results(output, record)
    tracker = Tracker(tracking)
    lines = output / "results.jsonl"
    writer = (BackgroundWriter(iio2.get_writer(output / f"{source.stem}_annotated.mp4", fps=fps, macro_block_size=1,
                                               codec="libx264", ffmpeg_params=["-preset", VIDEO_PRESET]))
              if video else None)
    index = 0
    try:
        with lines.open("w", encoding="utf-8") as stream, \
                tqdm(total=reader.expected, desc="frames", disable=not progress) as bar:
            for image, _ in reader:
                result = cascade.process(image, camera.intrinsics(image.shape[1], image.shape[0]),
                                         distortion=camera.distortion)
                tracker.update(result, index / fps)
                stream.write(json.dumps({"frame": index, "time_s": index / fps, **result_to_dict(result)}) + "\n")
                stream.flush()
                if writer is not None:
                    top = draw_top_view(result, image.shape[0], floor=_floor_plane(cascade))
                    writer.append_data(np.concatenate([draw_2d(image, result), top], axis=1))
                index += 1
                bar.update()
    finally:
        reader.close()
        if writer is not None:
            writer.close()
    reader.warn_if_short()
    return lines


def frame_counts(results: str | Path, key: str) -> Counter:
    """A frame's people counts (``key`` "floor": ``CascadeResult.floor``, its ``FLOOR_*`` keys;
    "tracking": ``CascadeResult.tracking``) summed over a written results.json (photos; an
    unreadable photo's entry has none) or results.jsonl (video)."""
    path = Path(results)
    if path.suffix == ".jsonl":
        with open(path) as stream:
            frames = [json.loads(line) for line in stream if line.strip()]
    else:
        frames = list(json.loads(path.read_text()).values())
    counts: Counter = Counter()
    for frame in frames:
        counts.update(frame.get(key, {}))
    return counts


def check_source(source: str | Path) -> Path:
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no such image, video or folder: {source}")
    return source


def run(source: str | Path, cascade: Pose3DEstimator, camera: CameraSpec, output: str | Path,
        boxes_file: str | Path | None = None, progress: bool = True, video: bool = True,
        tracking: TrackingConfig = TrackingConfig(), max_frames: int | None = None, record: dict | None = None) -> Path:
    """Images and folders are lifted frame by frame; a video is also tracked (``tracking``), and
    (``video``) written annotated (the JSON lines are always written); ``max_frames`` stops a
    video after that many frames, a folder after that many images; ``record`` (how the results
    are made) is written beside them as :data:`RUN_RECORD`."""
    source, output = check_source(source), Path(output)
    boxes = load_boxes(boxes_file) if boxes_file else None
    if boxes is None and isinstance(cascade.estimator, TopDownEstimator):  # every image would fail alike
        raise ValueError(f"the 2D model ({type(cascade.estimator).__name__}) is a top-down estimator: it needs "
                         "person boxes (--boxes)")
    if source.suffix.lower() in VIDEO_SUFFIXES:
        if boxes is not None:
            raise ValueError(NO_VIDEO_BOXES)
        return run_video(cascade, source, camera, output, progress, video, tracking, max_frames, record)
    return run_images(cascade, source, camera, output, boxes, progress, max_frames, record)
