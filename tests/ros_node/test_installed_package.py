"""The colcon-installed packages: the node's executables, and the top-level launch/, config/ and msg/
folders installed from the repository root (no links in the package folders)."""
from __future__ import annotations

import os
from pathlib import Path

import poselifter_msgs.msg

import poselifter_ros

REPO = Path(__file__).resolve().parents[2]


def share(package: str) -> Path:
    """``share/<package>`` of the first AMENT_PREFIX_PATH prefix that has it, as ament_index finds it."""
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix and (Path(prefix) / "share" / "ament_index" / "resource_index" / "packages" / package).is_file():
            return Path(prefix) / "share" / package
    raise FileNotFoundError(f"{package} is not in the ament index of AMENT_PREFIX_PATH")


def same_content(installed: Path, source: Path) -> bool:
    return installed.is_file() and installed.read_bytes() == source.read_bytes()


def test_launch_config_and_rviz_are_installed_from_the_top_level_folders():
    for folder, pattern in (("launch", "*.launch.py"), ("config", "*.yaml"), ("config", "*.rviz")):
        sources = sorted((REPO / folder).glob(pattern))
        assert sources, f"nothing matches {folder}/{pattern}"
        for source in sources:
            assert same_content(share("poselifter_ros") / folder / source.name, source), source


def test_messages_are_built_from_the_top_level_msg_folder():
    sources = sorted((REPO / "msg").glob("*.msg"))
    assert {p.stem for p in sources} == {"Keypoint2D", "Keypoints2D", "Keypoints2DArray", "Skeleton3D", "Skeleton3DArray"}
    for source in sources:
        assert same_content(share("poselifter_msgs") / "msg" / source.name, source), source
        assert hasattr(poselifter_msgs.msg, source.stem)


def test_the_node_package_is_installed_once_and_the_core_is_not_in_it():
    installed = Path(poselifter_ros.__file__).resolve().parent
    assert installed == (REPO / "poselifter_ros").resolve() or not (installed / "poselifter_core").exists()
    for executable in ("pose3d_node", "pose3d_latency_benchmark"):
        path = share("poselifter_ros").parent.parent / "lib" / "poselifter_ros" / executable
        assert path.is_file() and os.access(path, os.X_OK), path
    lib = share("poselifter_ros").parent.parent / "lib"
    assert not list(lib.glob("python*/site-packages/poselifter_core")), "the core comes from pip, not colcon"
