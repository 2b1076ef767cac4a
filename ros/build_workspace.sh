#!/usr/bin/env bash
# Build the ROS 2 packages of this repository (poselifter_msgs, poselifter_ros) and the test-only
# vision_msgs with colcon against the ros-jazzy-* wheels of a virtual environment, into
# build/ros/install (--symlink-install: the installed node runs the working tree's code).
# Usage: ros/build_workspace.sh VENV      then: source build/ros/install/setup.bash
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(cd "${1:?usage: $0 VENV}" && pwd)
export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" AMENT_PREFIX_PATH="$venv" CMAKE_PREFIX_PATH="$venv"
colcon --log-base build/ros/log build --symlink-install \
  --base-paths ros tests/ros_interfaces \
  --build-base build/ros/build --install-base build/ros/install \
  --cmake-args -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF
