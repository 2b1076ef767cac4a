"""Content identity of recordings: one recording is kept once, whatever subject label it came under.

Hosting repositories relabel files: ethanngam/motion-graphs' CMU ``91.asf`` and trials 91_01..47
are, line endings aside, sxaxmz's ``105/105.asf`` and 105_01..47. Clip ids and subject labels
cannot reveal that, so the converter records a digest of what it read and the merge compares those.

Why a digest of the source files and not of the converted joints: the file digest is exact (no
tolerance whose rounding boundary two nearly equal coordinates can straddle), it does not depend on
the conversion settings (``--fps``, ``--min-motion``, ``--drop-first``, the unit), so sets converted
with different settings still match, and it costs one read of a file the converter reads anyway.
Line endings and trailing whitespace are normalised because that is what copying a text file
between systems and repositories changes (CRLF checkouts, editors); nothing else is, so two files
that differ in any value are different recordings. The identity is the motion file alone (AMC or
BVH): the same AMC angles on another skeleton are still the same performance, and must not sit in
two splits either. A release in another format (BVH of an ASF/AMC trial) has another digest; those
share their clip id and ``merge --keep-first`` keeps one of them.

The ASF skeleton's digest is recorded as well: an ASF is one performer's calibration, so one ASF
under subject labels in different splits is one person in two splits, which
:func:`check_skeleton_splits` refuses when a set is written and when it is loaded. BVH files get no
skeleton digest: the Daz-friendly releases put every performer on one fixed figure.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .splits import split_for_subject

#: Per-clip provenance fields holding the digests (see :func:`text_digest`).
MOTION_DIGEST = "motion_sha256"
SKELETON_DIGEST = "skeleton_sha256"


def text_digest(path: Path) -> str:
    """SHA-256 of a text file with CR/CRLF line endings, trailing whitespace on each line and
    trailing blank lines normalised away."""
    lines = [line.rstrip(b" \t") for line in path.read_bytes().splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def copies_to_drop(clips: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[int, tuple[str, str]]:
    """Clips ``(clip id, info)`` holding a recording that another clip also holds -> ``{index in
    clips of a dropped copy: (kept clip id, why)}`` (by index: another clip under the same id may be
    another recording). Clips without a motion digest are not compared; a clip under the kept
    copy's id is left alone.

    Which copy is kept: the one whose subject label has the most clips among ``clips`` (the fuller
    session); among equals the first listed. A relabelled copy is typically a few trials lifted out
    of a subject's session, and the fuller session is the label the other releases and the fixed
    splits were built around (CMU 105's 61 trials against the 6 of "91"): its split keeps them.
    """
    session = Counter(str(info.get("subject")) for _, info in clips)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, (_, info) in enumerate(clips):
        if info.get(MOTION_DIGEST):
            groups[str(info[MOTION_DIGEST])].append(index)
    dropped: dict[int, tuple[str, str]] = {}
    for digest, group in groups.items():
        if len(group) < 2:
            continue
        kept_id, kept_info = clips[max(group, key=lambda i: session[str(clips[i][1].get("subject"))])]  # first of equals
        for index in group:
            clip_id, info = clips[index]
            if clip_id != kept_id:
                dropped[index] = (kept_id, _why(digest, info, kept_info, session))
    return dropped


def _why(digest: str, info: Mapping[str, Any], kept: Mapping[str, Any], session: Counter[str]) -> str:
    subject, kept_subject = str(info.get("subject")), str(kept.get("subject"))
    same = f"same recording as the kept copy (motion file sha256 {digest[:16]}, line endings normalised)"
    if subject == kept_subject:
        return f"{same}, same subject: the first listed is kept"
    return (f"{same} under another subject label: kept under {kept_subject}, the fuller session "
            f"({session[kept_subject]} clips against {session[subject]} of {subject})")


def check_skeleton_splits(infos: Iterable[Mapping[str, Any]], where: str) -> None:
    """Refuse a set in which one ASF skeleton file (one performer's calibration) sits under subject
    labels in different splits: that person would be trained or validated on and tested on."""
    splits: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for info in infos:
        if info.get(SKELETON_DIGEST):
            subject = str(info.get("subject"))
            split = str(info.get("split") or split_for_subject(subject))
            splits[str(info[SKELETON_DIGEST])][split].add(subject)
    leaks = [f"skeleton sha256 {digest[:16]}: " + "; ".join(f"{split} {sorted(subjects)}" for split, subjects in sorted(by_split.items()))
             for digest, by_split in splits.items() if len(by_split) > 1]
    if leaks:
        raise ValueError(f"{where}: one skeleton file (one performer) under subject labels in different splits: "
                         f"{' | '.join(leaks)}; keep each recording once (poselifter data merge) or fix the labels")
