"""BVH (Biovision Hierarchy) reader: any joint tree, any Euler channel order, position channels on
any joint, and forward kinematics to joint positions in the file's own length unit.

We read BVH ourselves rather than through a PyPI parser: the maintained ones checked (``pybvh``
0.9, ``bvhio`` 1.5) reject position channels on non-root joints or build one object per joint and
frame, and the ASF/AMC reader needs the same batched forward kinematics anyway.

Conventions (those of the BVH format): a joint's rotation channels, in the order written, compose
as intrinsic rotations (``Zrotation Yrotation Xrotation`` -> ``Rz @ Ry @ Rx``), in degrees. A
joint's position channels, where present, replace its OFFSET components (exporters write the
rest offset plus motion into them); the root without position channels sits at its OFFSET. An
``End Site`` becomes a joint named ``<parent>_End`` (``_End2``, ... if a joint has several).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from .kinematics import euler_to_matrix, forward_kinematics

POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...] = ()
    is_end_site: bool = False


@dataclass
class BvhClip:
    """A parsed BVH file: the joint tree and the raw motion channels (F, C)."""

    joints: list[BvhJoint]
    frame_time: float
    motion: np.ndarray
    source: str = ""
    _columns: list[slice] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._columns, start = [], 0
        for joint in self.joints:
            self._columns.append(slice(start, start + len(joint.channels)))
            start += len(joint.channels)
        if self.motion.shape[1] != start:
            raise ValueError(f"{self.source}: motion has {self.motion.shape[1]} columns, hierarchy {start} channels")

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def parents(self) -> list[int]:
        return [j.parent for j in self.joints]

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def num_frames(self) -> int:
        return len(self.motion)

    def set_rest_offsets(self, offsets: dict[str, "str | tuple[float, float, float]"]) -> None:
        """Replace joints' OFFSETs, each by a vector or by a copy of another joint's OFFSET (a repair for
        conversions that dropped a bone, e.g. the CMU thorax in the common BVH release)."""
        by_name = {j.name: j for j in self.joints}
        for name, value in offsets.items():
            for needed in (name, value) if isinstance(value, str) else (name,):
                if needed not in by_name:
                    raise KeyError(f"{self.source}: rest offset names joint {needed!r} that the file lacks")
            source = by_name[value].offset if isinstance(value, str) else value
            by_name[name].offset = np.array(source, dtype=np.float64)

    def channel_values(self, joint: int) -> np.ndarray:
        """Motion columns (F, k) of one joint's channels, in the order its CHANNELS line lists them."""
        return self.motion[:, self._columns[joint]]

    def global_transforms(self, needed: Iterable[str] | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Forward kinematics: (joint names, positions (F, J, 3), rotations (F, J, 3, 3)), file units.

        With ``needed``, only those joints and their ancestors are computed (a retargeted
        character skeleton carries fingers, toes and face bones that no mapping uses).
        """
        keep = self._ancestor_closure(needed)
        index = {old: new for new, old in enumerate(keep)}
        frames = self.num_frames
        rotations = np.empty((frames, len(keep), 3, 3))
        translations = np.empty((frames, len(keep), 3))
        for new, old in enumerate(keep):
            joint = self.joints[old]
            values = self.channel_values(old)
            translations[:, new] = joint.offset
            rot_axes, rot_cols = "", []
            for col, channel in enumerate(joint.channels):
                if channel in POSITION_CHANNELS:
                    translations[:, new, POSITION_CHANNELS.index(channel)] = values[:, col]
                else:
                    rot_axes += channel[0]
                    rot_cols.append(col)
            rotations[:, new] = euler_to_matrix(values[:, rot_cols], rot_axes)
        parents = [index[self.joints[old].parent] if self.joints[old].parent >= 0 else -1 for old in keep]
        positions, global_rotations = forward_kinematics(parents, rotations, translations)
        return [self.joints[old].name for old in keep], positions, global_rotations

    def _ancestor_closure(self, needed: Iterable[str] | None) -> list[int]:
        if needed is None:
            return list(range(len(self.joints)))
        by_name = {j.name: i for i, j in enumerate(self.joints)}
        keep: set[int] = set()
        for name in needed:
            if name not in by_name:
                raise KeyError(f"{self.source}: no joint {name!r} in the BVH hierarchy; joints: {self.names}")
            i = by_name[name]
            while i >= 0 and i not in keep:
                keep.add(i)
                i = self.joints[i].parent
        return sorted(keep)


class _Lines:
    """Non-empty header lines with their 1-based line numbers, for error messages."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.split("\n")
        self.source = source
        self.i = 0

    def next(self, what: str) -> tuple[int, list[str]]:
        while self.i < len(self.lines):
            self.i += 1
            tokens = self.lines[self.i - 1].split()
            if tokens:
                return self.i, tokens
        raise ValueError(f"{self.source}: file ended while expecting {what}")

    def error(self, number: int, message: str) -> ValueError:
        return ValueError(f"{self.source}:{number}: {message}")


def read_bvh(path: str | Path) -> BvhClip:
    """Parse a BVH file; FileNotFoundError if it is missing, ValueError (with file:line) if malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no BVH file at {path}")
    return parse_bvh(path.read_text(encoding="utf-8", errors="replace"), source=str(path))


def parse_bvh(text: str, source: str = "<bvh>") -> BvhClip:
    lines = _Lines(text, source)
    number, tokens = lines.next("HIERARCHY")
    if tokens[0] != "HIERARCHY":
        raise lines.error(number, f"not a BVH file: expected 'HIERARCHY', found {tokens[0]!r}")
    number, tokens = lines.next("ROOT")
    if tokens[0] != "ROOT" or len(tokens) < 2:
        raise lines.error(number, f"expected 'ROOT <name>', found {' '.join(tokens)!r}")
    joints: list[BvhJoint] = []
    _read_joint(lines, " ".join(tokens[1:]), -1, joints, number)
    number, tokens = lines.next("MOTION")
    if tokens[0] != "MOTION":
        raise lines.error(number, f"expected 'MOTION' after the hierarchy (one ROOT per file), found {tokens[0]!r}")
    number, tokens = lines.next("'Frames: N'")
    if tokens[0] != "Frames:" or len(tokens) != 2 or not tokens[1].isdigit():
        raise lines.error(number, f"expected 'Frames: <count>', found {' '.join(tokens)!r}")
    declared = int(tokens[1])
    number, tokens = lines.next("'Frame Time: T'")
    try:
        if tokens[:2] != ["Frame", "Time:"] or len(tokens) != 3:
            raise ValueError
        frame_time = float(tokens[2])
    except ValueError:
        raise lines.error(number, f"expected 'Frame Time: <seconds>', found {' '.join(tokens)!r}") from None
    if not frame_time > 0:
        raise lines.error(number, f"frame time must be positive, got {frame_time}")
    num_channels = sum(len(j.channels) for j in joints)
    motion = _read_motion(lines, declared, num_channels)
    return BvhClip(joints=joints, frame_time=frame_time, motion=motion, source=source)


def _read_joint(lines: _Lines, name: str, parent: int, joints: list[BvhJoint], at: int) -> None:
    index = len(joints)
    number, tokens = lines.next(f"'{{' of joint {name}")
    if tokens != ["{"]:
        raise lines.error(number, f"expected '{{' after joint {name}, found {' '.join(tokens)!r}")
    number, tokens = lines.next(f"OFFSET of joint {name}")
    joints.append(BvhJoint(name, parent, _read_offset(lines, number, tokens, name)))
    number, tokens = lines.next(f"CHANNELS of joint {name}")
    if tokens[0] != "CHANNELS":
        raise lines.error(number, f"joint {name}: expected CHANNELS, found {tokens[0]!r}")
    joints[index].channels = _read_channels(lines, number, tokens, name)
    end_sites = 0
    while True:
        number, tokens = lines.next(f"'}}' closing joint {name} (opened at line {at})")
        if tokens[0] == "}":
            return
        if tokens[0] == "JOINT" and len(tokens) >= 2:
            _read_joint(lines, " ".join(tokens[1:]), index, joints, number)
        elif tokens[:2] == ["End", "Site"]:
            end_sites += 1
            suffix = "_End" if end_sites == 1 else f"_End{end_sites}"
            _read_end_site(lines, name + suffix, index, joints)
        else:
            raise lines.error(number, f"inside joint {name}: expected JOINT, End Site or '}}', found {' '.join(tokens)!r}")


def _read_end_site(lines: _Lines, name: str, parent: int, joints: list[BvhJoint]) -> None:
    number, tokens = lines.next(f"'{{' of {name}")
    if tokens != ["{"]:
        raise lines.error(number, f"expected '{{' after End Site, found {' '.join(tokens)!r}")
    number, tokens = lines.next(f"OFFSET of {name}")
    joints.append(BvhJoint(name, parent, _read_offset(lines, number, tokens, name), (), True))
    number, tokens = lines.next(f"'}}' closing {name}")
    if tokens != ["}"]:
        raise lines.error(number, f"End Site of {joints[parent].name}: expected '}}', found {' '.join(tokens)!r}")


def _read_offset(lines: _Lines, number: int, tokens: list[str], name: str) -> np.ndarray:
    try:
        if tokens[0] != "OFFSET" or len(tokens) != 4:
            raise ValueError
        return np.array([float(t) for t in tokens[1:]])
    except ValueError:
        raise lines.error(number, f"joint {name}: expected 'OFFSET x y z', found {' '.join(tokens)!r}") from None


def _read_channels(lines: _Lines, number: int, tokens: list[str], name: str) -> tuple[str, ...]:
    if len(tokens) < 2 or not tokens[1].isdigit() or int(tokens[1]) != len(tokens) - 2:
        raise lines.error(number, f"joint {name}: 'CHANNELS <n> <names...>' with n names expected, found {' '.join(tokens)!r}")
    channels = tuple(tokens[2:])
    known = POSITION_CHANNELS + ROTATION_CHANNELS
    for channel in channels:
        if channel not in known:
            raise lines.error(number, f"joint {name}: unknown channel {channel!r}; known channels: {', '.join(known)}")
    if len(set(channels)) != len(channels):
        raise lines.error(number, f"joint {name}: repeated channel in {' '.join(channels)}")
    return channels


def _read_motion(lines: _Lines, declared: int, num_channels: int) -> np.ndarray:
    first = lines.i  # 0-based index of the first motion line
    rows = [row for row in lines.lines[first:]]
    while rows and not rows[-1].strip():
        rows.pop()
    tokens = " ".join(rows).split()
    if len(tokens) != declared * num_channels or any(not row.strip() for row in rows):
        _raise_motion_error(lines, rows, first, declared, num_channels)
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"{lines.source}: non-numeric value in the motion section ({error})") from None
    return values.reshape(declared, num_channels)


def _raise_motion_error(lines: _Lines, rows: list[str], first: int, declared: int, num_channels: int) -> None:
    """Say what is wrong with a motion section whose value count does not add up."""
    for k, row in enumerate(rows):
        count = len(row.split())
        if count != num_channels:
            where = f"{lines.source}:{first + k + 1}"
            if k == len(rows) - 1 and 0 < count < num_channels:
                raise ValueError(
                    f"{where}: truncated motion: the last frame has {count} of {num_channels} values "
                    f"(file cut off after {k} complete frames of {declared} declared)"
                )
            raise ValueError(f"{where}: frame {k} has {count} values, the hierarchy declares {num_channels} channels")
    if len(rows) < declared:
        raise ValueError(f"{lines.source}: truncated motion: 'Frames: {declared}' but only {len(rows)} frames present")
    raise ValueError(f"{lines.source}: frame count mismatch: 'Frames: {declared}' but {len(rows)} frames present")
