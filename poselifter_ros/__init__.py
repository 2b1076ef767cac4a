"""ROS 2 adapters (rclpy nodes) over ``poselifter_core``; see issue "ROS 2 package" for the plan.

Nothing here is imported by the core. The nodes, message conversions and markers are added with
the ROS 2 package work; until then this package only reserves the name and layout.
"""
