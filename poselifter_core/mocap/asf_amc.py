"""Acclaim ASF (skeleton) + AMC (motion) reader, as used by the CMU motion capture database.

Joint positions come out in the ASF's length unit; :attr:`AsfSkeleton.mm_per_unit` converts
them (Acclaim lengths are inches times the ``:units length`` factor, so mm = value * 25.4 /
length; CMU's 0.45 gives 56.44 mm per unit).

Kinematics (the Acclaim / CMU ``mocapPlayer`` convention): a bone's ``axis a b c XYZ`` and its
per-frame dof angles both rotate about fixed axes in the order written, so ``axis ... XYZ`` is
``C = Rz(c) @ Ry(b) @ Rx(a)`` and ``dof rx ry rz`` is ``M = Rz @ Ry @ Rx``. The bone's global
rotation is ``G = G_parent @ C @ M @ C^T`` and its end sits at ``end_parent + G @ direction *
length``. Output joints are ``root`` (the AMC root position) and one per bone, at the bone's end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .kinematics import euler_to_matrix

_ROTATION_DOFS = ("rx", "ry", "rz")


@dataclass
class AsfBone:
    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray
    axis_order: str
    dofs: tuple[str, ...] = ()
    parent: str = ""


@dataclass
class AsfSkeleton:
    bones: dict[str, AsfBone]
    root_order: tuple[str, ...]
    root_axis_order: str
    root_orientation: np.ndarray
    length_scale: float = 1.0
    angles_in_degrees: bool = True
    source: str = ""
    children: dict[str, list[str]] = field(default_factory=dict)

    @property
    def mm_per_unit(self) -> float:
        return 25.4 / self.length_scale

    def ordered_bones(self) -> list[str]:
        """Bones reachable from the root, parents before children."""
        order, stack = [], list(reversed(self.children.get("root", [])))
        while stack:
            name = stack.pop()
            order.append(name)
            stack.extend(reversed(self.children.get(name, [])))
        return order


@dataclass
class AmcMotion:
    """Per-frame dof values: ``values[name]`` is (F, k) in the order of the ASF's dof / root order."""

    values: dict[str, np.ndarray]
    num_frames: int
    source: str = ""


def read_asf(path: str | Path) -> AsfSkeleton:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ASF file at {path}")
    return parse_asf(path.read_text(encoding="utf-8", errors="replace"), str(path))


def read_amc(path: str | Path, skeleton: AsfSkeleton) -> AmcMotion:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no AMC file at {path}")
    return parse_amc(path.read_text(encoding="utf-8", errors="replace"), skeleton, str(path))


def _sections(text: str) -> dict[str, list[tuple[int, list[str]]]]:
    """``:keyword`` sections of an ASF file: keyword -> [(line number, tokens), ...]."""
    sections: dict[str, list[tuple[int, list[str]]]] = {}
    current = None
    for number, line in enumerate(text.split("\n"), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        if tokens[0].startswith(":"):
            current = tokens[0][1:].lower()
            sections[current] = [(number, tokens[1:])] if len(tokens) > 1 else []
        elif current is not None:
            sections[current].append((number, tokens))
    return sections


def _floats(source: str, number: int, tokens: list[str], count: int, what: str) -> np.ndarray:
    try:
        if len(tokens) < count:
            raise ValueError
        return np.array([float(t) for t in tokens[:count]])
    except ValueError:
        raise ValueError(f"{source}:{number}: expected {count} numbers for {what}, found {' '.join(tokens)!r}") from None


def parse_asf(text: str, source: str = "<asf>") -> AsfSkeleton:
    sections = _sections(text)
    for needed in ("root", "bonedata", "hierarchy"):
        if needed not in sections:
            raise ValueError(f"{source}: not an ASF skeleton: no ':{needed}' section")
    length_scale, in_degrees = 1.0, True
    for number, tokens in sections.get("units", []):
        if tokens[0] == "length":
            length_scale = float(_floats(source, number, tokens[1:], 1, "units length")[0])
        elif tokens[0] == "angle":
            in_degrees = tokens[1:2] != ["rad"]
    root_order: tuple[str, ...] = ("TX", "TY", "TZ", "RX", "RY", "RZ")
    root_axis, orientation = "XYZ", np.zeros(3)
    for number, tokens in sections["root"]:
        if tokens[0] == "order":
            root_order = tuple(t.upper() for t in tokens[1:])
            unknown = set(root_order) - {"TX", "TY", "TZ", "RX", "RY", "RZ"}
            if unknown:
                raise ValueError(f"{source}:{number}: unknown root channel(s) {sorted(unknown)}")
        elif tokens[0] == "axis":
            root_axis = tokens[1].upper()
        elif tokens[0] == "orientation":
            orientation = _floats(source, number, tokens[1:], 3, "root orientation")
    skeleton = AsfSkeleton({}, root_order, root_axis, orientation, length_scale, in_degrees, source)
    _parse_bonedata(sections["bonedata"], skeleton)
    for number, tokens in sections["hierarchy"]:
        if tokens[0] in ("begin", "end"):
            continue
        parent, children = tokens[0], tokens[1:]
        for child in children:
            if child not in skeleton.bones:
                raise ValueError(f"{source}:{number}: hierarchy names bone {child!r} that :bonedata does not define")
            if parent != "root" and parent not in skeleton.bones:
                raise ValueError(f"{source}:{number}: hierarchy names parent {parent!r} that :bonedata does not define")
            skeleton.bones[child].parent = parent
        skeleton.children.setdefault(parent, []).extend(children)
    return skeleton


def _parse_bonedata(lines: list[tuple[int, list[str]]], skeleton: AsfSkeleton) -> None:
    source = skeleton.source
    bone: dict | None = None
    for number, tokens in lines:
        key = tokens[0]
        if key == "begin":
            bone = {"line": number}
        elif key == "end":
            if bone is None or "name" not in bone:
                raise ValueError(f"{source}:{number}: bone block without a name")
            for required in ("direction", "length"):
                if required not in bone:
                    raise ValueError(f"{source}: bone {bone['name']!r} (line {bone['line']}) has no {required}")
            skeleton.bones[bone["name"]] = AsfBone(
                bone["name"], bone["direction"], bone["length"], bone.get("axis", np.zeros(3)),
                bone.get("axis_order", "XYZ"), bone.get("dofs", ()),
            )
            bone = None
        elif bone is None:
            raise ValueError(f"{source}:{number}: {key!r} outside a begin/end bone block")
        elif key == "name":
            bone["name"] = tokens[1]
        elif key == "direction":
            bone["direction"] = _floats(source, number, tokens[1:], 3, "direction")
        elif key == "length":
            bone["length"] = float(_floats(source, number, tokens[1:], 1, "length")[0])
        elif key == "axis":
            bone["axis"] = _floats(source, number, tokens[1:], 3, "axis")
            bone["axis_order"] = tokens[4].upper() if len(tokens) > 4 else "XYZ"
        elif key == "dof":
            dofs = tuple(t.lower() for t in tokens[1:])
            unsupported = [d for d in dofs if d not in _ROTATION_DOFS]
            if unsupported:
                raise ValueError(f"{source}:{number}: unsupported dof(s) {unsupported}; only rx, ry, rz are read")
            bone["dofs"] = dofs
        # id, limits and their continuation lines carry nothing the kinematics needs


def parse_amc(text: str, skeleton: AsfSkeleton, source: str = "<amc>") -> AmcMotion:
    """Read AMC frames; every frame must list the same bones (``:FULLY-SPECIFIED``)."""
    widths = {"root": len(skeleton.root_order)}
    widths.update({name: len(bone.dofs) for name, bone in skeleton.bones.items()})
    frames: list[dict[str, list[float]]] = []
    first_number = None
    for number, line in enumerate(text.split("\n"), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith(("#", ":")):
            continue
        if len(tokens) == 1 and tokens[0].isdigit():
            first_number = int(tokens[0]) if first_number is None else first_number
            if int(tokens[0]) != first_number + len(frames):
                raise ValueError(f"{source}:{number}: frame {tokens[0]} where frame {first_number + len(frames)} was expected")
            frames.append({})
            continue
        if not frames:
            raise ValueError(f"{source}:{number}: bone values before the first frame number")
        name = tokens[0]
        if name not in widths:
            raise ValueError(f"{source}:{number}: bone {name!r} is not in the skeleton {skeleton.source}")
        if len(tokens) - 1 != widths[name]:
            raise ValueError(f"{source}:{number}: bone {name!r} has {len(tokens) - 1} values, its dofs need {widths[name]}")
        try:
            frames[-1][name] = [float(t) for t in tokens[1:]]
        except ValueError:
            raise ValueError(f"{source}:{number}: non-numeric value in {' '.join(tokens)!r}") from None
    if not frames:
        raise ValueError(f"{source}: no frames in the AMC file")
    moving = [name for name, width in widths.items() if width > 0]
    for k, frame in enumerate(frames):
        missing = [name for name in moving if name not in frame]
        if missing:
            where = "truncated motion: the last frame" if k == len(frames) - 1 else f"frame {k + 1}"
            raise ValueError(f"{source}: {where} lacks values for bone(s) {missing}")
    values = {name: np.array([frame[name] for frame in frames]).reshape(len(frames), -1) for name in moving}
    return AmcMotion(values, len(frames), source)


def asf_amc_positions(skeleton: AsfSkeleton, motion: AmcMotion) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Forward kinematics: (joint names, positions (F, J, 3), rotations (F, J, 3, 3)) in ASF units."""
    frames = motion.num_frames
    to_degrees = 1.0 if skeleton.angles_in_degrees else 180.0 / np.pi
    root = motion.values.get("root", np.zeros((frames, len(skeleton.root_order))))
    translation = np.zeros((frames, 3))
    angles = np.zeros((frames, 3))
    for col, channel in enumerate(skeleton.root_order):
        target = translation if channel[0] == "T" else angles
        target[:, "XYZ".index(channel[1])] = root[:, col] * (1.0 if channel[0] == "T" else to_degrees)
    rot_order = "".join(c[1] for c in skeleton.root_order if c[0] == "R")
    root_c = _fixed_axis_matrix(skeleton.root_orientation * to_degrees, skeleton.root_axis_order)
    motion_r = _fixed_axis_matrix(angles[:, ["XYZ".index(a) for a in rot_order]], rot_order)
    names, positions, rotations = ["root"], {"root": translation}, {"root": root_c @ motion_r @ root_c.T}
    for name in skeleton.ordered_bones():
        bone = skeleton.bones[name]
        c = _fixed_axis_matrix(bone.axis * to_degrees, bone.axis_order)
        dof_values = motion.values.get(name, np.zeros((frames, 0))) * to_degrees
        m = _fixed_axis_matrix(dof_values, "".join(d[1].upper() for d in bone.dofs))
        parent = bone.parent or "root"
        rotations[name] = rotations[parent] @ c @ m @ c.T
        positions[name] = positions[parent] + rotations[name] @ (bone.direction * bone.length)
        names.append(name)
    return names, np.stack([positions[n] for n in names], 1), np.stack([rotations[n] for n in names], 1)


def _fixed_axis_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Rotations about fixed axes applied in ``order``: ``XYZ`` -> ``Rz @ Ry @ Rx``."""
    angles = np.asarray(angles_deg, dtype=np.float64)
    return euler_to_matrix(angles[..., ::-1], order[::-1])
