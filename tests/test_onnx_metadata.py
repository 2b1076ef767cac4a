"""Reading an ONNX file's metadata without the onnx package."""
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from poselifter_core.runtime.backend import BackendError
from poselifter_core.runtime.onnx_metadata import read_metadata


def _model_file(path, metadata: dict[str, str]):
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, producer_name="test", doc_string="d" * 300)
    helper.set_model_props(model, metadata)
    onnx.save(model, path)
    return path


def test_metadata_matches_what_onnx_reads(tmp_path):
    metadata = {"poselifter.format": "1", "long": "x" * 5000, "unicode": "Müller ✓", "": "empty key"}
    path = _model_file(tmp_path / "m.onnx", metadata)
    assert read_metadata(path) == metadata == {p.key: p.value for p in onnx.load(path).metadata_props}
    assert read_metadata(_model_file(tmp_path / "none.onnx", {})) == {}


def test_bad_files_raise(tmp_path):
    good = _model_file(tmp_path / "m.onnx", {"k": "v"}).read_bytes()
    (tmp_path / "cut.onnx").write_bytes(good[:-3])
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "text.onnx").write_bytes(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
    for name in ("cut.onnx", "empty.onnx", "text.onnx"):
        with pytest.raises(BackendError, match="not a readable ONNX file"):
            read_metadata(tmp_path / name)
    with pytest.raises(BackendError, match="no ONNX file"):
        read_metadata(tmp_path / "missing.onnx")


def test_reading_the_shipped_lifter_imports_no_onnx():
    import poselifter_core

    path = Path(poselifter_core.__file__).parent / "assets" / "lifter" / "poselifter_default.onnx"
    code = ("import sys; from poselifter_core.runtime.onnx_metadata import read_metadata; "
            f"assert 'poselifter.lifter_config' in read_metadata({str(path)!r}); assert 'onnx' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
