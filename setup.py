"""Installs the ``poselifter_core`` library and the ``poselifter`` CLI (``pip install .``).

The same file serves colcon (ament_python) for the ROS 2 package ``poselifter_ros``; the core
needs no ROS to install or run.
"""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent

setup(
    name="poselifter_ros",
    version="0.1.0",
    description="Absolute 3D human pose from a single RGB camera (PoseLifter) for ROS 2",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["poselifter_core", "poselifter_core.*", "poselifter_ros", "poselifter_ros.*"]),
    include_package_data=True,
    package_data={"poselifter_core": ["assets/*", "assets/**/*", "mocap/mappings/*.yaml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/poselifter_ros"]),
        ("share/poselifter_ros", ["package.xml"]),
        ("share/poselifter_ros/config", [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "config").glob("*.yaml"))]),
    ],
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "torch>=2.1",
        "pyyaml>=6",
        "tqdm>=4.60",
        "h5py>=3.8",
        "matplotlib>=3.7",
        "onnx>=1.15",
        "onnxruntime>=1.17",
        "pillow>=9.1",
        "imageio>=2.30",
        "imageio-ffmpeg>=0.4.9",
    ],
    extras_require={"test": ["pytest>=7", "scikit-image>=0.19"]},  # skimage ships the test photo
    entry_points={"console_scripts": ["poselifter = poselifter_core.cli:main"]},
)
