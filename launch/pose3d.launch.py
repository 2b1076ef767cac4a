"""Launch pose3d_node, and RViz on request: absolute 3D human pose from one RGB camera.

    ros2 launch poselifter_ros pose3d.launch.py \\
        image_topic:=/camera/color/image_raw camera_info_topic:=/camera/color/camera_info use_rviz:=true

The node is named ``pose3d`` and runs in ``namespace`` (empty by default), so it publishes
``/pose3d/skeletons``, ``/pose3d/markers``, ``/pose3d/detections`` and ``/pose3d/debug_image``
(``/<namespace>/pose3d/...`` when a namespace is given). Its inputs are remapped onto the
``*_topic`` arguments. Parameters come from ``params_file``; the arguments of
:data:`PARAMETER_OVERRIDES` override that file only when given a non-empty value. With
``use_rviz:=true`` the launch stops before starting anything when rviz2 is not installed.
``ros2 launch poselifter_ros pose3d.launch.py --show-args`` lists every argument.
"""
from ament_index_python.packages import PackageNotFoundError, get_package_prefix
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from poselifter_core.rosmsg.frames import MODES
from poselifter_core.runtime.factory import BACKEND_SETTINGS

PACKAGE = "poselifter_ros"
NODE_NAME = "pose3d"
# Launch argument -> the node parameter it overrides when non-empty, and that parameter's type.
PARAMETER_OVERRIDES = {
    "mode": ("frame.mode", str),
    "backend": ("backend", str),
    "lifter_model": ("lifter", str),
    "pose2d_model": ("pose2d", str),
    "debug_image": ("output.debug_image", bool),
    "autostart": ("autostart", bool),
    "floor_frame": ("floor_frame", str),
}
# "" keeps the params file's value.
BOOLEAN_CHOICES = ("", "true", "false")


def _launch_arguments() -> list[DeclareLaunchArgument]:
    return [
        DeclareLaunchArgument(
            "namespace", default_value="",
            description="Namespace of the node (and of RViz); outputs are /<namespace>/pose3d/..."),
        DeclareLaunchArgument(
            "image_topic", default_value="/camera/image_raw",
            description="Camera images (sensor_msgs/Image); with the parameter input.compressed the node reads "
                        "sensor_msgs/CompressedImage on <image_topic>/compressed (image_transport naming)"),
        DeclareLaunchArgument(
            "camera_info_topic", default_value="/camera/camera_info",
            description="sensor_msgs/CameraInfo of the camera (intrinsics for metric depth, lens distortion)"),
        DeclareLaunchArgument(
            "detections_topic", default_value="/detections",
            description="vision_msgs/Detection2DArray of people, read in mode top_down"),
        DeclareLaunchArgument(
            "keypoints_topic", default_value="/keypoints_2d",
            description="poselifter_msgs/Keypoints2DArray from your own 2D detector, read in mode keypoints"),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare(PACKAGE), "config", "pose3d.yaml"]),
            description="Node parameters (YAML); default: the installed config/pose3d.yaml"),
        DeclareLaunchArgument(
            "mode", default_value="", choices=["", *MODES],
            description="Input mode: people from the image, from detections, or from your 2D keypoints; "
                        "empty: the params file's value"),
        DeclareLaunchArgument(
            "backend", default_value="", choices=["", *BACKEND_SETTINGS],
            description="Inference backend of every model; empty: the params file's value"),
        DeclareLaunchArgument(
            "lifter_model", default_value="",
            description="Lifter checkpoint (.pt) or ONNX file; empty: the params file's value"),
        DeclareLaunchArgument(
            "pose2d_model", default_value="",
            description="2D model: MoveNet .onnx, exported top-down .onnx, train-2d checkpoint or keypoint-model "
                        ".yaml; empty: the params file's value"),
        DeclareLaunchArgument(
            "debug_image", default_value="", choices=list(BOOLEAN_CHOICES),
            description="Publish ~/debug_image (the 2D skeletons on the image, shown by RViz); empty: the params "
                        "file's output.debug_image"),
        DeclareLaunchArgument(
            "autostart", default_value="", choices=list(BOOLEAN_CHOICES),
            description="true: the node configures and activates itself; false: it waits in the lifecycle state "
                        "unconfigured for `ros2 lifecycle set` or a lifecycle manager; empty: the params file's value"),
        DeclareLaunchArgument(
            "floor_frame", default_value="",
            description="TF frame of the floor (z up, on the floor: base_footprint): the camera's mount (height, "
                        "pitch, roll) comes from TF per image and overrides cascade.floor's; empty: the params file's "
                        "value"),
        DeclareLaunchArgument(
            "use_rviz", default_value="false",
            description="Also start RViz with config/pose3d.rviz (markers, TF and debug image); the launch stops "
                        "before starting anything if rviz2 is not installed"),
        DeclareLaunchArgument(
            "fixed_frame", default_value="camera_color_optical_frame",
            description="RViz fixed frame: your images' header.frame_id (the default is the color optical frame of "
                        "realsense2_camera and orbbec_camera), or any frame TF connects to it"),
        DeclareLaunchArgument(
            "log_level", default_value="info",
            description="Log level of the node: debug | info | warn | error | fatal"),
    ]


def _check_rviz(context) -> list:
    """Stop the launch, before any process starts, when RViz is asked for but not installed."""
    if LaunchConfiguration("use_rviz").perform(context).lower() in ("true", "1", "yes"):
        try:
            get_package_prefix("rviz2")
        except PackageNotFoundError as error:
            raise RuntimeError("use_rviz:=true but rviz2 is not installed (apt install ros-$ROS_DISTRO-rviz2), "
                               "or run without use_rviz") from error
    return []


def _pose3d_node(context) -> list[Node]:
    """The node, with the params file plus the overrides whose launch argument is non-empty.

    Runs as an OpaqueFunction because which overrides exist depends on the argument values; each
    is passed with its parameter's type (a string even when it looks like a number).
    """
    overrides = {}
    for argument, (parameter, value_type) in PARAMETER_OVERRIDES.items():
        value = LaunchConfiguration(argument).perform(context)
        if value:
            overrides[parameter] = ParameterValue(value, value_type=value_type)
    parameters = [LaunchConfiguration("params_file")] + ([overrides] if overrides else [])
    return [Node(
        package=PACKAGE,
        executable="pose3d_node",
        name=NODE_NAME,
        namespace=LaunchConfiguration("namespace"),
        parameters=parameters,
        remappings=[
            ("image", LaunchConfiguration("image_topic")),
            ("camera_info", LaunchConfiguration("camera_info_topic")),
            ("detections", LaunchConfiguration("detections_topic")),
            ("keypoints", LaunchConfiguration("keypoints_topic")),
        ],
        arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level")],
        output="screen",
    )]


def _rviz_node() -> Node:
    """RViz on config/pose3d.rviz, whose topics name the default layout (/pose3d/..., /camera/image_raw).

    RViz runs in the node's namespace and remaps those topics, so the displays follow the
    ``namespace`` and ``image_topic`` arguments.
    """
    return Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        namespace=LaunchConfiguration("namespace"),
        arguments=[
            "-d", PathJoinSubstitution([FindPackageShare(PACKAGE), "config", "pose3d.rviz"]),
            "-f", LaunchConfiguration("fixed_frame"),
        ],
        remappings=[
            (f"/{NODE_NAME}/markers", f"{NODE_NAME}/markers"),
            (f"/{NODE_NAME}/debug_image", f"{NODE_NAME}/debug_image"),
            ("/camera/image_raw", LaunchConfiguration("image_topic")),
        ],
        condition=IfCondition(LaunchConfiguration("use_rviz")),
        output="screen",
    )


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*_launch_arguments(), OpaqueFunction(function=_check_rviz),
                              OpaqueFunction(function=_pose3d_node), _rviz_node()])
