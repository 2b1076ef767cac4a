"""The run-time path (an ONNX lifter and MoveNet on ONNX Runtime) imports neither torch nor onnx
nor scipy.optimize (#16): PyTorch alone cost 276 MiB and 1.2 s at start-up, onnx another second,
only to run ONNX models; scipy.optimize (once the tracker's assignment) 0.6-2.9 s. Checked in a
fresh interpreter, where nothing else has imported them, with the default ``auto`` backend (on a
machine with TensorRT, ``auto`` picks it, and it takes its GPU buffers from PyTorch: not this
test's case)."""
import importlib.util
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None,
                                reason="TensorRT installed: auto would run it, with PyTorch")

_CHECK = """
import sys
{body}
heavy = sorted(name for name in ("torch", "onnx", "scipy.optimize") if name in sys.modules)
assert not heavy, f"the run-time path imported {{heavy}}"
"""


def _run(body: str) -> None:
    result = subprocess.run([sys.executable, "-c", _CHECK.format(body=body)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_cascade_on_onnxruntime_runs_a_frame_without_torch_or_onnx():
    _run("""
import numpy as np
from poselifter_core.infer import build_cascade, result_to_dict
cascade = build_cascade()
frame = np.zeros((240, 320, 3), np.uint8)
result_to_dict(cascade.process(frame))
people = cascade.lift_people([], None, (320, 240))
""")


def test_infer_and_bag_commands_import_without_torch_or_onnx(tmp_path):
    import cv2
    from skimage import data as skimage_data

    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    _run(f"""
from poselifter_core.cli import main
assert main(["infer", {str(photo)!r}, "-o", {str(tmp_path / "out")!r}, "--no-progress"]) == 0
import poselifter_core.cli.bag, poselifter_core.rosmsg.bag, poselifter_core.rosmsg.frames
""")
    assert (tmp_path / "out" / "results.json").is_file()


def test_node_module_imports_without_torch_or_onnx():
    pytest.importorskip("rclpy")
    pytest.importorskip("poselifter_msgs")  # the built ROS workspace, sourced
    _run("import poselifter_ros.pose3d_node")


def test_infer_on_a_video_and_the_trackers_assignment_run_without_scipy_optimize(tmp_path):
    import cv2
    import numpy as np

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    for _ in range(3):
        writer.write(np.full((240, 320, 3), 90, np.uint8))
    writer.release()
    _run(f"""
import numpy as np
from poselifter_core.cli import main
from poselifter_core.tracking.association import assign
assert main(["infer", {str(video)!r}, "-o", {str(tmp_path / "out")!r}, "--no-progress", "--no-video"]) == 0
assert assign(np.array([[1.0, np.inf, 0.5], [0.2, 3.0, np.inf]])) == [(0, 2), (1, 0)]
""")
