"""Described settings: a config dataclass field that carries its description, range, choices and
whether it may change while running, so a front end (the ROS node's parameters, a params file)
is generated from the dataclass instead of restating it.

    min_joint_score: float = setting(0.3, "A joint is valid when its 2D score reaches this", low=0.0, high=1.0)

:func:`setting_specs` walks a dataclass tree and names nested settings with dots
(``cascade.min_joint_score``), as :func:`~.config.apply_overrides` and ROS 2 parameters do.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SettingSpec:
    """One setting of a dataclass tree: dotted name, default value and its description."""

    name: str
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    live: bool = True  # may change while running (False: read at start-up only)
    step: int | None = None  # integers: the value is low plus a multiple of this

    def check(self, value: Any) -> None:
        """Raise ValueError when ``value`` is outside the choices or the range, or off its ``step``."""
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {list(self.choices)}, got {value!r}")
        if self.low is not None and not self.low <= value <= self.high:
            raise ValueError(f"{self.name} must be in [{self.low}, {self.high}], got {value!r}")
        if self.step is not None and (value - self.low) % self.step:
            steps = f"a multiple of {self.step}" if self.low % self.step == 0 else f"{self.low:g} plus a multiple of {self.step}"
            raise ValueError(f"{self.name} must be {steps}, got {value!r}")


def setting(default: Any, description: str, *, low: float | None = None, high: float | None = None,
            choices: tuple[str, ...] = (), live: bool = True, step: int | None = None) -> Any:
    """A dataclass field with its description, inclusive range ``[low, high]`` (numbers),
    ``choices`` (strings), ``live`` (may change while running) and ``step`` (integers in a range:
    ``low`` plus a multiple of it, as a ROS ``IntegerRange``'s step)."""
    if (low is None) != (high is None):
        raise ValueError("give both low and high, or neither")
    if step is not None and (low is None or not isinstance(default, int) or step < 1 or (high - low) % step):
        raise ValueError("a step needs an integer setting with a range [low, high] that is a whole number of steps")
    metadata = {"description": description, "low": low, "high": high, "choices": tuple(choices), "live": live,
                "step": step}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def setting_specs(config: Any, prefix: str = "") -> list[SettingSpec]:
    """Every leaf setting of a dataclass (class or instance; an instance gives its values as the
    defaults), nested dataclasses flattened to dotted names, in declaration order. A field
    without :func:`setting` metadata gets an empty description and counts as read-only."""
    instance = config() if isinstance(config, type) else config
    specs = []
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            specs.extend(setting_specs(value, f"{name}."))
            continue
        meta = f.metadata
        specs.append(SettingSpec(name, value, meta.get("description", ""), meta.get("low"), meta.get("high"),
                                 tuple(meta.get("choices", ())), bool(meta.get("live", False)), meta.get("step")))
    return specs


def _kind_error(declared: Any, value: Any) -> str | None:
    """What ``value`` must be when it is not of the type of the ``declared`` default (the ROS
    parameter's type: an integer, a number, true or false, a string, a list), else None. A None
    default declares no type."""
    if isinstance(declared, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(declared, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if isinstance(declared, float):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
    if isinstance(declared, str):
        return None if isinstance(value, str) else "a string"
    if isinstance(declared, (list, tuple)):
        return None if isinstance(value, (list, tuple)) else "a list"
    return None


def _declared_defaults(cls: type, prefix: str) -> dict[str, Any]:
    """Dotted setting name -> the field's default, read from the dataclass ``cls`` without making one
    (a nested dataclass's fields from its default instance)."""
    declared: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if dataclasses.is_dataclass(default):
            declared.update(_declared_defaults(type(default), f"{prefix}{f.name}."))
        else:
            declared[f"{prefix}{f.name}"] = default
    return declared


class SettingError(ValueError):
    """A setting's value refused by :func:`check_settings`; ``name`` is the dotted setting."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def check_settings(config: Any, prefix: str = "") -> None:
    """:class:`SettingError` naming the first setting of the dataclass instance ``config`` (dotted, after
    ``prefix``) that is not of its declared default's type (a YAML or ``--set`` value is not
    type-checked when read: ``max_second_looks=1.5``, ``abc``, ``null``) or is outside its range
    or choices: the node refuses such a parameter, and ``infer`` and ``bag`` refuse it with this
    before any model loads. The declared types come from the fields' defaults, so a config may
    check itself in its ``__post_init__``."""
    declared = _declared_defaults(type(config), prefix)
    for spec in setting_specs(config, prefix):
        if spec.name in declared and (kind := _kind_error(declared[spec.name], spec.default)):
            raise SettingError(spec.name, f"{spec.name} must be {kind}, got {spec.default!r}")
        try:
            spec.check(spec.default)
        except ValueError as error:
            raise SettingError(spec.name, str(error)) from None


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}`` (for :func:`~.config.from_dict`)."""
    tree: dict[str, Any] = {}
    for name, value in flat.items():
        *sections, leaf = name.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    return tree
