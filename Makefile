# Set-up and the everyday jobs. Every target builds the virtual environment first if needed.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv clean

venv: $(STAMP)

$(STAMP): setup.py requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The main job on the embedded defaults: train a lifter on the shipped open mocap data,
# evaluate it on a held-out subject and print the accuracy table (a few minutes on 2 cores).
demo: $(STAMP)
	$(VENV)/bin/poselifter train --config config/train_demo.yaml
	$(VENV)/bin/poselifter evaluate --checkpoint runs/demo/checkpoint_best.pt --config config/train_demo.yaml --output runs/demo/eval

test: $(STAMP)
	$(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) runs
