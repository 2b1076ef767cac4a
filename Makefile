# Set-up and the everyday jobs. Every target builds the virtual environment first if needed.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Sample photos for the main job: OpenCV's sample data from Debian's opencv-doc package.
SAMPLES := /usr/share/doc/opencv-doc/examples/data
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo train-demo test venv clean

venv: $(STAMP)

$(STAMP): setup.py requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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

test: $(STAMP)
	$(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) runs
