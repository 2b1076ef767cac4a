"""The Human3.6M evaluation protocols of the PoseLifter paper (Sec. 4.1), as data.

* Protocol 1: train on S1, S5, S6, S7, S8; test on S9, S11; metric MPJPE.
* Protocol 2: train on S1, S5, S6, S7, S8, S9; test on S11; metric PA-MPJPE.

These are the subject lists of the official code's ``subject_list[1]`` and ``subject_list[2]``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Protocol:
    train: tuple[str, ...]
    test: tuple[str, ...]
    metric: str


PROTOCOLS: dict[int, Protocol] = {
    1: Protocol(train=("S1", "S5", "S6", "S7", "S8"), test=("S9", "S11"), metric="mpjpe"),
    2: Protocol(train=("S1", "S5", "S6", "S7", "S8", "S9"), test=("S11",), metric="pa_mpjpe"),
}

SPLITS = ("train", "test")


def get_protocol(protocol: int) -> Protocol:
    if isinstance(protocol, bool) or protocol not in PROTOCOLS:
        raise ValueError(f"unknown Human3.6M protocol {protocol!r}; known: {sorted(PROTOCOLS)}")
    return PROTOCOLS[protocol]


def protocol_subjects(protocol: int, split: str) -> list[str]:
    """Subjects of ``split`` ("train" or "test") under ``protocol`` (1 or 2)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {list(SPLITS)}")
    return list(getattr(get_protocol(protocol), split))
