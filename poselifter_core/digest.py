"""SHA-256 of a file, the one way files are fingerprinted (checkpoints in ONNX metadata, ONNX
files in engine-cache keys, the shipped model's provenance record).

A file is read once per size and modification time: one run hashes the same model files for the
shipped-file integrity check, the check that an ONNX file is an export of its checkpoint and the
run's record (``run.json``), 17 MB each for the lifter."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

_known: dict[tuple[Path, int, int], str] = {}  # (path, size, mtime) -> digest
_lock = threading.Lock()


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes, read in 1 MiB blocks (once per size and modification time)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (resolved, stat.st_size, stat.st_mtime_ns)
    with _lock:
        known = _known.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(resolved, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _lock:
        _known[key] = value
    return value
