"""The int8-weight lifter variant as ONNX Runtime's CPU default (#16): which file runs under each
``lifter_weights`` setting, variants of another model refused, made by ``poselifter export --int8``
only, and run without torch or onnx. Small generated lifters; the shipped one is in
test_shipped_model.py."""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import torch

from poselifter_core.cli import main
from poselifter_core.infer import load_lifter_runtime
from poselifter_core.lifter.export import export_lifter, quantize_lifter_int8, random_lifter_inputs
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.lifter.weights import META_QUANTIZED_FROM, cpu_weights_path, int8_path
from poselifter_core.runtime.backend import BackendError
from poselifter_core.runtime.export import ExportError
from poselifter_core.runtime.onnx_metadata import graph_digest, read_metadata

from runtime_fixtures import write_checkpoint

#: ``auto`` picks the CPU only on a machine without a GPU.
cpu_only = pytest.mark.skipif(torch.cuda.is_available() or "CUDAExecutionProvider" in ort.get_available_providers(),
                              reason="auto would pick a GPU backend, which runs fp32")


@pytest.fixture(scope="module")
def lifters(tmp_path_factory):
    """Two exported lifters (different weights); the first with its int8 variant beside it."""
    folder = tmp_path_factory.mktemp("weights")
    checkpoint = write_checkpoint(folder / "a.pt", width=64, seed=0)
    a = export_lifter(checkpoint, folder / "a.onnx").path
    b = export_lifter(write_checkpoint(folder / "b.pt", width=64, seed=1), folder / "b.onnx").path
    quantize_lifter_int8(a, int8_path(a))
    return checkpoint, a, b


def _lift(runtime: LifterRuntime) -> np.ndarray:
    inputs = random_lifter_inputs(8, 17, np.random.default_rng(0))
    return runtime.lift(inputs["keypoints"], inputs["intrinsics"]).absolute


@cpu_only
def test_auto_runs_the_int8_variant_on_the_cpu_and_fp32_stays_selectable(lifters, caplog):
    _, a, _ = lifters
    assert int8_path(a).name == "a.int8.onnx"
    assert read_metadata(int8_path(a))[META_QUANTIZED_FROM] == graph_digest(a)
    assert read_metadata(int8_path(a))["poselifter.weights"].endswith("first and last layers fp32")
    import onnx

    ops = [node.op_type for node in onnx.load(str(int8_path(a))).graph.node]
    assert ops.count("MatMulInteger") == 4 and ops.count("MatMul") + ops.count("Gemm") == 2  # of 6 layers
    with caplog.at_level(logging.INFO, logger="poselifter_core.runtime.factory"):
        auto = LifterRuntime.from_onnx(a, "auto")
    assert auto.backend.path == int8_path(a) and auto.backend.name == "onnxruntime-cpu"
    assert "lifter: using backend onnxruntime-cpu on a.int8.onnx" in caplog.text
    assert LifterRuntime.from_onnx(a, "onnxruntime-cpu", weights="int8").backend.path == int8_path(a)
    fp32 = LifterRuntime.from_onnx(a, "onnxruntime-cpu", weights="fp32")
    assert fp32.backend.path == a
    quantized, exact = _lift(auto), _lift(fp32)
    assert np.isfinite(quantized).all() and not np.array_equal(quantized, exact)  # really another network
    assert np.abs(quantized - exact).max() < 0.05 * np.abs(exact).max()


@cpu_only
def test_the_shipped_style_path_beside_a_checkpoint_takes_the_setting(lifters):
    checkpoint, a, _ = lifters
    assert load_lifter_runtime(checkpoint, "auto").backend.path == int8_path(a)
    assert load_lifter_runtime(checkpoint, "auto", "fp32").backend.path == a
    assert load_lifter_runtime(checkpoint, "torch").backend.name == "torch-cpu"


@cpu_only
def test_without_a_variant_auto_runs_fp32_and_int8_is_an_error(lifters):
    _, _, b = lifters
    assert cpu_weights_path(b, "auto") is None
    assert LifterRuntime.from_onnx(b, "auto").backend.path == b
    with pytest.raises(BackendError, match="no int8 variant at .*b.int8.onnx"):
        LifterRuntime.from_onnx(b, "auto", weights="int8")
    with pytest.raises(ValueError, match="lifter weights must be one of"):
        cpu_weights_path(b, "fp16")


@cpu_only
def test_a_variant_of_another_model_is_never_run(lifters, tmp_path, caplog):
    _, a, b = lifters
    mine = shutil.copy(b, tmp_path / "b.onnx")
    shutil.copy(int8_path(a), int8_path(mine))  # a's variant, named as b's
    with caplog.at_level(logging.WARNING):
        runtime = LifterRuntime.from_onnx(mine, "auto")
    assert runtime.backend.path == mine
    assert "not using" in caplog.text and "was not quantised from" in caplog.text
    with pytest.raises(BackendError, match="was not quantised from"):
        LifterRuntime.from_onnx(mine, "auto", weights="int8")


@cpu_only
def test_an_int8_file_asked_for_by_name_runs_as_is_and_is_not_quantised_again(lifters, tmp_path):
    _, a, _ = lifters
    assert LifterRuntime.from_onnx(int8_path(a), "auto").backend.path == int8_path(a)
    with pytest.raises(ExportError, match="already quantised"):
        quantize_lifter_int8(int8_path(a), tmp_path / "twice.onnx")


@cpu_only
def test_export_int8_on_an_onnx_lifter_writes_the_variant_beside_it(lifters, tmp_path, capsys):
    _, a, _ = lifters
    mine = shutil.copy(a, tmp_path / "mine.onnx")
    assert main(["export", str(mine), "--int8"]) == 0
    assert "wrote" in capsys.readouterr().out and int8_path(mine).is_file()
    assert LifterRuntime.from_onnx(mine, "auto").backend.path == int8_path(mine)
    assert main(["export", str(mine)]) == 2
    assert "already ONNX" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.pt")]) == 2
    assert "needs -o/--output" in capsys.readouterr().err


@cpu_only
def test_the_variant_runs_without_torch_or_onnx(lifters):
    _, a, _ = lifters
    code = f"""
import sys
import numpy as np
from poselifter_core.lifter.runtime import LifterRuntime
runtime = LifterRuntime.from_onnx({str(a)!r})
assert runtime.backend.path.name == "a.int8.onnx", runtime.backend.path
result = runtime.lift(np.random.default_rng(0).normal(320, 40, (2, 17, 2)), np.array([500.0, 500.0, 320.0, 240.0]))
assert np.isfinite(result.absolute).all()
heavy = sorted(name for name in ("torch", "onnx", "onnxruntime.quantization") if name in sys.modules)
assert not heavy, heavy
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


@cpu_only
def test_the_cascade_benchmark_times_the_int8_variant_beside_its_fp32_file(lifters):
    from types import SimpleNamespace

    from poselifter_core.benchmark.cascade import network_rows

    _, a, b = lifters
    rows = network_rows(SimpleNamespace(lifter=LifterRuntime.from_onnx(a)), (640, 480), 50.0, 10.0, 1.0)
    lifter_rows = [row for row in rows if row.startswith("| lifter, batch 1 |")]
    assert [row.split(" | ")[1] for row in lifter_rows] == ["onnxruntime-cpu, int8 weights", "onnxruntime-cpu, fp32 weights"]
    assert all(float(row.split(" | ")[-1].rstrip(" |")) > 0 for row in lifter_rows)  # measured / floor
    rows = network_rows(SimpleNamespace(lifter=LifterRuntime.from_onnx(b)), (640, 480), 50.0, 10.0, 1.0)
    assert [row.split(" | ")[1] for row in rows if row.startswith("| lifter")] == ["onnxruntime-cpu"]


def test_the_shipped_int8_file_is_named_by_the_one_variant_rule():
    """integrity (below the lifter package) names the shipped variant with the rule lifter.weights
    picks variants by: one definition of the suffix, not two spellings of it."""
    from poselifter_core import integrity
    from poselifter_core.lifter import weights

    assert weights.int8_path is integrity.int8_path and weights.INT8_SUFFIX is integrity.INT8_SUFFIX
    assert integrity.LIFTER_ONNX_INT8 == integrity.int8_path(integrity.LIFTER_ONNX)
    assert integrity.LIFTER_ONNX_INT8.name == "poselifter_default.int8.onnx"


def test_evaluate_runs_the_named_onnx_file_not_the_variant_beside_it(lifters, tmp_path, capsys):
    """``evaluate`` takes .onnx exports beside checkpoints (it failed with 'invalid load key'), and
    evaluates the file named: an fp32 export with an int8 variant beside it scores as its
    checkpoint does, the variant only when named."""
    import json

    from poselifter_core import shipped

    checkpoint, a, _ = lifters
    data = tmp_path / "poses.npz"
    shipped.check_set().subset(slice(0, 64)).save(data)
    assert main(["evaluate", "--checkpoint", str(checkpoint), str(a), str(int8_path(a)), "--data", str(data),
                 "--no-analytic-root", "--device", "cpu", "--output", str(tmp_path / "eval")]) == 0
    overall = json.loads((tmp_path / "eval" / "results.json").read_text())["overall"]
    folder = a.parent.name
    assert list(overall) == [f"{folder}/a.pt", f"{folder}/a.onnx", f"{folder}/a.int8"]  # a.pt and a.onnx share a stem
    pt, fp32, int8 = (overall[name]["MPJPE"] for name in overall)
    assert fp32 == pytest.approx(pt, abs=0.01)
    assert abs(int8 - fp32) > 0.01
