"""The one sample container every data source produces, and the plain npz format.

A :class:`PoseSet` holds N samples of one skeleton: 2D keypoints in pixels, the matching 3D
joints in the camera frame in millimetres (x right, y down, z forward), and per-sample
intrinsics ``[fx, fy, cx, cy]``. Optional per-sample labels (subject, action, camera) drive the
per-group evaluation tables.

Plain npz format (``PoseSet.save`` / ``PoseSet.load``), for data from any other source:

=============== ============== ===========================================================
key             shape, dtype   meaning
=============== ============== ===========================================================
keypoints_2d    (N, J, 2) f4   2D joints in pixels (undistorted)
joints_3d       (N, J, 3) f4   3D joints, camera frame, millimetres
K               (N, 3, 3) f8   camera matrix per sample (or ``intrinsics`` (N, 4) fx fy cx cy)
image_size      (N, 2) i4      optional: width, height in pixels
visible         (N, J) bool    optional: observed joints (default all); a missing joint's 2D
                               value is kept (e.g. outside the image) but not used by the lifter
floor           (N, 4) f8      optional: the floor in the camera frame: world up (unit vector)
                               and the camera's height above the floor in mm (the rig's)
subject         (N,) str       optional labels; ``action`` and ``camera`` likewise
skeleton        () str         optional: skeleton name, default ``h36m17``
=============== ============== ===========================================================
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ..camera import intrinsics_from_matrices, validate_intrinsics_array
from ..skeleton import Skeleton, get_skeleton

LABELS = ("subject", "action", "camera")


@dataclass
class PoseSet:
    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    intrinsics: np.ndarray
    skeleton: Skeleton
    image_size: np.ndarray | None = None
    subject: np.ndarray = field(default=None)  # type: ignore[assignment]
    action: np.ndarray = field(default=None)  # type: ignore[assignment]
    camera: np.ndarray = field(default=None)  # type: ignore[assignment]
    visible: np.ndarray = field(default=None)  # type: ignore[assignment]  # (N, J) bool, default all True
    floor: np.ndarray | None = None  # (N, 4): up in the camera frame, camera height above the floor [mm]

    def __post_init__(self) -> None:
        self.keypoints_2d = np.asarray(self.keypoints_2d, dtype=np.float32)
        self.joints_3d = np.asarray(self.joints_3d, dtype=np.float32)
        self.intrinsics = np.asarray(self.intrinsics, dtype=np.float64)
        n = len(self.keypoints_2d)
        if self.intrinsics.ndim == 1:
            self.intrinsics = np.broadcast_to(self.intrinsics, (n, 4)).copy()
        for name in LABELS:
            value = getattr(self, name)
            setattr(self, name, np.full(n, "", dtype="<U1") if value is None else np.asarray(value).astype(str))
        if self.image_size is not None:
            self.image_size = np.asarray(self.image_size, dtype=np.int32)
        self.visible = (np.ones(self.keypoints_2d.shape[:2], dtype=bool) if self.visible is None
                        else np.asarray(self.visible, dtype=bool))
        if self.floor is not None:
            self.floor = np.asarray(self.floor, dtype=np.float64)
        self.validate()

    def validate(self) -> None:
        n = len(self.keypoints_2d)
        self.skeleton.check_joint_count(self.keypoints_2d, "keypoints_2d")
        self.skeleton.check_joint_count(self.joints_3d, "joints_3d")
        if self.keypoints_2d.shape[-1] != 2 or self.joints_3d.shape[-1] != 3:
            raise ValueError("keypoints_2d must be (N, J, 2) and joints_3d (N, J, 3)")
        for name, array in (("joints_3d", self.joints_3d), ("intrinsics", self.intrinsics)):
            if len(array) != n:
                raise ValueError(f"{name} has {len(array)} samples, keypoints_2d has {n}")
        validate_intrinsics_array(self.intrinsics)
        if self.visible.shape != self.keypoints_2d.shape[:2]:
            raise ValueError(f"visible must have shape {self.keypoints_2d.shape[:2]}, got {self.visible.shape}")
        if self.floor is not None and self.floor.shape != (n, 4):
            raise ValueError(f"floor must have shape {(n, 4)}, got {self.floor.shape}")
        for name in LABELS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"label {name!r} has {len(getattr(self, name))} entries for {n} samples")

    def __len__(self) -> int:
        return len(self.keypoints_2d)

    def subset(self, index: np.ndarray | slice) -> "PoseSet":
        """Samples selected by a boolean mask, an index array or a slice."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            values[f.name] = value if f.name == "skeleton" or value is None else value[index]
        return PoseSet(**values)

    def where(self, **labels: list[str] | str) -> "PoseSet":
        """Samples whose labels are in the given values, e.g. ``where(subject=["S9", "S11"])``."""
        mask = np.ones(len(self), dtype=bool)
        for name, wanted in labels.items():
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            mask &= np.isin(getattr(self, name), [str(w) for w in wanted])
        return self.subset(mask)

    @staticmethod
    def concatenate(sets: list["PoseSet"]) -> "PoseSet":
        if not sets:
            raise ValueError("nothing to concatenate")
        skeleton = sets[0].skeleton
        if any(s.skeleton != skeleton for s in sets):
            raise ValueError("cannot concatenate pose sets of different skeletons")
        sizes = [s.image_size for s in sets]
        image_size = None if any(x is None for x in sizes) else np.concatenate(sizes)
        floors = [s.floor for s in sets]
        floor = None if any(x is None for x in floors) else np.concatenate(floors)
        return PoseSet(
            keypoints_2d=np.concatenate([s.keypoints_2d for s in sets]),
            joints_3d=np.concatenate([s.joints_3d for s in sets]),
            intrinsics=np.concatenate([s.intrinsics for s in sets]),
            skeleton=skeleton,
            image_size=image_size,
            visible=np.concatenate([s.visible for s in sets]),
            floor=floor,
            **{name: np.concatenate([getattr(s, name) for s in sets]) for name in LABELS},
        )

    def save(self, path: str | Path) -> None:
        """Write the plain npz format described in the module docstring."""
        K = np.zeros((len(self), 3, 3))
        K[:, 0, 0], K[:, 1, 1] = self.intrinsics[:, 0], self.intrinsics[:, 1]
        K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = self.intrinsics[:, 2], self.intrinsics[:, 3], 1.0
        extra = {name: getattr(self, name) for name in ("image_size", "floor") if getattr(self, name) is not None}
        np.savez_compressed(
            path,
            keypoints_2d=self.keypoints_2d,
            joints_3d=self.joints_3d,
            K=K,
            skeleton=np.array(self.skeleton.name),
            visible=self.visible,
            **{name: getattr(self, name) for name in LABELS},
            **extra,
        )

    @classmethod
    def load(cls, path: str | Path) -> "PoseSet":
        """Read the plain npz format, with clear errors for missing or malformed keys."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no pose file at {path}")
        with np.load(path, allow_pickle=False) as data:
            missing = {"keypoints_2d", "joints_3d"} - set(data.files)
            if missing or not ({"K", "intrinsics"} & set(data.files)):
                raise ValueError(
                    f"{path}: a plain pose npz needs keypoints_2d, joints_3d and K (or intrinsics); "
                    f"it has {sorted(data.files)}"
                )
            intrinsics = (
                intrinsics_from_matrices(data["K"]) if "K" in data.files else np.asarray(data["intrinsics"])
            )
            return cls(
                keypoints_2d=data["keypoints_2d"],
                joints_3d=data["joints_3d"],
                intrinsics=intrinsics,
                skeleton=get_skeleton(str(data["skeleton"])) if "skeleton" in data.files else get_skeleton("h36m17"),
                image_size=data["image_size"] if "image_size" in data.files else None,
                visible=data["visible"] if "visible" in data.files else None,
                floor=data["floor"] if "floor" in data.files else None,
                **{name: data[name] for name in LABELS if name in data.files},
            )
