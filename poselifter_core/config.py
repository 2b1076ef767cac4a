"""Configuration as dataclasses, read from and written to YAML.

Every command's settings are a dataclass tree; :func:`from_dict` builds it from a YAML mapping
and rejects unknown keys with the list of known ones, so a typo in a config file is an error,
not a silently ignored setting.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def from_dict(cls: type[T], values: dict[str, Any] | None, where: str = "") -> T:
    """Build dataclass ``cls`` from a (nested) mapping; unknown keys raise ``ValueError``."""
    values = dict(values or {})
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)} in {where or cls.__name__}; known: {sorted(known)}")
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _convert(hints[name], value, f"{where}.{name}" if where else name)
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(hint, value, where)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, where) if len(args) == 1 else value
    if origin in (list, tuple) and isinstance(value, (list, tuple)):
        args = typing.get_args(hint)
        item = args[0] if args else Any
        converted = [_convert(item, v, where) for v in value]
        return tuple(converted) if origin is tuple else converted
    if hint is float and isinstance(value, (int, float)):
        return float(value)
    return value


def to_dict(config: Any) -> dict[str, Any]:
    """Plain nested dict of a dataclass (tuples become lists), ready for YAML or a checkpoint."""
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(dataclasses.asdict(config))


def load_yaml(cls: type[T], path: str | Path) -> T:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no config file at {path}")
    try:
        with path.open(encoding="utf-8") as stream:
            values = yaml.safe_load(stream) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not readable YAML: {' '.join(str(error).split())}") from error
    if not isinstance(values, dict):
        raise ValueError(f"{path}: the top level of a config must be a mapping")
    return from_dict(cls, values, where=str(path))


def apply_overrides(config: T, overrides: list[str]) -> T:
    """Apply ``key.sub=value`` strings (YAML-parsed values) to a config dataclass."""
    values = to_dict(config)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key.sub=value")
        key, raw = item.split("=", 1)
        node = values
        parts = key.split(".")
        for part in parts[:-1]:
            if part not in node or not isinstance(node[part], dict):
                raise ValueError(f"override {item!r}: no section {part!r}")
            node = node[part]
        if parts[-1] not in node:
            raise ValueError(f"override {item!r}: no setting {parts[-1]!r}; known: {sorted(node)}")
        node[parts[-1]] = yaml.safe_load(raw)
    return from_dict(type(config), values)


def save_yaml(config: Any, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
