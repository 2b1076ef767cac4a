"""Per-input element types: declared by the ONNX file (ONNX Runtime) or the caller (torch), inputs
cast to them, outputs kept as the model makes them, clear errors for inputs that do not cast."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from poselifter_core.lifter.export import export_lifter, random_lifter_inputs
from poselifter_core.runtime import BackendError, Signature, create_backend
from poselifter_core.runtime.backend import cast_input
from poselifter_core.runtime.onnx_model import read_signature
from poselifter_core.runtime.onnxruntime_backend import OnnxRuntimeBackend
from poselifter_core.runtime.torch_backend import TorchBackend

from runtime_fixtures import write_checkpoint


def write_uint8_model(path) -> None:
    """``pixels`` (N, 4) uint8 -> ``total`` (N,) float32 row sums and ``same`` (N, 4) uint8 unchanged."""
    nodes = [helper.make_node("Cast", ["pixels"], ["as_float"], to=TensorProto.FLOAT),
             helper.make_node("ReduceSum", ["as_float", "axes"], ["total"], keepdims=0),
             helper.make_node("Identity", ["pixels"], ["same"])]
    graph = helper.make_graph(
        nodes, "uint8_sum", [helper.make_tensor_value_info("pixels", TensorProto.UINT8, ["N", 4])],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("same", TensorProto.UINT8, ["N", 4])],
        [helper.make_tensor("axes", TensorProto.INT64, [1], [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.fixture(scope="module")
def uint8_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("dtypes") / "uint8.onnx"
    write_uint8_model(path)
    return path


def test_a_run_onnxruntime_fails_on_is_a_backend_error(tmp_path):
    """ONNX Runtime raises its own classes (Fail, ...: not RuntimeError) for a run it fails on; the
    backend raises BackendError naming the file, as TensorRT's does, so a caller (the cascade's
    second look) catches that and not every exception."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])], "bad_reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])], [helper.make_tensor("shape", TensorProto.INT64, [1], [3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "reshape.onnx"))
    backend = OnnxRuntimeBackend(tmp_path / "reshape.onnx")
    with pytest.raises(BackendError, match=r"onnxruntime-cpu failed to run .*reshape\.onnx: .*cannot be reshaped"):
        backend.run({"x": np.ones((1, 4), np.float32)})


def test_uint8_model_through_onnxruntime(uint8_model):
    backend = create_backend("onnxruntime-cpu", uint8_model)
    assert backend.signature.input_dtypes == ("uint8",) and read_signature(uint8_model).input_dtypes == ("uint8",)
    pixels = np.array([[0, 1, 2, 255], [10, 20, 30, 40]], dtype=np.uint8)
    out = backend.run({"pixels": pixels})
    assert out["total"].dtype == np.float32 and out["total"].tolist() == [258.0, 100.0]
    assert out["same"].dtype == np.uint8 and np.array_equal(out["same"], pixels)  # outputs keep their type
    # Integers that fit are cast (a Python list gives int64); nothing else is.
    assert np.array_equal(backend.run({"pixels": pixels.tolist()})["same"], pixels)
    with pytest.raises(ValueError, match=r"input 'pixels' must be uint8.*got float64"):
        backend.run({"pixels": pixels.astype(np.float64)})
    with pytest.raises(ValueError, match=r"input 'pixels' is uint8 .*\[-1, 300\]"):
        backend.run({"pixels": [[-1, 0, 0, 300]]})
    with pytest.raises(ValueError, match="input 'pixels' must have shape"):
        backend.run({"pixels": pixels[:, :3]})


def test_float_model_is_unchanged(tmp_path):
    onnx_path = export_lifter(write_checkpoint(tmp_path / "lifter.pt", width=16), tmp_path / "lifter.onnx").path
    backend = OnnxRuntimeBackend(onnx_path)
    assert backend.signature.dtypes == (np.dtype(np.float32),) * 3
    x = random_lifter_inputs(3, 17, np.random.default_rng(0))
    expected = backend.run(x)["raw"]
    as_double = backend.run({k: v.astype(np.float64) for k, v in x.items()})["raw"]
    assert expected.dtype == np.float32 and np.array_equal(as_double, expected)
    with pytest.raises(ValueError, match="input 'keypoints' must be float32.*got <U"):
        backend.run({**x, "keypoints": np.full((3, 17, 2), "a")})


def test_torch_backend_takes_the_callers_types_and_keeps_output_types():
    class Count(torch.nn.Module):
        def forward(self, pixels):
            assert pixels.dtype == torch.uint8
            return pixels.long().sum(dim=1), pixels.float() / 255

    backend = TorchBackend(Count(), Signature(("pixels",), ("count", "scaled"), input_dtypes=("uint8",)))
    out = backend.run({"pixels": np.array([[1, 2], [3, 255]])})
    assert out["count"].dtype == np.int64 and out["count"].tolist() == [3, 258]
    assert out["scaled"].dtype == np.float32


def test_signature_and_cast_rules():
    with pytest.raises(ValueError, match="input_dtypes has 1 entries for 2 inputs"):
        Signature(("a", "b"), ("y",), input_dtypes=("uint8",))
    assert Signature(("a",), ("y",)).dtypes == (np.dtype(np.float32),)
    assert cast_input("a", np.zeros(2, np.uint8), np.dtype(np.int32)).dtype == np.int32
    assert cast_input("a", [1, 2], np.dtype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="input 'a' is int8"):
        cast_input("a", np.array([200], np.int64), np.dtype(np.int8))


def test_non_numeric_onnx_input_is_refused(tmp_path):
    graph = helper.make_graph([helper.make_node("Identity", ["text"], ["out"])], "strings",
                              [helper.make_tensor_value_info("text", TensorProto.STRING, ["N"])],
                              [helper.make_tensor_value_info("out", TensorProto.STRING, ["N"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "strings.onnx"))
    with pytest.raises(BackendError, match="input 'text'.*not numeric"):
        OnnxRuntimeBackend(tmp_path / "strings.onnx")
    with pytest.raises(BackendError, match="input 'text'.*not numeric"):
        read_signature(tmp_path / "strings.onnx")
