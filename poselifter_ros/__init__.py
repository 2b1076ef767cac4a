"""ROS 2 adapter of poselifter_core: the ``pose3d_node`` (rclpy) and its message plumbing."""
