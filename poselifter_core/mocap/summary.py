"""Markdown tables of a converted set: per source (subjects, clips, frames, hours, licence) and per split."""
from __future__ import annotations

from collections import defaultdict

from .convert import CMU_LICENCE, ConvertedClip


def _licence_label(licence: str) -> str:
    return "CMU terms (free incl. commercial, no resale)" if licence == CMU_LICENCE else licence


def summary_tables(clips: list[ConvertedClip]) -> str:
    by_source: dict[str, list[ConvertedClip]] = defaultdict(list)
    by_split: dict[str, list[ConvertedClip]] = defaultdict(list)
    for clip in clips:
        by_source[str(clip.info.get("source", "")) or "(unknown)"].append(clip)
        by_split[str(clip.info.get("split", "")) or "(none)"].append(clip)
    lines = [
        "| source | subjects | clips | frames kept | hours of motion | licence |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for source, group in sorted(by_source.items()):
        lines.append(
            f"| {source} | {len({c.info.get('subject') for c in group})} | {len(group)} | "
            f"{sum(len(c.joints) for c in group)} | {_hours(group):.2f} | "
            f"{'; '.join(sorted({_licence_label(str(c.info.get('licence', ''))) for c in group}))} |"
        )
    lines.append(
        f"| **all** | {len({c.info.get('subject') for c in clips})} | {len(clips)} | "
        f"{sum(len(c.joints) for c in clips)} | {_hours(clips):.2f} | |"
    )
    lines += ["", "| split | subjects | clips | frames kept | subject ids |", "| --- | ---: | ---: | ---: | --- |"]
    for split, group in sorted(by_split.items()):
        subjects = sorted({str(c.info.get("subject")) for c in group})
        lines.append(f"| {split} | {len(subjects)} | {len(group)} | {sum(len(c.joints) for c in group)} | {', '.join(subjects)} |")
    return "\n".join(lines)


def _hours(clips: list[ConvertedClip]) -> float:
    """Source motion time covered (before subsampling)."""
    return sum(float(c.info.get("duration_s", 0.0)) for c in clips) / 3600.0
