"""Motion capture files -> one merged set of H36M-17 world clips (npz) with a JSON sidecar.

Output layout (read by :mod:`poselifter_core.data.world_mocap`): ``<stem>.npz`` holds one
(F, 17, 3) array per clip id (world frame, Y up, millimetres) plus ``joint_names`` and
``parents``; ``<stem>.json`` holds ``{"clips": {clip_id: {subject, fps, source, licence, frames,
split, ...}}, "units": "mm", "frame": ..., "joint_order": [...], "parents": [...]}``.

Subsampling: first by rate (``fps``), then by motion: a frame is dropped when no joint of the
root-relative pose moved ``min_motion_mm`` or more since the last kept frame. The pose is taken
root-relative because the virtual camera rig places each body anew, so a body gliding in one
pose adds no variety.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..skeleton import H36M17
from .asf_amc import asf_amc_positions, read_amc, read_asf
from .bvh import read_bvh
from .identity import MOTION_DIGEST, SKELETON_DIGEST, check_skeleton_splits, copies_to_drop, text_digest
from .mapping import JointMapping, load_mapping, mm_per_unit, packaged_mappings
from .splits import SPLIT_RULE, split_for_subject

log = logging.getLogger(__name__)

CMU_LICENCE = (
    "CMU Graphics Lab Motion Capture Database terms (mocap.cs.cmu.edu): free for research and "
    "commercial use, may be included in products, not to be resold as data"
)


@dataclass
class ConvertOptions:
    mapping: str | None = None  # packaged name or YAML path; None: the packaged mapping the file fits
    fps: float = 30.0  # 0: keep the source rate
    min_motion_mm: float = 10.0  # 0: keep every frame after rate subsampling
    unit: str | float | None = None  # overrides the mapping's unit
    drop_first: int = 0  # leading frames to discard (a prepended T-pose, a rest frame)
    source: str = ""  # provenance, e.g. "owner/repo@commit"
    licence: str = "unspecified"
    subject: str | None = None  # fixed subject for every file; else parsed from the file name
    subject_prefix: str = "cmu"
    subject_pattern: str = r"^(\d+)_"
    clip_prefix: str = ""
    clip_pattern: str | None = None  # regex whose group 1 in the file stem is the clip name; default: the stem
    asf: str | None = None  # ASF skeleton for AMC files; default: <subject>.asf or the one .asf beside it


@dataclass
class ConvertedClip:
    clip_id: str
    joints: np.ndarray  # (F, 17, 3) mm, Y up
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class DroppedClip:
    """A clip left out of a set because another clip holds the same recording."""

    clip: ConvertedClip
    kept: str  # clip id of the copy kept
    reason: str

    def record(self) -> dict[str, Any]:
        """The provenance entry written to the sidecar's ``dropped_duplicates``."""
        info = self.clip.info
        return {"clip": self.clip.clip_id, "subject": info.get("subject"), "source": info.get("source"),
                "path": info.get("path"), "kept": self.kept, "reason": self.reason}

    def __str__(self) -> str:
        info = self.clip.info
        return (f"dropped {self.clip.clip_id} from {info.get('source', '?')} ({info.get('path', '?')}): "
                f"kept {self.kept}: {self.reason}")


def subsample_indices(num_frames: int, source_fps: float, fps: float) -> np.ndarray:
    """Frame indices that resample ``source_fps`` to ``fps`` (nearest earlier frame); all if fps <= 0
    or fps >= source_fps."""
    if fps <= 0 or fps >= source_fps:
        return np.arange(num_frames)
    times = np.arange(0.0, num_frames / source_fps, 1.0 / fps)
    return np.unique(np.minimum(np.floor(times * source_fps + 1e-6).astype(int), num_frames - 1))


def motion_keep_mask(joints: np.ndarray, min_motion_mm: float, root: int = 0) -> np.ndarray:
    """Greedy keep mask: keep frame 0, then each frame where some root-relative joint moved at least
    ``min_motion_mm`` since the last kept frame."""
    keep = np.zeros(len(joints), dtype=bool)
    if len(joints) == 0:
        return keep
    if min_motion_mm <= 0:
        keep[:] = True
        return keep
    pose = joints - joints[:, root : root + 1]
    last = pose[0]
    keep[0] = True
    for k in range(1, len(pose)):
        if np.max(np.linalg.norm(pose[k] - last, axis=-1)) >= min_motion_mm:
            keep[k] = True
            last = pose[k]
    return keep


def bone_statistics(joints: np.ndarray) -> dict[str, Any]:
    lengths = H36M17.bone_lengths(joints)
    return {
        "bone_mean": np.round(lengths.mean(0), 1).tolist(),
        "bone_std": np.round(lengths.std(0), 2).tolist(),
        "bone_sum": round(float(lengths.mean(0).sum()), 1),
    }


def find_sources(paths: list[str | Path]) -> list[Path]:
    """BVH and AMC files named directly or found (recursively) under the given folders, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in (".bvh", ".amc")))
        elif path.is_file():
            if path.suffix.lower() not in (".bvh", ".amc"):
                raise ValueError(f"{path}: not a .bvh or .amc file (an .asf skeleton is given with --asf)")
            found.append(path)
        else:
            raise FileNotFoundError(f"no motion file or folder at {path}")
    if not found:
        raise ValueError(f"no .bvh or .amc files in {[str(p) for p in paths]}")
    return found


def subject_for(path: Path, options: ConvertOptions) -> str:
    if options.subject:
        return options.subject
    match = re.search(options.subject_pattern, path.stem)
    if not match:
        raise ValueError(
            f"{path}: cannot tell the subject: file name does not match {options.subject_pattern!r}; "
            f"give --subject or --subject-pattern"
        )
    value = match.group(1)
    return f"{options.subject_prefix}_{int(value):02d}" if value.isdigit() else f"{options.subject_prefix}_{value}"


def _find_asf(path: Path, options: ConvertOptions) -> Path:
    if options.asf:
        return Path(options.asf)
    match = re.search(options.subject_pattern, path.stem)
    if match and (path.parent / f"{match.group(1)}.asf").is_file():
        return path.parent / f"{match.group(1)}.asf"
    candidates = sorted(path.parent.glob("*.asf"))
    if len(candidates) == 1:
        return candidates[0]
    raise FileNotFoundError(f"{path}: no ASF skeleton found beside it ({len(candidates)} .asf files); give --asf")


def _choose_mapping(names: list[str], options: ConvertOptions, path: Path) -> JointMapping:
    """The given mapping, else the packaged mapping that fits the file's joints and names the most
    of them (an ASF-named BVH has every joint cmu31_asf reads, plus the end sites cmu31_asf_bvh needs)."""
    if options.mapping:
        return load_mapping(options.mapping)
    present = set(names)
    fitting = []
    for name in packaged_mappings():
        mapping = load_mapping(name)
        needed = set(mapping.source_joints()) | set(mapping.rest_offsets)
        needed |= {v for v in mapping.rest_offsets.values() if isinstance(v, str)}
        if needed <= present:
            fitting.append((len(needed), mapping))
    if not fitting:
        raise ValueError(f"{path}: no packaged mapping fits its joints {names[:12]}...; give --mapping file.yaml")
    return max(fitting, key=lambda item: item[0])[1]


def load_source(path: Path, options: ConvertOptions) -> tuple[np.ndarray, float, JointMapping, float]:
    """One file -> (H36M-17 joints (F, 17, 3) mm Y up, source fps, mapping used, mm per file unit)."""
    if path.suffix.lower() == ".bvh":
        clip = read_bvh(path)
        mapping = _choose_mapping(clip.names, options, path)
        clip.set_rest_offsets(mapping.rest_offsets)
        names, positions, rotations = clip.global_transforms(mapping.source_joints())
        source_fps, file_unit = clip.fps, None
    else:
        skeleton = read_asf(_find_asf(path, options))
        motion = read_amc(path, skeleton)
        names, positions, rotations = asf_amc_positions(skeleton, motion)
        mapping = _choose_mapping(names, options, path)
        source_fps, file_unit = 120.0, skeleton.mm_per_unit  # AMC files carry no rate; CMU's is 120 Hz
    to_mapping_unit = _file_to_mapping_unit(options.unit, mapping)
    joints = mapping.apply(names, positions * to_mapping_unit, rotations)
    if to_mapping_unit != 1.0:
        return joints * mm_per_unit(mapping.unit), source_fps, mapping, mm_per_unit(mapping.unit) * to_mapping_unit
    unit = options.unit if options.unit is not None else mapping.unit
    scale = mm_per_unit(unit, joints, file_unit)
    return joints * scale, source_fps, mapping, scale


def _file_to_mapping_unit(unit: str | float | None, mapping: JointMapping) -> float:
    """Factor taking a file whose unit is overridden (``--unit``) into a mapping's fixed unit, so that
    the mapping's offset points (head tops, in its own unit) keep their size on a rescaled copy of
    the same skeleton. 1 when nothing is overridden or either unit depends on the file."""
    dependent = ("auto", "file")
    if unit is None or unit in dependent or mapping.unit in dependent:
        return 1.0
    return mm_per_unit(unit) / mm_per_unit(mapping.unit)


def convert_file(path: Path, options: ConvertOptions, root: Path | None = None) -> ConvertedClip:
    joints, source_fps, mapping, scale = load_source(path, options)
    source_frames = len(joints)
    if options.drop_first:
        joints = joints[options.drop_first :]
    if len(joints) == 0:
        raise ValueError(f"{path}: no frames left after dropping the first {options.drop_first}")
    rate_index = subsample_indices(len(joints), source_fps, options.fps)
    joints = joints[rate_index]
    joints = joints[motion_keep_mask(joints, options.min_motion_mm)]
    subject = subject_for(path, options)
    relative = path.relative_to(root).as_posix() if root is not None and path.is_relative_to(root) else path.name
    info = {
        "subject": subject,
        "split": split_for_subject(subject),
        "fps": float(min(options.fps, source_fps) if options.fps > 0 else source_fps),
        "source_fps": round(float(source_fps), 4),
        "source": options.source,
        "path": relative,
        "licence": options.licence,
        "mapping": mapping.name,
        "mm_per_unit": round(scale, 4),
        "source_frames": source_frames,
        "duration_s": round(source_frames / source_fps, 3),
        "frames": len(joints),
        "min_motion_mm": options.min_motion_mm,
        **bone_statistics(joints),
        **source_digests(path, options),
    }
    return ConvertedClip(options.clip_prefix + clip_name(path, options), joints.astype(np.float32), info)


def source_digests(path: Path, options: ConvertOptions) -> dict[str, str]:
    """The digests that identify the recording and, for ASF/AMC, the performer's skeleton file
    (see :mod:`.identity`)."""
    digests = {MOTION_DIGEST: text_digest(path)}
    if path.suffix.lower() == ".amc":
        digests[SKELETON_DIGEST] = text_digest(_find_asf(path, options))
    return digests


def clip_name(path: Path, options: ConvertOptions) -> str:
    """The file stem, or group 1 of ``clip_pattern`` in it (``135_06-martialArts`` -> ``135_06``)."""
    if options.clip_pattern is None:
        return path.stem
    match = re.search(options.clip_pattern, path.stem)
    if not match:
        raise ValueError(f"{path}: file name does not match --clip-pattern {options.clip_pattern!r}")
    return match.group(1)


def merge_clips(sets: list[list[ConvertedClip]], keep_first: bool = False) -> tuple[list[ConvertedClip], list[DroppedClip]]:
    """Join sets of clips -> (kept, dropped). With ``keep_first``, a clip id already taken by an
    earlier set is dropped (list the preferred release first, e.g. the performer's own skeleton
    before a retarget); without it, duplicate ids stay and :func:`save_clips` refuses them. Then
    every recording held under several clip ids is kept once (:func:`keep_each_recording_once`)."""
    kept: list[ConvertedClip] = []
    dropped: list[DroppedClip] = []
    taken: set[str] = set()
    for clips in sets:
        for clip in clips:
            if keep_first and clip.clip_id in taken:
                dropped.append(DroppedClip(clip, clip.clip_id, "same clip id in a set listed earlier (--keep-first)"))
            else:
                kept.append(clip)
                taken.add(clip.clip_id)
    kept, copies = keep_each_recording_once(kept)
    return kept, dropped + copies


def keep_each_recording_once(clips: list[ConvertedClip]) -> tuple[list[ConvertedClip], list[DroppedClip]]:
    """Drop the clips whose recording (source-file digest) another clip under another id also holds,
    keeping the copy :func:`.identity.copies_to_drop` chooses -> (kept, dropped). Clips sharing an
    id are left alone: that is a choice between releases (``keep_first``)."""
    drop = copies_to_drop([(c.clip_id, c.info) for c in clips])
    unchecked = sum(MOTION_DIGEST not in c.info for c in clips)
    if unchecked:
        log.warning("%d of %d clips carry no %s (converted before digests were recorded): not checked for "
                    "duplicate recordings", unchecked, len(clips), MOTION_DIGEST)
    return ([c for i, c in enumerate(clips) if i not in drop],
            [DroppedClip(c, *drop[i]) for i, c in enumerate(clips) if i in drop])


def save_clips(path: str | Path, clips: list[ConvertedClip], dtype: str = "float32",
               description: str = "", round_mm: float | None = None,
               dropped: Sequence[DroppedClip | dict[str, Any]] = ()) -> None:
    """Write ``<path>.npz`` (compressed) and its ``.json`` sidecar; clip ids must be unique and no
    skeleton file may sit in two splits (:func:`.identity.check_skeleton_splits`). ``dropped`` is
    recorded in the sidecar's ``dropped_duplicates`` (a dict: a record as :func:`load_dropped` reads it).

    ``round_mm`` rounds every coordinate to a multiple of it. A power of two (1/8 mm) leaves the low
    float32 mantissa bits zero, so the compressed file shrinks by about a third at an error far below
    motion capture's own (at most half the step)."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"output must be a .npz file, got {path}")
    ids = [c.clip_id for c in clips]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate clip ids {duplicates}: give --clip-prefix to keep sources apart")
    reserved = {"joint_names", "parents"} & set(ids)
    if reserved:
        raise ValueError(f"clip ids {sorted(reserved)} clash with the npz's own keys")
    check_skeleton_splits((c.info for c in clips), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if round_mm is not None and not round_mm > 0:
        raise ValueError(f"round_mm must be positive, got {round_mm}")
    arrays = {c.clip_id: (c.joints if round_mm is None else np.round(c.joints / round_mm) * round_mm).astype(dtype)
              for c in clips}
    np.savez_compressed(path, **arrays, joint_names=np.array(H36M17.joint_names),
                        parents=np.array(H36M17.parents, dtype=np.int64))
    sidecar = {
        "clips": {c.clip_id: c.info for c in clips},
        "units": "mm",
        "frame": "world, Y up (not camera coordinates); floor height and heading as in the source",
        "joint_order": list(H36M17.joint_names),
        "parents": list(H36M17.parents),
        "splits": SPLIT_RULE,
        "dtype": dtype,
    }
    if round_mm is not None:
        sidecar["rounded_mm"] = round_mm
    if description:
        sidecar["description"] = description
    if dropped:
        sidecar["dropped_duplicates"] = [d if isinstance(d, dict) else d.record() for d in dropped]
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=1) + "\n", encoding="utf-8")


def load_dropped(path: str | Path) -> list[dict[str, Any]]:
    """The ``dropped_duplicates`` records of a set written by :func:`save_clips` (none without a sidecar)."""
    sidecar = Path(path).with_suffix(".json")
    return list(json.loads(sidecar.read_text(encoding="utf-8")).get("dropped_duplicates", [])) if sidecar.is_file() else []


def load_clips(path: str | Path) -> list[ConvertedClip]:
    """Read a set written by :func:`save_clips` (or the original 4-clip file) back into clips."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no motion capture set at {path}")
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text(encoding="utf-8")).get("clips", {}) if sidecar.is_file() else {}
    clips = []
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            if key in ("joint_names", "parents"):
                continue
            joints = np.asarray(data[key], dtype=np.float32)
            H36M17.check_joint_count(joints, f"{path}:{key}")
            clips.append(ConvertedClip(key, joints, dict(meta.get(key, {}))))
    return clips
