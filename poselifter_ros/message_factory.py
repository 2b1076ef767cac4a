"""The rclpy :data:`~poselifter_core.rosmsg.outputs.MessageFactory`: ``make("pkg/msg/Name", **fields)``."""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def message_class(type_name: str) -> type:
    """The generated Python class of ``pkg/msg/Name``."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


def make(type_name: str, **fields: Any) -> Any:
    return message_class(type_name)(**fields)
