"""The backend interface and its types; :mod:`.factory` picks a backend from a setting.

A backend runs one model: named numpy inputs with a leading batch axis in, named numpy outputs
out. Each input is cast to the element type the model declares (:attr:`Signature.input_dtypes`:
read from the ONNX file for ONNX Runtime and TensorRT, given by the caller for PyTorch; float32
when not declared), e.g. uint8 images for MoveNet and float32 for the lifter; outputs keep the
type the model produces.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class BackendError(RuntimeError):
    """A backend cannot be made or cannot run; the message says why."""


@dataclass(frozen=True)
class Signature:
    """Names of a model's inputs and outputs, in call order; input shapes (``None`` where dynamic)
    and input element types (numpy dtype names, e.g. ``"uint8"``; all float32 when ``None``)."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_shapes: tuple[tuple[int | None, ...], ...] | None = None
    input_dtypes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for field_name in ("input_shapes", "input_dtypes"):
            values = getattr(self, field_name)
            if values is not None and len(values) != len(self.input_names):
                raise ValueError(f"{field_name} has {len(values)} entries for {len(self.input_names)} inputs")

    @property
    def dtypes(self) -> tuple[np.dtype, ...]:
        """Element type of each input, float32 where none is declared."""
        if self.input_dtypes is None:
            return (np.dtype(np.float32),) * len(self.input_names)
        return tuple(np.dtype(d) for d in self.input_dtypes)

    def check(self, inputs: dict[str, np.ndarray]) -> None:
        """Raise ``ValueError`` naming the problem when ``inputs`` do not fit this signature."""
        missing = [n for n in self.input_names if n not in inputs]
        unexpected = [n for n in inputs if n not in self.input_names]
        if missing or unexpected:
            raise ValueError(f"model inputs are {list(self.input_names)}; missing {missing}, unexpected {unexpected}")
        batch = {np.shape(inputs[n])[0] if np.ndim(inputs[n]) else None for n in self.input_names}
        if len(batch) != 1 or None in batch:
            raise ValueError(f"all inputs need the same leading batch size, got "
                             f"{ {n: np.shape(inputs[n]) for n in self.input_names} }")
        for name, shape in zip(self.input_names, self.input_shapes or ()):
            got = np.shape(inputs[name])
            if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
                expected = tuple("N" if s is None else s for s in shape)
                raise ValueError(f"input {name!r} must have shape {expected}, got {got}")

    def cast(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each input as a contiguous array of its declared type (see :func:`cast_input`)."""
        return {name: cast_input(name, inputs[name], dtype) for name, dtype in zip(self.input_names, self.dtypes)}


def cast_input(name: str, value: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``value`` as a contiguous ``dtype`` array when that loses nothing a model could need.

    Allowed: integer -> integer when every value fits (a list of pixel values gives int64; a
    uint8 image fits an int32 input), and numpy's ``same_kind`` casts otherwise (float64 ->
    float32, integers -> floats). Anything else (floats -> integers, out-of-range integers,
    strings, objects) raises ``ValueError`` naming the input.
    """
    array = np.asarray(value)
    if array.dtype == dtype:
        return np.ascontiguousarray(array)
    if array.dtype.kind in "biu" and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if array.size and not np.can_cast(array.dtype, dtype) and not info.min <= array.min() <= array.max() <= info.max:
            raise ValueError(f"input {name!r} is {dtype} (values in [{info.min}, {info.max}]), got {array.dtype} "
                             f"values in [{array.min()}, {array.max()}]")
    elif not np.can_cast(array.dtype, dtype, casting="same_kind"):
        raise ValueError(f"input {name!r} must be {dtype} (or cast to it without loss), got {array.dtype}")
    return np.ascontiguousarray(array, dtype=dtype)


@dataclass(frozen=True)
class BackendChoice:
    """What :func:`~.factory.create_backend` made of a ``setting``, kept on the backend for a run's
    record (``run.json``): the backend's :attr:`InferenceBackend.name`, the ``file`` it runs (the
    ONNX file, which on ONNX Runtime's CPU may be another than the one named, e.g. the lifter's
    int8 variant; a TensorRT engine is built from it; None for PyTorch, which runs the module made
    from the named file) and why the candidates before it were ``skipped`` (``auto``,
    ``onnxruntime``), as the factory logs them."""

    setting: str
    backend: str
    file: Path | None
    skipped: tuple[str, ...] = ()


class InferenceBackend(ABC):
    """Runs one model. Subclasses implement :meth:`_run`; :meth:`run` checks the inputs first."""

    #: Short description of what runs, e.g. ``onnxruntime-cpu`` or ``tensorrt-fp16``.
    name: str = "backend"
    #: How :func:`~.factory.create_backend` chose this backend; None for one made directly.
    choice: BackendChoice | None = None

    def __init__(self, signature: Signature) -> None:
        self.signature = signature

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.signature.input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.signature.output_names

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Inputs with a leading batch axis, cast to their declared types -> outputs, by name, as
        the model produces them."""
        self.signature.check(inputs)
        return self._run(self.signature.cast(inputs))

    def warmup(self, inputs: dict[str, np.ndarray], iterations: int = 3) -> None:
        """Run a few times so lazy initialisation (allocations, kernel selection) is not timed."""
        for _ in range(iterations):
            self.run(inputs)

    @abstractmethod
    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Inputs are checked, contiguous arrays of the declared types."""
