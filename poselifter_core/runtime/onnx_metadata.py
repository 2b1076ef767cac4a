"""An ONNX file's ``metadata_props`` without the ``onnx`` package (and without parsing its graph),
and the check of its graph against the checksum an export records there.

The run-time path (an exported model on ONNX Runtime) needs only the key/value metadata the
export wrote (the lifter's configuration, joint names); importing ``onnx`` for that cost about a
second and its memory (#16). An ONNX file is a protobuf ``ModelProto``; its metadata is field 14,
a repeated ``StringStringEntryProto`` (key = field 1, value = field 2). This reads the top-level
fields of the file through a memory map and skips every other field (the graph, the weights)
by its length, so a large model is not read.

Every ``poselifter export`` records the SHA-256 of the file's graph field (the network and its
weights, field 7) under :data:`META_WEIGHTS_SHA256`; :func:`check_weights` compares, so a copy
damaged anywhere in its weights is refused when it loads (issue #13), still without ``onnx``.
"""
from __future__ import annotations

import hashlib
import mmap
from pathlib import Path

from .backend import BackendError

#: Keys every ``poselifter export`` writes (:mod:`.export`); the model's own keys are its module's.
META_FORMAT = "poselifter.format"
META_CHECKPOINT_SHA256 = "poselifter.checkpoint_sha256"
META_VERSION = "poselifter.package_version"

_GRAPH, _METADATA_PROPS = 7, 14
#: Metadata key of the SHA-256 of the model's graph field (:func:`graph_digest`).
META_WEIGHTS_SHA256 = "poselifter.weights_sha256"
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


class MetadataError(ValueError):
    """Malformed protobuf (truncated, corrupt, or not ONNX); reported as :class:`BackendError`."""


def _varint(data: memoryview | mmap.mmap, position: int, end: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if position >= end or shift > 63:
            raise MetadataError("truncated or malformed varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _fields(data: memoryview | mmap.mmap, start: int, end: int):
    """``(field number, wire type, value or (offset, length))`` of the message in ``data[start:end]``."""
    position = start
    while position < end:
        tag, position = _varint(data, position, end)
        number, wire = tag >> 3, tag & 7
        if wire == _VARINT:
            value, position = _varint(data, position, end)
            yield number, wire, value
        elif wire == _LENGTH_DELIMITED:
            length, position = _varint(data, position, end)
            if position + length > end:
                raise MetadataError(f"field {number} runs past the end of the message")
            yield number, wire, (position, length)
            position += length
        elif wire in (_FIXED64, _FIXED32):
            position += 8 if wire == _FIXED64 else 4
            if position > end:
                raise MetadataError(f"field {number} runs past the end of the message")
            yield number, wire, None
        else:
            raise MetadataError(f"unsupported protobuf wire type {wire} (field {number})")


def read_metadata(onnx_path: str | Path) -> dict[str, str]:
    """The model's ``metadata_props`` as a dict; :class:`BackendError` when the file is missing,
    empty or not a well-formed protobuf."""
    path = Path(onnx_path)
    if not path.is_file():
        raise BackendError(f"no ONNX file at {path}")
    with open(path, "rb") as stream:
        size = path.stat().st_size
        if size == 0:
            raise BackendError(f"{path} is not a readable ONNX file: it is empty")
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
            metadata: dict[str, str] = {}
            try:
                for number, wire, value in _fields(data, 0, size):
                    if number != _METADATA_PROPS or wire != _LENGTH_DELIMITED:
                        continue
                    offset, length = value
                    entry = {n: bytes(data[o:o + ln]).decode("utf-8")
                             for n, w, v in _fields(data, offset, offset + length) if w == _LENGTH_DELIMITED
                             for o, ln in [v]}
                    metadata[entry.get(1, "")] = entry.get(2, "")
            except (MetadataError, UnicodeDecodeError) as error:
                raise BackendError(f"{path} is not a readable ONNX file: {error}") from error
            return metadata


def graph_digest(onnx_path: str | Path) -> str:
    """SHA-256 of the bytes of the file's graph field (the network with its weights);
    :class:`BackendError` when the file is not a well-formed protobuf with one graph."""
    path = Path(onnx_path)
    with open(path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            graphs = [value for number, wire, value in _fields(data, 0, len(data))
                      if number == _GRAPH and wire == _LENGTH_DELIMITED]
        except MetadataError as error:
            raise BackendError(f"{path} is not a readable ONNX file: {error}") from error
        if len(graphs) != 1:
            raise BackendError(f"{path} is not a readable ONNX file: {len(graphs)} graphs")
        offset, length = graphs[0]
        return hashlib.sha256(data[offset:offset + length]).hexdigest()


def check_weights(onnx_path: str | Path) -> None:
    """:class:`BackendError` if the file's graph differs from the checksum in its metadata (a
    corrupted copy); files without the checksum (other tools' exports, MoveNet) pass."""
    recorded = read_metadata(onnx_path).get(META_WEIGHTS_SHA256)
    if recorded is not None and recorded != graph_digest(onnx_path):
        raise BackendError(f"{onnx_path} is corrupt: its weights do not match the {META_WEIGHTS_SHA256} recorded "
                           "when it was exported; export it again")
