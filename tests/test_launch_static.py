"""Static checks of launch/pose3d.launch.py and config/pose3d.rviz.

``launch`` and ``launch_ros`` come with a ROS 2 distribution and cannot be installed here, so the
launch file is read as a syntax tree and never imported (the core modules it imports its choices
from are imported here): its arguments, the node it starts (package, executable, name,
remappings, parameter overrides) and the RViz node are checked against the node's config
(poselifter_ros/node_config.py), its input streams, docs/ros.md and config/pose3d.rviz, rather
than against literals restated here. The node itself is tested in tests/ros_node/ by starting its
installed executable with the same params file.
"""
from __future__ import annotations

import ast
import importlib
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from poselifter_core.rosmsg.bag import STREAM_TYPES
from poselifter_ros.node_config import parameter_specs

REPO = Path(__file__).resolve().parents[1]
LAUNCH_FILE = REPO / "launch" / "pose3d.launch.py"
RVIZ_FILE = REPO / "config" / "pose3d.rviz"
PARAMS_FILE = REPO / "config" / "pose3d.yaml"
ROS_DOC = REPO / "docs" / "ros.md"

PACKAGE = "poselifter_ros"
NODE_NAME = "pose3d"
# Outputs of the node named NODE_NAME in the default (root) namespace.
MARKERS_TOPIC = f"/{NODE_NAME}/markers"
DEBUG_IMAGE_TOPIC = f"/{NODE_NAME}/debug_image"
SPECS = {spec.name: spec for spec in parameter_specs()}


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


class LaunchFile:
    """The launch file's syntax tree, with its module-level literal constants resolved."""

    def __init__(self, path: Path) -> None:
        self.tree = ast.parse(path.read_text(), filename=str(path))
        self.constants: dict[str, Any] = {}
        self.imported: dict[str, str] = {}  # name -> module, for the core modules the launch file imports from
        for statement in self.tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module.startswith("poselifter_"):
                for alias in statement.names:
                    self.imported[alias.asname or alias.name] = statement.module
                    self.constants[alias.asname or alias.name] = getattr(importlib.import_module(statement.module),
                                                                         alias.name)
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)):
                try:
                    self.constants[statement.targets[0].id] = ast.literal_eval(statement.value)
                except (ValueError, TypeError):
                    pass
        self._parents = {child: parent for parent in ast.walk(self.tree) for child in ast.iter_child_nodes(parent)}

    def value(self, node: ast.AST | None) -> Any:
        """A literal, a module-level constant, an f-string of those or list()/tuple() of one; else None."""
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if isinstance(node, ast.List) and any(isinstance(e, ast.Starred) for e in node.elts):
            items = [self.value(e.value) if isinstance(e, ast.Starred) else [self.value(e)] for e in node.elts]
            return None if None in items else [item for part in items for item in part]
        if isinstance(node, ast.Call) and _callee(node) in ("list", "tuple") and len(node.args) == 1:
            items = self.value(node.args[0])
            return None if items is None else (list if _callee(node) == "list" else tuple)(items)
        if isinstance(node, ast.JoinedStr):
            parts = [self.value(part.value) if isinstance(part, ast.FormattedValue) else part.value
                     for part in node.values]
            return None if None in parts else "".join(map(str, parts))
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError):
            return None

    def strings(self, node: ast.AST) -> set[str]:
        """Every string an expression contains, constant names resolved."""
        return {value for child in ast.walk(node) if isinstance(value := self.value(child), str)}

    def calls(self, name: str) -> list[ast.Call]:
        return [node for node in ast.walk(self.tree) if isinstance(node, ast.Call) and _callee(node) == name]

    def launch_configuration(self, node: ast.AST) -> str | None:
        """The argument name of ``LaunchConfiguration('<name>')``; None for anything else."""
        if isinstance(node, ast.Call) and _callee(node) == "LaunchConfiguration" and len(node.args) == 1:
            return self.value(node.args[0])
        return None

    def resolve(self, node: ast.AST) -> ast.AST:
        """A local variable's assigned expression (in the enclosing function); other nodes as they are."""
        if not isinstance(node, ast.Name):
            return node
        function = node
        while function is not None and not isinstance(function, ast.FunctionDef):
            function = self._parents.get(function)
        assignments = [statement.value for statement in ast.walk(function or self.tree)
                       if isinstance(statement, ast.Assign)
                       and any(isinstance(t, ast.Name) and t.id == node.id for t in statement.targets)]
        return assignments[0] if len(assignments) == 1 else node

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef:
        while not isinstance(node, ast.FunctionDef):
            node = self._parents[node]
        return node


def keywords(call: ast.Call) -> dict[str, ast.AST]:
    return {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}


@pytest.fixture(scope="module")
def launch() -> LaunchFile:
    return LaunchFile(LAUNCH_FILE)


@pytest.fixture(scope="module")
def declared(launch: LaunchFile) -> dict[str, dict[str, ast.AST]]:
    """Launch argument name -> its DeclareLaunchArgument keyword arguments."""
    arguments = {}
    for call in launch.calls("DeclareLaunchArgument"):
        kwargs = keywords(call)
        name = launch.value(call.args[0] if call.args else kwargs.get("name"))
        assert isinstance(name, str), f"line {call.lineno}: launch argument name is not a literal"
        assert name not in arguments, f"launch argument {name!r} declared twice"
        arguments[name] = kwargs
    return arguments


def node_call(launch: LaunchFile, package: str) -> tuple[ast.Call, dict[str, ast.AST]]:
    nodes = [call for call in launch.calls("Node") if launch.value(keywords(call).get("package")) == package]
    assert len(nodes) == 1, f"expected one Node of package {package!r}, found {len(nodes)}"
    return nodes[0], keywords(nodes[0])


def remappings(launch: LaunchFile, kwargs: dict[str, ast.AST]) -> list[tuple[ast.AST, ast.AST]]:
    rules = launch.resolve(kwargs["remappings"])
    assert isinstance(rules, ast.List), "remappings must be a literal list of (from, to) pairs"
    assert all(isinstance(rule, ast.Tuple) and len(rule.elts) == 2 for rule in rules.elts)
    return [(rule.elts[0], rule.elts[1]) for rule in rules.elts]


def option_value(launch: LaunchFile, arguments: ast.AST, option: str) -> ast.AST:
    """The expression after ``option`` in a literal command-line list."""
    arguments = launch.resolve(arguments)
    assert isinstance(arguments, ast.List)
    values = [launch.value(element) for element in arguments.elts]
    assert option in values, f"{option} missing from the arguments"
    return arguments.elts[values.index(option) + 1]


@pytest.fixture(scope="module")
def rviz() -> dict:
    return yaml.safe_load(RVIZ_FILE.read_text())


def rviz_displays(rviz: dict) -> list[dict]:
    return rviz["Visualization Manager"]["Displays"]


def display_on(rviz: dict, plugin: str, topic: str) -> dict:
    found = [d for d in rviz_displays(rviz)
             if d["Class"] == f"rviz_default_plugins/{plugin}" and d.get("Topic", {}).get("Value") == topic]
    assert len(found) == 1, f"expected one {plugin} display on {topic}, found {len(found)}"
    return found[0]


def test_defines_generate_launch_description(launch: LaunchFile) -> None:
    functions = {s.name: s for s in launch.tree.body if isinstance(s, ast.FunctionDef)}
    assert "generate_launch_description" in functions
    assert not functions["generate_launch_description"].args.args, "ros2 launch calls it without arguments"
    returns = [n for n in ast.walk(functions["generate_launch_description"]) if isinstance(n, ast.Return)]
    assert returns and all(isinstance(r.value, ast.Call) and _callee(r.value) == "LaunchDescription" for r in returns)


def documented_arguments() -> dict[str, str]:
    """docs/ros.md's launch argument table: name -> the default it documents ("" for an empty one;
    the params file's is described in words)."""
    table = ROS_DOC.read_text().split("| Argument | Default | Meaning |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (`[^`]*`|[^|]+?) \|", table, flags=re.MULTILINE)
    return {name: default.strip("`").strip('"') for name, default in rows}


@pytest.fixture(scope="module")
def overrides(launch: LaunchFile) -> dict[str, tuple[str, str]]:
    """The launch file's PARAMETER_OVERRIDES: argument -> (node parameter, type name)."""
    (assignment,) = [s for s in launch.tree.body if isinstance(s, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == "PARAMETER_OVERRIDES" for t in s.targets)]
    assert isinstance(assignment.value, ast.Dict)
    table = {}
    for key, value in zip(assignment.value.keys, assignment.value.values):
        assert isinstance(value, ast.Tuple) and isinstance(value.elts[1], ast.Name)
        table[launch.value(key)] = (launch.value(value.elts[0]), value.elts[1].id)
    return table


def test_every_argument_has_a_default_and_a_description_and_is_documented(
        launch: LaunchFile, declared: dict[str, dict[str, ast.AST]]) -> None:
    documented = documented_arguments()
    assert set(declared) == set(documented), "docs/ros.md's launch table lists exactly the launch arguments"
    for name, kwargs in declared.items():
        description = launch.value(kwargs.get("description"))
        assert isinstance(description, str) and description.strip(), f"{name}: no description"
        assert "default_value" in kwargs, f"{name}: no default (the argument would be required)"
        default = launch.value(kwargs["default_value"])
        if default is not None:  # a substitution (params_file) is described in words
            assert documented[name] == default, f"{name}: docs/ros.md says {documented[name]!r}, the launch file {default!r}"


def test_params_file_defaults_to_the_installed_pose3d_yaml(
        launch: LaunchFile, declared: dict[str, dict[str, ast.AST]]) -> None:
    default = declared["params_file"]["default_value"]
    assert {PACKAGE, "config", "pose3d.yaml"} <= launch.strings(default)
    assert any(_callee(call) in ("FindPackageShare", "get_package_share_directory")
               for call in ast.walk(default) if isinstance(call, ast.Call)), "not looked up in the package's share"


def test_overrides_are_node_parameters_with_their_choices(
        launch: LaunchFile, declared: dict[str, dict[str, ast.AST]], overrides: dict[str, tuple[str, str]]) -> None:
    """Each override names a node parameter of the same type; its choices are the parameter's
    (imported by the launch file, not restated), plus "" to keep the params file's value."""
    assert {"mode", "backend", "debug_image", "autostart"} <= set(overrides)
    for argument, (parameter, type_name) in overrides.items():
        assert parameter in SPECS, f"{argument}: the node has no parameter {parameter!r}"
        spec = SPECS[parameter]
        assert type(spec.default).__name__ == type_name, f"{argument}: {parameter} is a {type(spec.default).__name__}"
        assert launch.value(declared[argument]["default_value"]) == "", f"{argument}: empty keeps the params file"
        choices = launch.value(declared[argument].get("choices"))
        if spec.choices:
            assert choices == ["", *spec.choices], argument
        elif type_name == "bool":
            assert choices == ["", "true", "false"], argument
    assert launch.imported["MODES"] == "poselifter_core.rosmsg.frames"


def test_pose3d_node_runs_the_executable_under_the_product_name(
        launch: LaunchFile, declared: dict[str, dict[str, ast.AST]]) -> None:
    _, kwargs = node_call(launch, PACKAGE)
    assert launch.value(kwargs["executable"]) == "pose3d_node"
    # ~/skeletons of node "pose3d" in the default (empty) namespace is /pose3d/skeletons.
    assert launch.value(kwargs["name"]) == NODE_NAME
    assert launch.launch_configuration(kwargs["namespace"]) == "namespace"
    assert launch.value(declared["namespace"]["default_value"]) == ""
    assert launch.launch_configuration(option_value(launch, kwargs["arguments"], "--log-level")) == "log_level"


def test_pose3d_node_remaps_every_input_stream(launch: LaunchFile) -> None:
    _, kwargs = node_call(launch, PACKAGE)
    rules = {launch.value(source): launch.launch_configuration(target)
             for source, target in remappings(launch, kwargs)}
    assert rules == {stream: f"{stream}_topic" for stream in STREAM_TYPES}  # the node's input names


def test_pose3d_node_reads_the_params_file_and_typed_overrides(launch: LaunchFile) -> None:
    call, kwargs = node_call(launch, PACKAGE)
    parameters = launch.resolve(kwargs["parameters"])
    files = [launch.launch_configuration(node) for node in ast.walk(parameters)]
    assert "params_file" in files
    # The overrides are built in the function that creates the node, typed from the table.
    function = launch.enclosing_function(call)
    assert any(isinstance(n, ast.Name) and n.id == "PARAMETER_OVERRIDES" for n in ast.walk(function))
    typed = [keywords(c).get("value_type") for c in ast.walk(function)
             if isinstance(c, ast.Call) and _callee(c) == "ParameterValue"]
    assert typed and all(isinstance(t, ast.Name) and t.id == "value_type" for t in typed)
    assert launch.calls("OpaqueFunction"), "the overrides depend on argument values: an OpaqueFunction builds the node"


def test_rviz_is_checked_before_anything_starts(launch: LaunchFile) -> None:
    description = launch.calls("LaunchDescription")[0].args[0]
    functions = [launch.value(keywords(c)["function"]) or keywords(c)["function"].id
                 for c in ast.walk(description) if isinstance(c, ast.Call) and _callee(c) == "OpaqueFunction"]
    assert functions[:2] == ["_check_rviz", "_pose3d_node"], "the rviz2 check runs first"
    (check,) = [f for f in launch.tree.body if isinstance(f, ast.FunctionDef) and f.name == "_check_rviz"]
    assert {"use_rviz", "rviz2"} <= launch.strings(check)
    assert any(isinstance(n, ast.Raise) for n in ast.walk(check)), "a missing rviz2 stops the launch"


def test_rviz_node_is_optional_and_uses_the_shipped_config(launch: LaunchFile) -> None:
    _, kwargs = node_call(launch, "rviz2")
    assert launch.value(kwargs["executable"]) == "rviz2"
    condition = kwargs["condition"]
    assert _callee(condition) == "IfCondition" and launch.launch_configuration(condition.args[0]) == "use_rviz"
    config = option_value(launch, kwargs["arguments"], "-d")
    assert {PACKAGE, "config", "pose3d.rviz"} <= launch.strings(config)
    assert launch.launch_configuration(option_value(launch, kwargs["arguments"], "-f")) == "fixed_frame"


def test_rviz_topics_follow_the_namespace_and_image_topic(launch: LaunchFile, rviz: dict,
                                                          declared: dict[str, dict[str, ast.AST]]) -> None:
    _, kwargs = node_call(launch, "rviz2")
    assert launch.launch_configuration(kwargs["namespace"]) == "namespace"
    rules = {launch.value(source): target for source, target in remappings(launch, kwargs)}
    config_topics = {d["Topic"]["Value"] for d in rviz_displays(rviz) if "Topic" in d}
    assert set(rules) == config_topics, "every topic of config/pose3d.rviz is remapped, and only those"
    for topic in (MARKERS_TOPIC, DEBUG_IMAGE_TOPIC):
        assert launch.value(rules[topic]) == topic.lstrip("/"), f"{topic}: relative to RViz's namespace"
    image_topic = launch.value(declared["image_topic"]["default_value"])
    assert launch.launch_configuration(rules[image_topic]) == "image_topic"


def test_rviz_config_shows_markers_tf_and_debug_image(rviz: dict, launch: LaunchFile,
                                                       declared: dict[str, dict[str, ast.AST]]) -> None:
    fixed_frame = launch.value(declared["fixed_frame"]["default_value"])
    assert rviz["Visualization Manager"]["Global Options"]["Fixed Frame"] == fixed_frame
    markers = display_on(rviz, "MarkerArray", MARKERS_TOPIC)
    assert markers["Enabled"] is True and markers["Namespaces"] == {"joints": True, "bones": True}
    assert display_on(rviz, "Image", DEBUG_IMAGE_TOPIC)["Enabled"] is True
    assert display_on(rviz, "Image", launch.value(declared["image_topic"]["default_value"]))["Enabled"] is False
    assert any(d["Class"] == "rviz_default_plugins/Grid" for d in rviz_displays(rviz))
    assert any(d["Class"] == "rviz_default_plugins/TF" and d["Enabled"] for d in rviz_displays(rviz))
    topic_keys = {"Depth", "Durability Policy", "History Policy", "Reliability Policy", "Value"}
    for display in rviz_displays(rviz):
        if "Topic" in display:
            assert topic_keys <= set(display["Topic"]), display["Name"]


def test_two_camera_rviz_config_shows_both_namespaces() -> None:
    """config/pose3d_two_cameras.rviz: the docs/ros.md example of nodes in namespaces cam1 and cam2."""
    two = yaml.safe_load((REPO / "config" / "pose3d_two_cameras.rviz").read_text())
    topics = {d["Topic"]["Value"] for d in rviz_displays(two) if "Topic" in d}
    assert topics == {f"/{camera}/{NODE_NAME}/{output}" for camera in ("cam1", "cam2") for output in ("markers",)}
    assert any(d["Class"] == "rviz_default_plugins/TF" for d in rviz_displays(two))
    assert "pose3d_two_cameras.rviz" in ROS_DOC.read_text()


def test_rviz_view_looks_along_the_optical_axis(rviz: dict) -> None:
    """Replays rviz_default_plugins' OrbitViewController::updateCamera (eye on a sphere around the
    focal point; Ogre's fixed yaw axis +z) and checks the camera looks along +z with -y up."""
    view = rviz["Visualization Manager"]["Views"]["Current"]
    assert view["Class"] == "rviz_default_plugins/Orbit" and view["Target Frame"] == "<Fixed Frame>"
    yaw, pitch, distance = view["Yaw"], view["Pitch"], view["Distance"]
    assert abs(pitch) <= math.pi / 2 - 0.001 + 1e-6, "RViz clamps the pitch to (-pi/2, pi/2) minus 0.001"
    focal = np.array([view["Focal Point"][axis] for axis in "XYZ"], dtype=float)
    eye = focal + distance * np.array([math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch),
                                       math.sin(pitch)])
    forward = (focal - eye) / np.linalg.norm(focal - eye)
    right = np.cross([0.0, 0.0, 1.0], -forward)
    right /= np.linalg.norm(right)
    up = np.cross(-forward, right)
    np.testing.assert_allclose(forward, [0, 0, 1], atol=0.01)
    np.testing.assert_allclose(right, [1, 0, 0], atol=0.01)
    np.testing.assert_allclose(up, [0, -1, 0], atol=0.01)
    assert eye[2] < 0, "the eye starts behind the camera"


