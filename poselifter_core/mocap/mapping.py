"""Source skeleton -> Human3.6M-17 joint mapping, as data (one small YAML file per source skeleton).

A mapping file::

    name: cmu31_bvh
    description: CMU 31-joint skeleton, BVH conversion (Hips, LHipJoint, LeftUpLeg, ...)
    unit: cmu        # mm per file unit: mm, cm, m, inch, cmu (= inch / 0.45), file (ASF's own
                     # :units), auto (pick the named unit giving an adult-sized body), or a number
    up: y            # the file's up axis (y or z); z-up data is turned to Y up
    joints:          # every H36M-17 joint, each one of:
      RKnee: RightLeg                     # a source joint
      Hip: [LeftUpLeg, RightUpLeg]        # the mean of several source joints
      Spine: ["@Hip", "@Thorax"]          # '@' names an H36M joint this file already defines
      Head: {joint: CC_Base_Head, offset: [0, 10, 0]}   # a point fixed in a joint's frame, in the
                                                        # mapping's unit (file units if auto/file);
                                                        # --unit rescales a file into that unit first
    rest_offsets:    # optional, BVH only: repair a joint's OFFSET before forward kinematics, with
      Neck: Spine1   # another joint's OFFSET (copied) or [x, y, z] in file units

Packaged mappings live in ``poselifter_core/mocap/mappings/<name>.yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..skeleton import H36M17, Skeleton

MAPPINGS_DIR = Path(__file__).parent / "mappings"

#: Millimetres per file unit for the named units a mapping or the CLI may give.
UNITS_MM: dict[str, float] = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "inch": 25.4, "cmu": 25.4 / 0.45}

#: Typical sum of the 16 H36M-17 bone lengths of an adult (mm): what ``unit: auto`` aims for.
#: Human3.6M and CMU subjects measure 3600-3900 mm.
ADULT_BONE_SUM_MM = 3700.0


@dataclass(frozen=True)
class MappingEntry:
    """One target joint: the mean of ``sources`` (source joints, or '@'-prefixed target joints),
    or, with ``offset``, a point fixed in the frame of the single source joint."""

    sources: tuple[str, ...]
    offset: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class JointMapping:
    name: str
    joints: dict[str, MappingEntry]
    unit: str | float = "auto"
    up: str = "y"
    description: str = ""
    skeleton: Skeleton = H36M17
    rest_offsets: dict[str, str | tuple[float, float, float]] = field(default_factory=dict)

    def source_joints(self) -> list[str]:
        """The source joints this mapping reads (forward kinematics needs only these)."""
        names = {s for e in self.joints.values() for s in e.sources if not s.startswith("@")}
        return sorted(names)

    def apply(self, names: list[str], positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
        """Target joints (F, 17, 3) in file units, Y up, from source positions/rotations (F, J, 3[, 3])."""
        index = {n: i for i, n in enumerate(names)}
        missing = [s for s in self.source_joints() if s not in index]
        if missing:
            raise KeyError(f"mapping {self.name!r} needs joint(s) {missing} that the file lacks; it has {names}")
        out: dict[str, np.ndarray] = {}
        pending = list(self.skeleton.joint_names)
        while pending:
            progress = False
            for target in list(pending):
                entry = self.joints[target]
                if any(s[1:] not in out for s in entry.sources if s.startswith("@")):
                    continue
                if entry.offset is not None:
                    j = index[entry.sources[0]]
                    out[target] = positions[:, j] + rotations[:, j] @ np.asarray(entry.offset)
                else:
                    points = [out[s[1:]] if s.startswith("@") else positions[:, index[s]] for s in entry.sources]
                    out[target] = np.mean(points, axis=0)
                pending.remove(target)
                progress = True
            if not progress:
                raise ValueError(f"mapping {self.name!r}: circular '@' references among {pending}")
        joints = np.stack([out[n] for n in self.skeleton.joint_names], axis=1)
        return z_up_to_y_up(joints) if self.up == "z" else joints


def z_up_to_y_up(points: np.ndarray) -> np.ndarray:
    """Rotate -90 degrees about X: (x, y, z) with Z up -> (x, z, -y) with Y up (stays right-handed)."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def mm_per_unit(unit: str | float, joints: np.ndarray | None = None, file_mm_per_unit: float | None = None,
                skeleton: Skeleton = H36M17) -> float:
    """Resolve a unit spec to millimetres per file unit.

    ``auto`` picks the named unit that makes the median bone-length sum of ``joints`` (file units,
    H36M-17) closest to an adult's; ``file`` uses the unit the file declares (ASF ``:units``).
    """
    if isinstance(unit, (int, float)):
        if unit <= 0:
            raise ValueError(f"unit must be positive mm per file unit, got {unit}")
        return float(unit)
    if unit in UNITS_MM:
        return UNITS_MM[unit]
    if unit == "file":
        if file_mm_per_unit is None:
            raise ValueError("unit 'file' needs a file that declares its unit (ASF :units); BVH does not")
        return file_mm_per_unit
    if unit == "auto":
        if joints is None:
            raise ValueError("unit 'auto' needs the joints to measure")
        size = float(np.median(skeleton.bone_lengths(joints).sum(-1)))
        if not size > 0:
            raise ValueError("unit 'auto': the skeleton has zero size; give the unit explicitly")
        return min(UNITS_MM.values(), key=lambda f: abs(np.log(size * f / ADULT_BONE_SUM_MM)))
    raise ValueError(f"unknown unit {unit!r}; use one of {sorted(UNITS_MM)}, file, auto or a number of mm")


def packaged_mappings() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def load_mapping(name_or_path: str | Path, skeleton: Skeleton = H36M17) -> JointMapping:
    """A packaged mapping by name (``cmu31_bvh``) or a YAML file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise FileNotFoundError(f"no packaged mapping {str(name_or_path)!r}; packaged: {packaged_mappings()}")
    elif not path.is_file():
        raise FileNotFoundError(f"no mapping file at {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return mapping_from_dict(data, where=str(path), skeleton=skeleton)


def mapping_from_dict(data: Any, where: str = "mapping", skeleton: Skeleton = H36M17) -> JointMapping:
    if not isinstance(data, dict) or not isinstance(data.get("joints"), dict):
        raise ValueError(f"{where}: a mapping is a YAML mapping with a 'joints:' table")
    known = ("name", "description", "unit", "up", "joints", "rest_offsets")
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: {', '.join(known)}")
    joints = data["joints"]
    missing = [n for n in skeleton.joint_names if n not in joints]
    extra = [n for n in joints if n not in skeleton.joint_names]
    if missing or extra:
        raise ValueError(f"{where}: joints must be exactly {skeleton.name}'s; missing {missing}, unknown {extra}")
    up = str(data.get("up", "y")).lower()
    if up not in ("y", "z"):
        raise ValueError(f"{where}: up must be 'y' or 'z', got {up!r}")
    unit = data.get("unit", "auto")
    if not isinstance(unit, (int, float)) and unit not in (*UNITS_MM, "auto", "file"):
        raise ValueError(f"{where}: unknown unit {unit!r}; use one of {sorted(UNITS_MM)}, file, auto or a number")
    entries = {name: _entry(value, f"{where}: joint {name}", skeleton) for name, value in joints.items()}
    rest_offsets = {}
    for joint, value in (data.get("rest_offsets") or {}).items():
        if isinstance(value, list) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value):
            rest_offsets[str(joint)] = tuple(float(v) for v in value)
        elif isinstance(value, str):
            rest_offsets[str(joint)] = value
        else:
            raise ValueError(f"{where}: rest_offsets.{joint} must be a joint name or [x, y, z], got {value!r}")
    return JointMapping(str(data.get("name", Path(where).stem)), entries, unit, up, str(data.get("description", "")),
                        skeleton, rest_offsets)


def _entry(value: Any, where: str, skeleton: Skeleton) -> MappingEntry:
    if isinstance(value, str):
        entry = MappingEntry((value,))
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        entry = MappingEntry(tuple(value))
    elif isinstance(value, dict) and set(value) == {"joint", "offset"}:
        offset = value["offset"]
        if not (isinstance(offset, list) and len(offset) == 3 and all(isinstance(v, (int, float)) for v in offset)):
            raise ValueError(f"{where}: offset must be three numbers, got {offset!r}")
        entry = MappingEntry((str(value["joint"]),), tuple(float(v) for v in offset))  # type: ignore[arg-type]
    else:
        raise ValueError(f"{where}: expected a joint name, a list of joint names or {{joint, offset}}, got {value!r}")
    for source in entry.sources:
        if source.startswith("@") and source[1:] not in skeleton.joint_names:
            raise ValueError(f"{where}: {source!r} names no {skeleton.name} joint")
        if source.startswith("@") and entry.offset is not None:
            raise ValueError(f"{where}: an offset point must hang off a source joint, not {source!r}")
    return entry
