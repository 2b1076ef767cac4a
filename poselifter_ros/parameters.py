"""ROS parameters generated from :class:`~.node_config.NodeConfig`: declared with their
description, range and read-only flag, read back into a NodeConfig, and validated when set.

rclpy itself refuses a read-only parameter, a value outside a declared range and a value of
another type; :class:`ParameterGuard` adds the string choices and the config's own checks
(building the NodeConfig with the new values), so a refused change never reaches the node.
"""
from __future__ import annotations

from typing import Any, Callable

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter

from poselifter_core.config import from_dict
from poselifter_core.settings import SettingSpec, nested

from .node_config import NodeConfig, parameter_specs, ros_value


def descriptor(spec: SettingSpec) -> ParameterDescriptor:
    description = f"[{'live' if spec.live else 'read-only'}] {spec.description}"
    if spec.choices:
        description += f" (one of: {', '.join(spec.choices)})"
    result = ParameterDescriptor(description=description, read_only=not spec.live)
    if spec.low is not None and isinstance(spec.default, int) and not isinstance(spec.default, bool):
        result.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high),
                                                    step=spec.step or 1)]
    elif spec.low is not None:
        result.floating_point_range = [FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high),
                                                          step=0.0)]
    return result


def declare(node: Node) -> None:
    """Declare every node parameter (values from the params file / command line, else the default)."""
    for spec in parameter_specs():
        node.declare_parameter(spec.name, ros_value(spec.default), descriptor(spec))


def read_config(node: Node, changes: dict[str, Any] | None = None) -> NodeConfig:
    """The NodeConfig of the node's current parameter values, with ``changes`` on top; ValueError
    when a value is outside its choices or the config rejects it."""
    values = {spec.name: node.get_parameter(spec.name).value for spec in parameter_specs()}
    values.update(changes or {})
    for spec in parameter_specs():
        spec.check(values[spec.name])
    return from_dict(NodeConfig, nested(values))


class ParameterGuard:
    """Validates every parameter change before rclpy accepts it; ``apply(config)`` is then called
    with the new NodeConfig after it is set."""

    def __init__(self, node: Node, apply: Callable[[NodeConfig], None]) -> None:
        self._node = node
        self._names = {spec.name for spec in parameter_specs()}
        self._apply = apply
        node.add_on_set_parameters_callback(self._validate)
        node.add_post_set_parameters_callback(self._applied)

    def _changes(self, parameters: list[Parameter]) -> dict[str, Any]:
        return {p.name: p.value for p in parameters if p.name in self._names}

    def _validate(self, parameters: list[Parameter]) -> SetParametersResult:
        try:
            read_config(self._node, self._changes(parameters))
        except (ValueError, TypeError) as error:
            return SetParametersResult(successful=False, reason=str(error))
        return SetParametersResult(successful=True)

    def _applied(self, parameters: list[Parameter]) -> None:
        if self._changes(parameters):
            self._apply(read_config(self._node))
