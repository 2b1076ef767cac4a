"""A :data:`~.rosmsg.outputs.MessageFactory` over a rosbags typestore.

rosbags' message classes are dataclasses that need every field, and numeric arrays as numpy
arrays. The builders in :mod:`.rosmsg.outputs` give only the fields they mean (rclpy fills the
rest), so this factory fills the others with the ROS defaults (0, "", False, empty sequences,
zero-filled fixed arrays, nested messages of defaults) and converts lists of numbers to arrays.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from rosbags.interfaces import Nodetype
from rosbags.typesys.base import normalize_fieldname
from rosbags.typesys.store import Typestore

from .outputs import MessageFactory

#: numpy dtypes of the ROS base types whose name is not a numpy type name (as rosbags reads them).
_DTYPES = {"bool": np.bool_, "char": np.uint8}


def _dtype(base: str) -> np.dtype:
    return np.dtype(_DTYPES.get(base, base))


def message_factory(typestore: Typestore) -> MessageFactory:
    """``make("pkg/msg/Name", **fields)`` building ``typestore``'s classes (unknown fields raise)."""

    def default(desc: tuple) -> Any:
        kind, detail = desc
        if kind == Nodetype.NAME:
            return make(detail)
        if kind == Nodetype.BASE:
            base = detail[0]
            return "" if base in ("string", "wstring") else _dtype(base).type(0).item()
        (item_kind, item), length = detail
        if item_kind == Nodetype.BASE and item[0] not in ("string", "wstring"):
            return np.zeros(length if kind == Nodetype.ARRAY else 0, dtype=_dtype(item[0]))
        return [default((item_kind, item)) for _ in range(length if kind == Nodetype.ARRAY else 0)]

    def convert(desc: tuple, value: Any) -> Any:
        kind, detail = desc
        if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE):
            (item_kind, item), _ = detail
            if item_kind == Nodetype.BASE and item[0] not in ("string", "wstring"):
                if isinstance(value, (bytes, bytearray, memoryview)):
                    return np.frombuffer(value, dtype=_dtype(item[0]))
                return np.asarray(value, dtype=_dtype(item[0]))
        return value

    def make(type_name: str, **fields: Any) -> Any:
        described = {normalize_fieldname(name): desc for name, desc in typestore.fielddefs[type_name][1]}
        unknown = set(fields) - set(described)
        if unknown:
            raise TypeError(f"{type_name} has no field(s) {sorted(unknown)}; fields: {list(described)}")
        values = {name: convert(desc, fields[name]) if name in fields else default(desc)
                  for name, desc in described.items()}
        return typestore.types[type_name](**values)

    return make
