"""Inference backends: one interface over PyTorch eager, ONNX Runtime (CPU/CUDA) and TensorRT.

Every model of the cascade (2D estimator, lifter) is exported to ONNX with a dynamic batch axis
(:mod:`.onnx_export`) and run through an :class:`~.backend.InferenceBackend` made by
:func:`~.backend.create_backend` from a ``backend`` setting (``auto``, ``tensorrt``,
``onnxruntime``, ``onnxruntime-cuda``, ``onnxruntime-cpu``, ``torch``); inputs are cast to the
element types each model declares (uint8 images for MoveNet, float32 elsewhere).
:class:`.LifterRuntime` is the lifter on any backend, with the same ``lift`` as the PyTorch
``TorchLifter``; the 2D models (``pose2d``) take the same setting. :mod:`.checkpoint_backend` runs a
checkpoint on any backend through an ONNX export kept beside it; :mod:`.pose2d_export` exports the
paper's 2D estimator.
"""
from .backend import BACKEND_SETTINGS, BackendError, InferenceBackend, Signature, create_backend

__all__ = ["BACKEND_SETTINGS", "BackendError", "InferenceBackend", "Signature", "create_backend"]
