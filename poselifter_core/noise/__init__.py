"""2D keypoint error model of PoseLifter (section 4.2): fitting, files and noise synthesis."""
