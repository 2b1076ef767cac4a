"""colcon (ament_python) build of the ROS 2 package ``poselifter_ros``.

The Python code, launch files and configuration live at the repository root (shared with the
pip distribution in ../../pyproject.toml); this folder reaches them through symbolic links, so
one copy serves both. Python dependencies that rosdep does not know (torch, onnxruntime, onnx,
rosbags) come from ``pip install -r requirements.txt``.
"""
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "poselifter_ros"
HERE = Path(__file__).resolve().parent


def files(pattern: str) -> list[str]:
    return sorted(p.relative_to(HERE).as_posix() for p in HERE.glob(pattern))


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=["poselifter_core", "poselifter_core.*", "poselifter_ros", "poselifter_ros.*"]),
    package_data={"poselifter_core": ["assets/*", "assets/**/*", "mocap/mappings/*.yaml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", files("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", files("config/*.yaml") + files("config/*.rviz")),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="poselifter_ros maintainers",
    maintainer_email="maintainers@poselifter.dev",
    description="Absolute 3D human pose from a single RGB camera (PoseLifter) for ROS 2",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": [
        "pose3d_node = poselifter_ros.pose3d_node:main",
        "poselifter = poselifter_core.cli:main",
        "pose3d_latency_benchmark = poselifter_ros.latency_benchmark:main",
    ]},
)
