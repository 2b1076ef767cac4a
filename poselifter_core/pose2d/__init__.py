"""The cascade's 2D stage: people's keypoints in an RGB image.

* :mod:`.base`: the interface (:class:`Pose2DEstimator`, :class:`Person2D`, input checks)
* :mod:`.movenet`: Google MoveNet MultiPose (shipped), bottom-up or on person crops
* :mod:`.integral_resnet`: the paper's ResNet + integral-regression network (train with
  ``poselifter train-2d``; :mod:`.keypoint_data` and :mod:`.training` hold the data and loop)
* :mod:`.integral_estimator`: that network as a top-down estimator on any inference backend
* :mod:`.onnx_keypoints`: any top-down ONNX keypoint model described by a YAML file
* :mod:`.layout`: COCO-17 -> Human3.6M-17 with scores and validity flags
* :mod:`.transforms`: letterbox / box-crop warps with exact inverses

Every model runs through :func:`poselifter_core.runtime.create_backend`, chosen by the same
``backend`` setting as the lifter. Only the torch-free names are re-exported here, so importing
the package stays light.
"""
from .base import Person2D, Pose2DEstimator, check_boxes, check_image
from .layout import LayoutConversion, coco17_to_h36m17, to_h36m17
from .movenet import MoveNet
from .transforms import CropTransform

__all__ = [
    "CropTransform", "LayoutConversion", "MoveNet", "Person2D", "Pose2DEstimator",
    "check_boxes", "check_image", "coco17_to_h36m17", "to_h36m17",
]
