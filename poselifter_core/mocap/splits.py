"""The fixed subject split of the open mocap set: one rule, used by the converter and the loader.

A subject is a person, so every clip of a subject, in every release and retarget, shares its
split. CMU subject numbers ending in 1 are held out for testing (never used to train a shipped
model or to choose its hyper-parameters), ending in 5 are validation, the rest train. HDM05's
actors are named: ``dg`` is the test actor, ``mm`` the validation actor, ``tr`` is held out
entirely (kept outside the project as an independent test; marked test should it ever be
converted), ``bd`` and ``bk`` train. Any other source (``<source>_<id>``) is split by
crc32(subject) % 10 with the same 1 / 5 digits.
"""
from __future__ import annotations

import re
import zlib

#: Subjects whose split is named rather than computed.
NAMED_SPLITS: dict[str, str] = {
    "hdm05_dg": "test",
    "hdm05_tr": "test",
    "hdm05_mm": "val",
    "hdm05_bd": "train",
    "hdm05_bk": "train",
}

SPLIT_RULE = (
    "CMU subjects (cmu_NN): number ending in 1 -> test (held out: never for training or choosing "
    "hyper-parameters), ending in 5 -> val, else train. HDM05 actors: hdm05_dg -> test, hdm05_mm -> val, "
    "hdm05_tr -> test (held out outside the project), hdm05_bd and hdm05_bk -> train. Other sources "
    "(<source>_<id>): crc32(subject) % 10 == 1 -> test, == 5 -> val, else train."
)


def split_for_subject(subject: str) -> str:
    """The fixed subject split of the open mocap set (see :data:`SPLIT_RULE`)."""
    if subject in NAMED_SPLITS:
        return NAMED_SPLITS[subject]
    match = re.fullmatch(r"cmu_0*(\d+)", subject)
    last = int(match.group(1)) % 10 if match else zlib.crc32(subject.encode("utf-8")) % 10
    return "test" if last == 1 else "val" if last == 5 else "train"
