"""The rosbags typestore the bag processor reads and writes with, without a ROS install.

ROS 2 Jazzy's standard types, plus ``poselifter_msgs`` parsed from our ``.msg`` files, plus any
type a bag uses that neither has (e.g. vision_msgs), parsed from the definitions rosbag2 stores
with each connection. ``assets/poselifter_msgs`` links to the repository's top-level ``msg/`` (one copy
of the definitions) and ships as package data, so a pip install finds them too.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rosbags.interfaces import Connection, MessageDefinitionFormat
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

#: Our message definitions (``<Name>.msg``), package ``poselifter_msgs``.
MSG_DIR = Path(__file__).resolve().parent.parent / "assets" / "poselifter_msgs"
MSG_PACKAGE = "poselifter_msgs"


def poselifter_typestore() -> Typestore:
    """A fresh Jazzy typestore with the ``poselifter_msgs`` types registered."""
    files = sorted(MSG_DIR.glob("*.msg"))
    if not files:
        raise FileNotFoundError(f"no poselifter_msgs definitions (*.msg) in {MSG_DIR}")
    typestore = get_typestore(Stores.ROS2_JAZZY)
    types = {}
    for path in files:
        types.update(get_types_from_msg(path.read_text(encoding="utf-8"), f"{MSG_PACKAGE}/msg/{path.stem}"))
    typestore.register(types)
    return typestore


def register_bag_types(typestore: Typestore, connections: Iterable[Connection]) -> None:
    """Register the message types of ``connections`` that ``typestore`` lacks, from the ``.msg``
    definitions stored in the bag. Types the store has keep their definition.

    Raises ValueError naming the topic when a type is unknown and the bag holds no ``.msg``
    definition for it (bags recorded before Iron store none).
    """
    missing = {}
    for connection in connections:
        if connection.msgtype in typestore.fielddefs or connection.msgtype in missing:
            continue
        if connection.msgdef.format != MessageDefinitionFormat.MSG or not connection.msgdef.data:
            raise ValueError(f"topic {connection.topic}: type {connection.msgtype} is not a ROS 2 Jazzy or "
                             f"{MSG_PACKAGE} type and the bag stores no .msg definition for it")
        defined = get_types_from_msg(connection.msgdef.data, connection.msgtype)
        missing.update({name: fields for name, fields in defined.items() if name not in typestore.fielddefs})
    typestore.register(missing)
