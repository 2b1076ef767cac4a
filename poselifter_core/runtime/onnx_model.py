"""Reading an ONNX file without running it: its signature (input/output names, input shapes and
element types). Its ``metadata_props`` are read without ``onnx`` by :mod:`.onnx_metadata`.

This module needs ``onnx`` only (no torch, no ONNX Runtime), so every backend can use it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from .backend import BackendError, Signature


def numpy_dtype(elem_type: int, where: str) -> str:
    """The numpy dtype name of an ONNX tensor element type (``onnx.TensorProto`` enum value);
    :class:`BackendError` naming ``where`` for types a numpy array cannot carry (strings, ...)."""
    try:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError) as error:
        raise BackendError(f"{where}: unsupported ONNX element type {elem_type}") from error
    if dtype.kind not in "biuf":
        raise BackendError(f"{where}: element type {onnx.TensorProto.DataType.Name(elem_type)} is not numeric; "
                           "backends take numeric tensors")
    return dtype.name


def load_model(onnx_path: str | Path, load_external_data: bool = False) -> onnx.ModelProto:
    """The parsed model; :class:`BackendError` when the file is missing, truncated or not ONNX."""
    path = Path(onnx_path)
    if not path.is_file():
        raise BackendError(f"no ONNX file at {path}")
    try:
        model = onnx.load(str(path), load_external_data=load_external_data)
    except Exception as error:  # protobuf raises DecodeError and others for truncated/corrupt files
        raise BackendError(f"{path} is not a readable ONNX file: {error}") from error
    if not model.HasField("graph"):  # an empty file parses as an empty model
        raise BackendError(f"{path} is not a readable ONNX file: it holds no graph")
    return model


def read_signature(onnx_path: str | Path) -> Signature:
    """Input/output names, input shapes and input element types of an ONNX file, without loading its weights."""
    model = load_model(onnx_path)
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    shapes = tuple(tuple(d.dim_value if d.HasField("dim_value") else None for d in i.type.tensor_type.shape.dim)
                   for i in inputs)
    dtypes = tuple(numpy_dtype(i.type.tensor_type.elem_type, f"{onnx_path}: input {i.name!r}") for i in inputs)
    return Signature(tuple(i.name for i in inputs), tuple(o.name for o in model.graph.output), shapes, dtypes)
