"""PoseLifter core: framework-agnostic absolute 3D human pose from 2D keypoints (no ROS imports)."""

__version__ = "0.1.0"
