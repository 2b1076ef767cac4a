"""Human3.6M-style camera calibration supplied by the user as JSON, and its camera model.

VideoPose3D hard-codes Human3.6M's calibration in its source; this project ships none of it.
Users write it (from the dataset's own calibration or VideoPose3D's ``common/h36m_dataset.py``)
into a JSON file of this form::

    {
      "cameras": [                                   # in the order of positions_2d's camera lists
        {"id": "54138969", "fx": 1145.0, "fy": 1143.8, "cx": 512.5, "cy": 515.5,
         "width": 1000, "height": 1002,                        # optional: image size in pixels
         "radial_distortion": [k1, k2, k3],                    # optional, default zeros
         "tangential_distortion": [p1, p2]},                   # optional, default zeros
        ...
      ],
      "extrinsics": {                                # per subject, per camera id
        "S1": {"54138969": {"orientation": [w, x, y, z], "translation_mm": [tx, ty, tz]}, ...},
        ...
      }
    }

Extrinsics use VideoPose3D's convention: ``orientation`` is the unit quaternion (w, x, y, z)
that rotates camera-frame vectors into the world frame and ``translation_mm`` is the camera
centre in world coordinates, in millimetres (VideoPose3D divides these values by 1000 to get
metres). World -> camera is therefore ``X_cam = R(q)^T (X_world - t)``, the same as
VideoPose3D's ``world_to_camera(X, R=q, t=t)`` = ``qrot(qinverse(q), X - t)``.

Distortion uses the Human3.6M model that VideoPose3D's ``project_to_2d`` implements, with
normalized coordinates x = X/Z, y = Y/Z and r2 = x^2 + y^2::

    radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3,   tan = p1 x + p2 y
    x_d = x (radial + tan) + p1 r2,           y_d = y (radial + tan) + p2 r2
    u = fx x_d + cx,                          v = fy y_d + cy

(VideoPose3D also clamps x, y to [-1, 1] before distorting; points that far off-axis are
outside Human3.6M's images, so the clamp is omitted here.)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import require_file, require_keys

#: Quaternions further than this from unit norm are rejected rather than silently normalized.
QUATERNION_NORM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class CameraModel:
    id: str
    intrinsics: np.ndarray  # (4,) fx, fy, cx, cy in pixels
    image_size: tuple[int, int] | None  # width, height
    radial: np.ndarray  # (3,) k1, k2, k3
    tangential: np.ndarray  # (2,) p1, p2

    @property
    def distorted(self) -> bool:
        return bool(np.any(self.radial) or np.any(self.tangential))


@dataclass(frozen=True)
class Extrinsics:
    orientation: np.ndarray  # (4,) unit quaternion w, x, y, z: camera -> world rotation
    translation_mm: np.ndarray  # (3,) camera centre in world coordinates, mm


@dataclass(frozen=True)
class CameraRig:
    cameras: tuple[CameraModel, ...]
    extrinsics: dict[str, dict[str, Extrinsics]]

    def extrinsics_of(self, subject: str, camera_id: str, where: str) -> Extrinsics:
        if subject not in self.extrinsics:
            raise ValueError(f"{where}: no extrinsics for subject {subject!r}; it has {sorted(self.extrinsics)}")
        if camera_id not in self.extrinsics[subject]:
            raise ValueError(
                f"{where}: no extrinsics for camera {camera_id!r} of subject {subject!r}; "
                f"it has {sorted(self.extrinsics[subject])}"
            )
        return self.extrinsics[subject][camera_id]


def load_camera_rig(path: str | Path) -> CameraRig:
    """Read and validate the camera JSON described in the module docstring."""
    path = require_file(path, "camera-parameter JSON")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the top level must be an object with 'cameras' and 'extrinsics'")
    require_keys(data, ("cameras", "extrinsics"), str(path))
    if not isinstance(data["cameras"], list) or not data["cameras"]:
        raise ValueError(f"{path}: 'cameras' must be a non-empty list, in the order of the 2D file's camera lists")
    cameras = tuple(_camera(entry, f"{path}: cameras[{i}]") for i, entry in enumerate(data["cameras"]))
    ids = [c.id for c in cameras]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: camera ids must be unique, got {ids}")
    if not isinstance(data["extrinsics"], dict):
        raise ValueError(f"{path}: 'extrinsics' must map subject -> camera id -> extrinsics")
    extrinsics: dict[str, dict[str, Extrinsics]] = {}
    for subject, per_camera in data["extrinsics"].items():
        if not isinstance(per_camera, dict):
            raise ValueError(f"{path}: extrinsics[{subject!r}] must map camera id -> extrinsics")
        extrinsics[subject] = {}
        for camera_id, entry in per_camera.items():
            where = f"{path}: extrinsics[{subject!r}][{camera_id!r}]"
            if camera_id not in ids:
                raise ValueError(f"{where}: unknown camera id; 'cameras' has {ids}")
            extrinsics[subject][camera_id] = _extrinsics(entry, where)
    return CameraRig(cameras=cameras, extrinsics=extrinsics)


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a unit quaternion (w, x, y, z): ``R @ v`` equals ``q v q*``."""
    w, x, y, z = np.asarray(q, dtype=np.float64)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def world_to_camera(points: np.ndarray, extrinsics: Extrinsics) -> np.ndarray:
    """World points (..., 3) in mm -> camera frame (x right, y down, z forward) in mm."""
    rotation = quaternion_to_matrix(extrinsics.orientation)
    return (np.asarray(points, dtype=np.float64) - extrinsics.translation_mm) @ rotation


def project_distorted(points: np.ndarray, camera: CameraModel) -> np.ndarray:
    """Camera-frame points (..., 3) -> pixels (..., 2) through the Human3.6M distortion model."""
    x = points[..., 0] / points[..., 2]
    y = points[..., 1] / points[..., 2]
    xd, yd = _distort(x, y, camera.radial, camera.tangential)
    fx, fy, cx, cy = camera.intrinsics
    return np.stack([fx * xd + cx, fy * yd + cy], axis=-1)


def undistort_pixels(pixels: np.ndarray, camera: CameraModel, iterations: int = 20) -> np.ndarray:
    """Invert the distortion of :func:`project_distorted` by fixed-point iteration.

    Returns the pixels an ideal pinhole camera with the same intrinsics would see.
    """
    fx, fy, cx, cy = camera.intrinsics
    xd = (pixels[..., 0] - cx) / fx
    yd = (pixels[..., 1] - cy) / fy
    if not camera.distorted:
        return np.array(pixels, dtype=np.float64, copy=True)
    k1, k2, k3 = camera.radial
    p1, p2 = camera.tangential
    x, y = xd.copy(), yd.copy()
    for _ in range(iterations):
        r2 = x * x + y * y
        gain = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3 + p1 * x + p2 * y
        x = (xd - p1 * r2) / gain
        y = (yd - p2 * r2) / gain
    return np.stack([fx * x + cx, fy * y + cy], axis=-1)


def _distort(x: np.ndarray, y: np.ndarray, radial: np.ndarray, tangential: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k1, k2, k3 = radial
    p1, p2 = tangential
    r2 = x * x + y * y
    gain = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3 + p1 * x + p2 * y
    return x * gain + p1 * r2, y * gain + p2 * r2


def _vector(entry: dict, key: str, size: int, where: str, default: list[float] | None = None) -> np.ndarray:
    value = entry.get(key, default)
    array = np.asarray(value, dtype=np.float64) if value is not None else None
    if array is None or array.shape != (size,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{where}: {key!r} must be a list of {size} finite numbers, got {value!r}")
    return array


def _camera(entry: object, where: str) -> CameraModel:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be an object with id, fx, fy, cx, cy")
    require_keys(entry, ("id", "fx", "fy", "cx", "cy"), where)
    known = {"id", "fx", "fy", "cx", "cy", "width", "height", "radial_distortion", "tangential_distortion"}
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    intrinsics = np.array([entry[k] for k in ("fx", "fy", "cx", "cy")], dtype=np.float64)
    if not np.all(np.isfinite(intrinsics)) or np.any(intrinsics[:2] <= 0):
        raise ValueError(f"{where}: fx, fy must be positive and fx, fy, cx, cy finite, got {intrinsics.tolist()}")
    if ("width" in entry) != ("height" in entry):
        raise ValueError(f"{where}: give both 'width' and 'height' or neither")
    size = (int(entry["width"]), int(entry["height"])) if "width" in entry else None
    if size is not None and min(size) <= 0:
        raise ValueError(f"{where}: image size must be positive, got {size}")
    return CameraModel(
        id=str(entry["id"]),
        intrinsics=intrinsics,
        image_size=size,
        radial=_vector(entry, "radial_distortion", 3, where, [0.0, 0.0, 0.0]),
        tangential=_vector(entry, "tangential_distortion", 2, where, [0.0, 0.0]),
    )


def _extrinsics(entry: object, where: str) -> Extrinsics:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be an object with 'orientation' and 'translation_mm'")
    if "translation" in entry:
        raise ValueError(f"{where}: write the translation as 'translation_mm' (millimetres), not 'translation'")
    require_keys(entry, ("orientation", "translation_mm"), where)
    q = _vector(entry, "orientation", 4, where)
    norm = float(np.linalg.norm(q))
    if abs(norm - 1.0) > QUATERNION_NORM_TOLERANCE:
        raise ValueError(f"{where}: 'orientation' must be a unit quaternion (w, x, y, z), its norm is {norm:.6f}")
    return Extrinsics(orientation=q / norm, translation_mm=_vector(entry, "translation_mm", 3, where))
