"""The architecture's import rules hold for the code, and the check catches each kind of violation."""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from import_graph import read_graph, violations

REPOSITORY = Path(__file__).resolve().parent.parent


def test_the_code_keeps_the_import_rules():
    graph = read_graph(REPOSITORY)
    assert len(graph.modules) > 50 and len(graph.edges) > 100  # the graph was read, not empty
    assert violations(graph) == []


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))
    for package in ("poselifter_core", "poselifter_ros"):
        (root / package).mkdir(exist_ok=True)
        for folder in [root / package, *(p for p in (root / package).rglob("*") if p.is_dir())]:
            (folder / "__init__.py").touch()
    return root


@pytest.mark.parametrize("files, expected", [
    ({"poselifter_core/camera.py": "import rclpy\n"}, "must run without ROS"),
    ({"poselifter_core/cascade.py": "def f():\n    from launch import LaunchDescription\n"}, "must run without ROS"),
    ({"poselifter_core/cascade.py": "from poselifter_ros import pose3d_node\n",
      "poselifter_ros/pose3d_node.py": ""}, "must not import the ROS node"),
    ({"poselifter_core/runtime/factory.py": "from ..lifter.model import PoseLifter\n",
      "poselifter_core/lifter/model.py": ""}, "runtime is model-agnostic"),
    ({"poselifter_core/runtime/factory.py": "from ..pose2d import movenet\n",
      "poselifter_core/pose2d/movenet.py": ""}, "runtime is model-agnostic"),
    ({"poselifter_core/lifter/model.py": "from ..runtime.backend import Signature\n",
      "poselifter_core/runtime/backend.py": ""}, "the lifter's network knows no backend"),
    ({"poselifter_core/camera.py": "from .cascade import Pose3DEstimator\n",
      "poselifter_core/cascade.py": ""}, "upward arrow"),
    ({"poselifter_core/cascade.py": "from .newthing import x\n",
      "poselifter_core/newthing.py": ""}, "has no layer"),
    ({"poselifter_core/cascade.py": "from . import infer\n",
      "poselifter_core/infer.py": "from .cascade import Pose3DEstimator\n"}, "upward arrow"),
    ({"poselifter_core/lifter/a.py": "from .b import x\n",
      "poselifter_core/lifter/b.py": "from .a import y\n"}, "import cycle between modules"),
    ({"poselifter_core/pose2d/a.py": "from ..noise import b\n",
      "poselifter_core/noise/b.py": "from ..pose2d import a\n"}, "import cycle between packages"),
])
def test_each_kind_of_violation_is_reported(tmp_path, files, expected):
    graph = read_graph(write_tree(tmp_path, files))
    found = violations(graph)
    assert any(expected in line for line in found), found


def test_a_clean_tree_passes(tmp_path):
    graph = read_graph(write_tree(tmp_path, {
        "poselifter_core/runtime/backend.py": "import numpy\n",
        "poselifter_core/lifter/runtime.py": "from ..runtime.backend import x\nfrom .model import y\n",
        "poselifter_core/lifter/model.py": "from ..camera import z\n",
        "poselifter_core/camera.py": "",
        "poselifter_ros/pose3d_node.py": "import rclpy\nfrom poselifter_core.lifter.runtime import x\n",
    }))
    assert violations(graph) == []
    assert ("poselifter_core.lifter.runtime", "poselifter_core.runtime.backend") in graph.edges
    assert ("poselifter_ros.pose3d_node", "poselifter_core.lifter.runtime") in graph.edges
