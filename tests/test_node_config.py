"""The node's parameters come from the config dataclasses: config/pose3d.yaml is generated from
them, every parameter is described, and the live / read-only split is the intended one."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from poselifter_core.cascade import CascadeConfig
from poselifter_core.config import from_dict
from poselifter_core.rosmsg.frames import FrameConfig
from poselifter_core.settings import nested, setting_specs
from poselifter_ros.node_config import NodeConfig, parameter_specs, params_yaml

REPO = Path(__file__).resolve().parents[1]
PARAMS_FILE = REPO / "config" / "pose3d.yaml"


def test_params_file_is_generated_from_the_config() -> None:
    assert PARAMS_FILE.read_text() == params_yaml(), (
        "config/pose3d.yaml is out of date: python -m poselifter_ros.node_config > config/pose3d.yaml")


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_params_file_holds_every_parameter_at_its_default_with_dotted_names() -> None:
    """rcl flattens nested YAML into dotted names, so the file reads back as the default config."""
    values = _flatten(yaml.safe_load(PARAMS_FILE.read_text())["/**"]["ros__parameters"])
    assert list(values) == [spec.name for spec in parameter_specs()]
    assert from_dict(NodeConfig, nested(values)) == NodeConfig()
    assert "cascade.min_joint_score" in values and "frame.mode" in values  # the core's settings, as bag --set names them


def test_core_settings_are_node_parameters() -> None:
    names = {spec.name for spec in parameter_specs()}
    for prefix, config in (("frame.", FrameConfig), ("cascade.", CascadeConfig)):
        assert {prefix + spec.name for spec in setting_specs(config)} <= names


def test_every_parameter_is_described_and_models_are_read_only() -> None:
    specs = {spec.name: spec for spec in parameter_specs()}
    assert all(spec.description for spec in specs.values()), [n for n, s in specs.items() if not s.description]
    read_only = {name for name, spec in specs.items() if not spec.live}
    assert {"backend", "lifter", "pose2d", "frame.mode", "input.compressed", "autostart"} <= read_only
    live = {name for name, spec in specs.items() if spec.live}
    assert {"cascade.min_joint_score", "cascade.min_valid_joints", "frame.min_detection_score",
            "output.markers", "output.tf", "output.detections", "output.target_frame", "input.expected_rate"} <= live


def test_docs_list_every_parameter_as_live_or_read_only() -> None:
    table = (REPO / "docs" / "ros.md").read_text().split("| parameter | | default [range] |", 1)[1].split("\n\n", 1)[0]
    documented = dict(re.findall(r"^\| `([\w.]+)` \| (live|read-only) \|", table, flags=re.MULTILINE))
    assert documented == {spec.name: "live" if spec.live else "read-only" for spec in parameter_specs()}


def test_docs_give_every_parameter_the_params_files_default_and_its_range() -> None:
    """docs/ros.md's table: the default as config/pose3d.yaml has it and the range the node enforces."""
    table = (REPO / "docs" / "ros.md").read_text().split("| parameter | | default [range] |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| [\w-]+ \| `([^`]*)`(?: \[([^\]]*)\])?", table, flags=re.MULTILINE)
    documented = {name: (default, bounds) for name, default, bounds in rows}
    values = _flatten(yaml.safe_load(PARAMS_FILE.read_text())["/**"]["ros__parameters"])
    for spec in parameter_specs():
        default, bounds = documented[spec.name]
        value = values[spec.name]
        shown = float(default) if isinstance(value, float) else yaml.safe_load(default)  # 1e6 is no YAML float
        assert shown == value, f"{spec.name}: docs/ros.md says {default}, config/pose3d.yaml {value!r}"
        low_high = None if spec.low is None else (spec.low, spec.high)
        assert (tuple(float(b) for b in bounds.split(",")) if bounds else None) == low_high, spec.name
