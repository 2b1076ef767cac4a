"""On-disk cache of serialised TensorRT engines (this module does not need TensorRT).

An engine is only valid for the TensorRT version, GPU model and compute capability it was built
with, and for its precision, optimisation profile and network; all of these form the
:class:`EngineKey`, whose digest names the file. Each file carries a header (magic, the full key,
payload length and SHA-256), so a truncated or corrupt file, or one copied under the wrong name,
is detected before TensorRT sees it; it is then deleted and the engine rebuilt. Files are written
atomically (temporary file in the same directory, fsync, rename), so concurrent starts or a crash
mid-write never leave a half-written engine under the final name.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, TypeVar

from ..digest import file_sha256
from .backend import BackendError

LOG = logging.getLogger(__name__)

MAGIC = b"POSELIFTER-TRT-ENGINE-1\n"
#: Environment variable that overrides :func:`default_cache_dir`.
CACHE_ENV = "POSELIFTER_ENGINE_CACHE"


def default_cache_dir() -> Path:
    """Where engines go when no directory is given: ``$POSELIFTER_ENGINE_CACHE``, else
    ``$XDG_CACHE_HOME/poselifter/engines`` (``~/.cache/poselifter/engines``), so that ``auto``
    can use TensorRT from ``infer``, the node and ``bag`` and builds each engine only once."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "poselifter" / "engines"
_LENGTH = struct.Struct(">I")
T = TypeVar("T")

#: One optimisation-profile entry: input name, min / opt / max shapes.
ProfileEntry = tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class EngineKey:
    tensorrt_version: str
    gpu_name: str
    compute_capability: tuple[int, int]
    precision: str  # fp16 | fp32
    profile: tuple[ProfileEntry, ...]
    onnx_sha256: str

    def as_json(self) -> str:
        """Canonical JSON (tuples as lists, sorted keys): what the header stores and the digest hashes."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.as_json().encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        """Readable and unique: ``trt10.3.0-nvidia-geforce-rtx-4090-sm89-fp16-b64-<onnx>-<digest>.engine``."""
        gpu = re.sub(r"[^a-z0-9]+", "-", self.gpu_name.lower()).strip("-") or "gpu"
        max_batch = max((entry[3][0] for entry in self.profile), default=0)
        major, minor = self.compute_capability
        return (f"trt{self.tensorrt_version}-{gpu}-sm{major}{minor}-{self.precision}-b{max_batch}-"
                f"{self.onnx_sha256[:12]}-{self.digest}.engine")


def batch_profile(input_shapes: dict[str, tuple[int, ...]], max_batch: int, opt_batch: int | None = None) -> tuple[ProfileEntry, ...]:
    """Profile for batch 1..``max_batch`` (optimised for ``opt_batch``, default ``max_batch``) of
    inputs whose non-batch dimensions are static: ``input_shapes`` maps name -> shape without batch."""
    if max_batch < 1:
        raise ValueError(f"max_batch must be at least 1, got {max_batch}")
    opt = max_batch if opt_batch is None else opt_batch
    if not 1 <= opt <= max_batch:
        raise ValueError(f"opt_batch must be in 1..{max_batch}, got {opt}")
    return tuple((name, (1, *shape), (opt, *shape), (max_batch, *shape)) for name, shape in input_shapes.items())


PRECISIONS = ("fp16", "fp32")


def engine_key(onnx_path: str | Path, precision: str, max_batch: int, opt_batch: int | None, tensorrt_version: str,
               gpu_name: str, compute_capability: tuple[int, int]) -> EngineKey:
    """The key of the engine for an ONNX file whose inputs have a dynamic batch axis and static other axes."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    from .onnx_model import read_signature  # onnx: only when an engine is keyed

    signature = read_signature(onnx_path)
    shapes = {}
    for name, shape in zip(signature.input_names, signature.input_shapes or ()):
        if not shape or any(d is None for d in shape[1:]):
            raise BackendError(f"{onnx_path}: input {name!r} has shape {shape}; only the batch axis (0) may be dynamic")
        shapes[name] = tuple(int(d) for d in shape[1:])
    return EngineKey(tensorrt_version, gpu_name, tuple(compute_capability), precision,
                     batch_profile(shapes, max_batch, opt_batch), file_sha256(onnx_path))


class EngineCache:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path(self, key: EngineKey) -> Path:
        return self.directory / key.filename

    def load(self, key: EngineKey) -> bytes | None:
        """The cached engine for ``key``; ``None`` when missing, or when the file is corrupt
        (which is then deleted so the next store replaces it)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            LOG.warning("cannot read cached engine %s (%s); it will be rebuilt", path, error)
            return None
        try:
            return _unpack(data, key)
        except ValueError as error:
            LOG.warning("cached engine %s is unusable (%s); deleting it, it will be rebuilt", path, error)
            self.invalidate(key)
            return None

    def store(self, key: EngineKey, engine: bytes) -> Path:
        """Write atomically; returns the final path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        header = json.dumps({"key": json.loads(key.as_json()), "payload_bytes": len(engine),
                             "payload_sha256": hashlib.sha256(engine).hexdigest()}).encode()
        handle, tmp = tempfile.mkstemp(dir=self.directory, prefix=".engine-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(MAGIC + _LENGTH.pack(len(header)) + header)
                stream.write(engine)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, self.path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path(key)

    def invalidate(self, key: EngineKey) -> None:
        self.path(key).unlink(missing_ok=True)

    def get_or_build(self, key: EngineKey, build: Callable[[], bytes], deserialize: Callable[[bytes], T | None]) -> tuple[T, bool]:
        """The deserialised engine and whether it was (re)built now.

        A cache hit is deserialised; if that fails (returns ``None`` or raises), the file is
        deleted and the engine rebuilt once. A build whose result cannot be deserialised raises
        :class:`BackendError`. A cache directory that cannot be written only costs a warning:
        the engine is used anyway and rebuilt on the next start.
        """
        cached = self.load(key)
        if cached is not None:
            engine = _try(deserialize, cached)
            if engine is not None:
                LOG.info("loaded TensorRT engine %s", self.path(key))
                return engine, False
            LOG.warning("cached engine %s could not be deserialised; rebuilding it", self.path(key))
            self.invalidate(key)
        LOG.info("building TensorRT engine %s (this can take minutes; it is cached for later starts)", key.filename)
        data = build()
        try:
            self.store(key, data)
        except OSError as error:
            LOG.warning("cannot write engine cache %s (%s); the engine will be rebuilt on the next start", self.directory, error)
        engine = _try(deserialize, data)
        if engine is None:
            raise BackendError("the freshly built TensorRT engine could not be deserialised")
        return engine, True


def _unpack(data: bytes, key: EngineKey) -> bytes:
    """Check header and payload of a cache file; ``ValueError`` saying what is wrong."""
    if not data.startswith(MAGIC):
        raise ValueError("not a poselifter engine cache file (bad magic)")
    start = len(MAGIC) + _LENGTH.size
    if len(data) < start:
        raise ValueError("truncated header")
    (header_length,) = _LENGTH.unpack_from(data, len(MAGIC))
    try:
        header = json.loads(data[start:start + header_length])
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"unreadable header: {error}") from None
    if not isinstance(header, dict) or header.get("key") != json.loads(key.as_json()):
        raise ValueError("built for a different key (TensorRT, GPU, precision, profile or ONNX file)")
    payload = data[start + header_length:]
    if len(payload) != header.get("payload_bytes"):
        raise ValueError(f"truncated: {len(payload)} of {header.get('payload_bytes')} engine bytes")
    if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise ValueError("engine bytes do not match their checksum")
    return payload


def _try(deserialize: Callable[[bytes], T | None], data: bytes) -> T | None:
    try:
        return deserialize(data)
    except Exception as error:  # TensorRT raises RuntimeError/TypeError/...: any failure means "rebuild"
        LOG.warning("engine deserialisation failed: %s", error)
        return None
