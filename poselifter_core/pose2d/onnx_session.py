"""ONNX Runtime sessions for the 2D models (CPU provider; GPU backends come with the runtime layer)."""
from __future__ import annotations

from pathlib import Path


def create_session(model_path: str | Path, num_threads: int = 0):
    """An ONNX Runtime CPU session for ``model_path``; FileNotFoundError names a missing file."""
    import onnxruntime as ort

    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"no ONNX model file at {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(num_threads)
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
