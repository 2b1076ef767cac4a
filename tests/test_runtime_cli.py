"""CLI: export (parity printed), build-engine without TensorRT, per-backend benchmark."""
from __future__ import annotations

import re

import pytest

from poselifter_core.benchmark.backends import BackendRow, flops_per_pose, format_report
from poselifter_core.cli import main
from poselifter_core.lifter.model import LifterConfig
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.runtime.tensorrt_backend import tensorrt_status

from runtime_fixtures import write_checkpoint


def test_export_command_prints_parity_and_writes_a_runnable_model(tmp_path, capsys):
    checkpoint = write_checkpoint(tmp_path / "lifter.pt", width=16)
    assert main(["export", str(checkpoint), "-o", str(tmp_path / "out" / "lifter.onnx")]) == 0
    out = capsys.readouterr().out
    error = float(re.search(r"max abs error ([0-9.e+-]+)", out).group(1))
    assert 0 <= error < 1e-4 and "dynamic batch" in out
    assert LifterRuntime.from_onnx(tmp_path / "out" / "lifter.onnx", backend="onnxruntime-cpu").config.width == 16


def test_export_command_bad_checkpoint_is_a_clean_error(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["export", str(bad), "-o", str(tmp_path / "x.onnx")]) == 2
    assert "not a readable PoseLifter checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.skipif(tensorrt_status()[0], reason="TensorRT is usable here")
def test_build_engine_without_tensorrt_exits_2(tmp_path, capsys):
    assert main(["build-engine", str(tmp_path / "m.onnx"), "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "TensorRT is not usable here" in capsys.readouterr().err


@pytest.mark.slow
def test_benchmark_backends_table(capsys):
    assert main(["benchmark", "--backends", "torch", "onnxruntime-cpu", "tensorrt", "--widths", "16",
                 "--latency-batches", "1", "4", "--throughput-batch", "32", "--repeats", "3", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\| torch \| torch-cpu \|( [0-9.,]+ \|){3} [0-9]+% \|", out)
    assert "| onnxruntime-cpu | onnxruntime-cpu |" in out
    assert "Matmul ceiling" in out and "GFLOP/s" in out and "x lower than torch-cpu" in out
    if not tensorrt_status()[0]:
        assert "| tensorrt | not available |" in out and "tensorrt: not available: " in out


def test_report_ceiling_share_arithmetic():
    config = LifterConfig(width=16)
    row = BackendRow("onnxruntime", "onnxruntime-cpu", {1: 0.5}, poses_per_s=1e9 / flops_per_pose(config), peak_rss_mib=100,
                     added_rss_mib=10)
    text = format_report([row], config, (1,), 64, {"numpy": 2.0, "torch": 1.0}, 1e-6, ((0.0,) * 3, (0.0,) * 3))
    assert "| 50% |" in text


def test_benchmark_lifter_files_times_each_export_old_and_new(tmp_path, capsys):
    from poselifter_core.lifter.checkpoint import save_checkpoint
    from poselifter_core.lifter.export import export_lifter
    from poselifter_core.lifter.model import PoseLifter

    new = export_lifter(write_checkpoint(tmp_path / "new.pt", width=16), tmp_path / "new.onnx").path
    legacy = tmp_path / "old.pt"  # a lifter from before #18: pixel input, no mask input
    save_checkpoint(legacy, PoseLifter(LifterConfig(width=8, input_space="pixels", depth_output="canonical")).eval())
    old = export_lifter(legacy, tmp_path / "old.onnx").path
    assert main(["benchmark", "--lifter-files", str(old), str(new), "--latency-batches", "1", "3",
                 "--rounds", "2", "--repeats", "2", "--threads", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"| {tmp_path}")]
    assert [row.split(" | ")[1] for row in rows] == ["pixels, no mask, width 8", "rays + mask, width 16"]
    for row in rows:
        times = [float(cell) for cell in row.strip(" |").split(" | ")[3:7]]
        assert all(t > 0 for t in times)
    assert rows[0].endswith("| 1.00 |")
    assert main(["benchmark", "--lifter-files", str(old), str(new), "--latency-batches", "1", "--rounds", "1",
                 "--repeats", "1", "--threads", "1", "--flip-average"]) == 0  # each file plain and flip-averaged
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"| {tmp_path}")]
    assert [row.split(" | ")[1] for row in rows] == ["pixels, no mask, width 8", "pixels, no mask, flip-averaged, width 8",
                                                     "rays + mask, width 16", "rays + mask, flip-averaged, width 16"]
    assert main(["benchmark", "--lifter-files", str(legacy)]) == 2
    assert "give ONNX exports" in capsys.readouterr().err
