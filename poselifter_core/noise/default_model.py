"""Builds the default error model shipped as ``assets/error_model_default.yaml``.

No labelled images exist in this project to fit a model, so the default is assembled from
published numbers and stated assumptions (repeated in the file's ``notes`` and in
docs/error_model.md). Regenerate the asset with
``poselifter fit-error-model --assumed-default -o poselifter_core/assets/error_model_default.yaml``.
"""
from __future__ import annotations

import numpy as np

from ..skeleton import H36M17
from .error_model import DEFAULT_WINDOW, ErrorModel

#: Per-joint inlier weights for the H36M-17 order, fitted on Human3.6M detections: MotionBERT,
#: params/synthetic_noise.pth (Apache-2.0), as quoted in issue 3.
MOTIONBERT_GAMMA = (
    0.9987, 0.9670, 0.8896, 0.8938, 0.9746, 0.8767, 0.8210, 0.9578, 0.9183,
    0.9679, 0.9841, 0.8910, 0.8016, 0.7028, 0.8809, 0.8246, 0.7287,
)

#: Assumed inlier std per joint (both axes), person_scale units: a few percent of sigma,
#: larger at the extremities where detectors err most.
ASSUMED_STD = {
    "Hip": 0.04, "RHip": 0.05, "RKnee": 0.05, "RFoot": 0.07, "LHip": 0.05, "LKnee": 0.05,
    "LFoot": 0.07, "Spine": 0.04, "Thorax": 0.03, "Neck/Nose": 0.035, "Head": 0.04,
    "LShoulder": 0.04, "LElbow": 0.055, "LWrist": 0.07, "RShoulder": 0.04, "RElbow": 0.055,
    "RWrist": 0.07,
}

NOTES = f"""\
Default model, NOT fitted to data (no labelled images are available to this project).
Assumptions:
- gamma (inlier weight): MotionBERT params/synthetic_noise.pth (Apache-2.0), fitted on
  Human3.6M detections, H36M-17 order.
- inlier std: assumed, identical for x and y: 0.03-0.04 sigma on the torso, shoulders and head,
  0.05-0.055 at hips, knees and elbows, 0.07 at wrists and ankles. With sigma about 0.3 x the
  person's height this is 1.8-4.2 px per axis for a 200 px tall person (typical errors of good
  heatmap detectors on Human3.6M). MotionBERT's stds are not used: their unit's person scale is
  not stated.
- inlier mean: zero (no systematic offset assumed).
- window half-width: {DEFAULT_WINDOW} sigma, the paper's +-50 px in 256 px crops (crop side = 1.25 x
  the 2D joint extent, sigma = 0.305 x that extent).
- gaussian (baseline): the moment-matched single Gaussian of this mixture (what a maximum-
  likelihood fit would return on unlimited data drawn from it).
- nll and num_samples: absent, there is no data.
"""


def build_default_model() -> ErrorModel:
    gamma = np.array(MOTIONBERT_GAMMA)
    std = np.repeat(np.array([ASSUMED_STD[name] for name in H36M17.joint_names])[:, None], 2, axis=1)
    mean = np.zeros_like(std)
    outlier_var = DEFAULT_WINDOW**2 / 3.0  # variance of U(-W, W), the outliers' marginal per axis
    gaussian_mean = gamma[:, None] * mean  # the outliers' mean is zero
    second_moment = gamma[:, None] * (std**2 + mean**2) + (1.0 - gamma[:, None]) * outlier_var
    return ErrorModel(
        skeleton=H36M17.name,
        mean=mean,
        std=std,
        gamma=gamma,
        window=DEFAULT_WINDOW,
        gaussian_mean=gaussian_mean,
        gaussian_std=np.sqrt(second_moment - gaussian_mean**2),
        fit=("assumed",) * H36M17.num_joints,
        notes=NOTES,
    )

