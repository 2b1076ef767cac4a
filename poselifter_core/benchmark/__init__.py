"""Speed measurements, run by ``poselifter benchmark``: the lifter in PyTorch eager and the whole
cascade (:mod:`.lifter`), the lifter per inference backend (:mod:`.backends`), the 2D stage
(:mod:`.pose2d_latency`, ``poselifter benchmark pose2d``) and the error-model fit
(:mod:`.error_model_fit`, ``poselifter benchmark error-model-fit``). Long-running: commands, not tests."""
