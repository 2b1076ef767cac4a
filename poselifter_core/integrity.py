"""Shipped model files are checked against their recorded SHA-256 before they are used.

A shipped file damaged on disk (a bad copy, a truncated download, a flipped block) loads without
complaint and gives absurd poses (issue #13 row 4: z = 110 m instead of 2.3 m). The sums come from
the provenance records: ``assets/lifter/poselifter_default.json`` (``checkpoint_sha256``,
``onnx_sha256`` and, once its int8-weight variant is shipped, ``onnx_int8_sha256``) and
``assets/movenet/SHA256SUMS``. A file that is not shipped is not checked
here (user models carry their own checks: the weights digest in their ONNX metadata, and the
checkpoint digest an export records).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .digest import file_sha256

ASSETS = Path(__file__).resolve().parent / "assets"
#: The shipped default lifter: checkpoint, its ONNX export and its provenance record (one home for these paths).
LIFTER_CHECKPOINT = ASSETS / "lifter" / "poselifter_default.pt"
LIFTER_ONNX = LIFTER_CHECKPOINT.with_suffix(".onnx")
LIFTER_RECORD = LIFTER_CHECKPOINT.with_suffix(".json")
#: How an int8-weight variant of an ONNX lifter is named beside it (the one rule: lifter/weights.py
#: picks variants by it, ``poselifter export --int8`` writes them by it).
INT8_SUFFIX = ".int8.onnx"


def int8_path(onnx_path: str | Path) -> Path:
    """Where the int8 variant of ``onnx_path`` lives (``a.onnx`` -> ``a.int8.onnx``)."""
    return Path(onnx_path).with_suffix(INT8_SUFFIX)


#: The shipped lifter's int8-weight variant, what ONNX Runtime runs on the CPU by default.
LIFTER_ONNX_INT8 = int8_path(LIFTER_ONNX)
MOVENET_SUMS = ASSETS / "movenet" / "SHA256SUMS"


class ModelIntegrityError(ValueError):
    """A model file does not match its recorded checksum."""


@lru_cache(maxsize=1)
def shipped_digests() -> dict[Path, str]:
    """Every shipped model file and its recorded SHA-256."""
    record = json.loads(LIFTER_RECORD.read_text(encoding="utf-8"))
    sums = {LIFTER_CHECKPOINT: record["checkpoint_sha256"], LIFTER_ONNX: record["onnx_sha256"]}
    if "onnx_int8_sha256" in record:
        sums[LIFTER_ONNX_INT8] = record["onnx_int8_sha256"]
    for line in MOVENET_SUMS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[MOVENET_SUMS.parent / name.strip()] = digest
    return sums


def verify_shipped(path: str | Path) -> None:
    """Raise :class:`ModelIntegrityError` if ``path`` is a shipped model file whose SHA-256
    differs from its record; do nothing for any other file. A file is hashed once per size and
    modification time (:func:`~.digest.file_sha256`)."""
    path = Path(path).resolve()
    expected = shipped_digests().get(path)
    if expected is None:
        return
    actual = file_sha256(path)
    if actual != expected:
        raise ModelIntegrityError(f"shipped model {path} is corrupt: SHA-256 {actual[:16]}... differs from the "
                                  f"recorded {expected[:16]}...; reinstall the package")
