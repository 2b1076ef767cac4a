"""ROS 2 messages <-> core types, without ROS.

The readers take messages by their field names only (duck typing), so the same code reads rclpy
messages in the node and rosbags' deserialised dataclasses in the bag processor. The builders
create messages through a :data:`~.outputs.MessageFactory` (``make("pkg/msg/Name", **fields)``)
that the caller supplies: rclpy classes in the node, a rosbags typestore in the bag processor.
"""
