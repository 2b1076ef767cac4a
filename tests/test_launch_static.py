"""Static checks of launch/pose3d.launch.py and config/pose3d.rviz.

``launch`` and ``launch_ros`` come with a ROS 2 distribution and cannot be installed here, so the
launch file is read as a syntax tree and never imported: its arguments, the node it starts (package,
executable, name, remappings, parameters) and the RViz node are checked against what the node and
config/pose3d.rviz expect. The node itself is tested in tests/ros_node/ by starting its installed
executable with the same params file.
"""
from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
LAUNCH_FILE = REPO / "launch" / "pose3d.launch.py"
RVIZ_FILE = REPO / "config" / "pose3d.rviz"
PARAMS_FILE = REPO / "config" / "pose3d.yaml"
ROS_PACKAGE_DIR = REPO / "ros" / "poselifter_ros"  # links to launch/ and config/; setup.py installs both

PACKAGE = "poselifter_ros"
NODE_NAME = "pose3d"
# Every launch argument with its literal default (None: a substitution, checked separately).
ARGUMENTS = {
    "namespace": "",
    "image_topic": "/camera/image_raw",
    "camera_info_topic": "/camera/camera_info",
    "detections_topic": "/detections",
    "keypoints_topic": "/keypoints_2d",
    "params_file": None,
    "mode": "",
    "backend": "",
    "lifter_model": "",
    "pose2d_model": "",
    "use_rviz": "false",
    "camera_frame": "camera_optical_frame",
    "log_level": "info",
}
# The node's relative input names -> the launch argument each is remapped to.
INPUT_REMAPPINGS = {
    "image": "image_topic",
    "camera_info": "camera_info_topic",
    "detections": "detections_topic",
    "keypoints": "keypoints_topic",
}
PARAMETER_OVERRIDES = {"mode", "backend", "lifter_model", "pose2d_model"}
# Outputs of the node named NODE_NAME in the default (root) namespace.
MARKERS_TOPIC = f"/{NODE_NAME}/markers"
DEBUG_IMAGE_TOPIC = f"/{NODE_NAME}/debug_image"


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
        for statement in self.tree.body:
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


def test_declares_the_documented_arguments_with_defaults_and_descriptions(
        launch: LaunchFile, declared: dict[str, dict[str, ast.AST]]) -> None:
    assert set(declared) == set(ARGUMENTS)
    for name, default in ARGUMENTS.items():
        description = launch.value(declared[name].get("description"))
        assert isinstance(description, str) and description.strip(), f"{name}: no description"
        assert "default_value" in declared[name], f"{name}: no default (the argument would be required)"
        if default is not None:
            assert launch.value(declared[name]["default_value"]) == default, name


def test_params_file_defaults_to_the_installed_pose3d_yaml(
        launch: LaunchFile, declared: dict[str, dict[str, ast.AST]]) -> None:
    default = declared["params_file"]["default_value"]
    assert {PACKAGE, "config", "pose3d.yaml"} <= launch.strings(default)
    assert any(_callee(call) in ("FindPackageShare", "get_package_share_directory")
               for call in ast.walk(default) if isinstance(call, ast.Call)), "not looked up in the package's share"


def test_choices_match_the_node(launch: LaunchFile, declared: dict[str, dict[str, ast.AST]]) -> None:
    from poselifter_core.rosmsg.frames import MODES
    from poselifter_core.runtime.backend import BACKEND_SETTINGS

    for name, node_choices in (("mode", MODES), ("backend", BACKEND_SETTINGS)):
        assert set(launch.value(declared[name]["choices"])) == {"", *node_choices}, name


def test_pose3d_node_runs_the_executable_under_the_product_name(
        launch: LaunchFile, declared: dict[str, dict[str, ast.AST]]) -> None:
    _, kwargs = node_call(launch, PACKAGE)
    assert launch.value(kwargs["executable"]) == "pose3d_node"
    # ~/skeletons of node "pose3d" in the default (empty) namespace is /pose3d/skeletons.
    assert launch.value(kwargs["name"]) == NODE_NAME
    assert launch.launch_configuration(kwargs["namespace"]) == "namespace"
    assert launch.value(declared["namespace"]["default_value"]) == ""
    assert launch.launch_configuration(option_value(launch, kwargs["arguments"], "--log-level")) == "log_level"


def test_pose3d_node_remaps_every_input(launch: LaunchFile) -> None:
    _, kwargs = node_call(launch, PACKAGE)
    rules = {launch.value(source): launch.launch_configuration(target)
             for source, target in remappings(launch, kwargs)}
    assert rules == INPUT_REMAPPINGS


def test_pose3d_node_reads_the_params_file_and_string_overrides(launch: LaunchFile) -> None:
    call, kwargs = node_call(launch, PACKAGE)
    parameters = launch.resolve(kwargs["parameters"])
    files = [launch.launch_configuration(node) for node in ast.walk(parameters)]
    assert "params_file" in files
    assert set(launch.constants["PARAMETER_OVERRIDES"]) == PARAMETER_OVERRIDES
    # The overrides are built in the function that creates the node, as typed string values.
    function = launch.enclosing_function(call)
    assert any(isinstance(n, ast.Name) and n.id == "PARAMETER_OVERRIDES" for n in ast.walk(function))
    typed = [keywords(c).get("value_type") for c in ast.walk(function)
             if isinstance(c, ast.Call) and _callee(c) == "ParameterValue"]
    assert typed and all(isinstance(t, ast.Name) and t.id == "str" for t in typed)
    assert launch.calls("OpaqueFunction"), "the overrides depend on argument values: an OpaqueFunction builds the node"


def test_parameter_overrides_are_optional_arguments(declared: dict[str, dict[str, ast.AST]],
                                                    launch: LaunchFile) -> None:
    for name in PARAMETER_OVERRIDES:
        assert launch.value(declared[name]["default_value"]) == "", f"{name}: empty default keeps the params file"


def test_rviz_node_is_optional_and_uses_the_shipped_config(launch: LaunchFile) -> None:
    _, kwargs = node_call(launch, "rviz2")
    assert launch.value(kwargs["executable"]) == "rviz2"
    condition = kwargs["condition"]
    assert _callee(condition) == "IfCondition" and launch.launch_configuration(condition.args[0]) == "use_rviz"
    config = option_value(launch, kwargs["arguments"], "-d")
    assert {PACKAGE, "config", "pose3d.rviz"} <= launch.strings(config)
    assert launch.launch_configuration(option_value(launch, kwargs["arguments"], "-f")) == "camera_frame"


def test_rviz_topics_follow_the_namespace_and_image_topic(launch: LaunchFile, rviz: dict) -> None:
    _, kwargs = node_call(launch, "rviz2")
    assert launch.launch_configuration(kwargs["namespace"]) == "namespace"
    rules = {launch.value(source): target for source, target in remappings(launch, kwargs)}
    config_topics = {d["Topic"]["Value"] for d in rviz_displays(rviz) if "Topic" in d}
    assert set(rules) == config_topics, "every topic of config/pose3d.rviz is remapped, and only those"
    for topic in (MARKERS_TOPIC, DEBUG_IMAGE_TOPIC):
        assert launch.value(rules[topic]) == topic.lstrip("/"), f"{topic}: relative to RViz's namespace"
    assert launch.launch_configuration(rules[ARGUMENTS["image_topic"]]) == "image_topic"


def test_rviz_config_shows_markers_and_debug_image(rviz: dict) -> None:
    assert rviz["Visualization Manager"]["Global Options"]["Fixed Frame"] == ARGUMENTS["camera_frame"]
    markers = display_on(rviz, "MarkerArray", MARKERS_TOPIC)
    assert markers["Enabled"] is True and markers["Namespaces"] == {"joints": True, "bones": True}
    assert display_on(rviz, "Image", DEBUG_IMAGE_TOPIC)["Enabled"] is True
    assert display_on(rviz, "Image", ARGUMENTS["image_topic"])["Enabled"] is False
    assert any(d["Class"] == "rviz_default_plugins/Grid" for d in rviz_displays(rviz))
    topic_keys = {"Depth", "Durability Policy", "History Policy", "Reliability Policy", "Value"}
    for display in rviz_displays(rviz):
        if "Topic" in display:
            assert topic_keys <= set(display["Topic"]), display["Name"]


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


def test_ros_package_installs_the_launch_and_rviz_files() -> None:
    # setup.py installs launch/*.launch.py and config/*.rviz from the package folder's links.
    assert (ROS_PACKAGE_DIR / "launch" / LAUNCH_FILE.name).resolve() == LAUNCH_FILE.resolve()
    assert (ROS_PACKAGE_DIR / "config" / RVIZ_FILE.name).resolve() == RVIZ_FILE.resolve()


@pytest.mark.skipif(not PARAMS_FILE.is_file(), reason=f"{PARAMS_FILE.relative_to(REPO)} not written yet")
def test_overrides_are_string_parameters_of_the_params_file(launch: LaunchFile) -> None:
    params = yaml.safe_load(PARAMS_FILE.read_text())
    # Keys that apply to the launched node: every node, or this node's name.
    node_keys = [key for key in params if key in ("/**", NODE_NAME, f"/{NODE_NAME}", f"/**/{NODE_NAME}")]
    assert node_keys, f"no section of {PARAMS_FILE.name} applies to a node named {NODE_NAME!r}"
    values = {}
    for key in node_keys:
        values.update(params[key]["ros__parameters"])
    for name in launch.constants["PARAMETER_OVERRIDES"]:
        assert name in values, f"the launch file overrides {name!r}, which {PARAMS_FILE.name} does not set"
        assert isinstance(values[name], str), f"{name}: the launch file passes a string"
