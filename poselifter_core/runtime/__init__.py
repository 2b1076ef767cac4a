"""Inference backends, model-agnostic: one interface over PyTorch eager, ONNX Runtime (CPU/CUDA) and TensorRT.

A model exported to ONNX with a dynamic batch axis (:mod:`.export`) runs through an
:class:`~.backend.InferenceBackend` made by :func:`~.factory.create_backend` from a ``backend``
setting (``auto``, ``tensorrt``, ``onnxruntime``, ``onnxruntime-cuda``, ``onnxruntime-cpu``,
``torch``); inputs are cast to the element types each model declares (uint8 images for MoveNet,
float32 elsewhere). :mod:`.checkpoint_backend` runs a checkpoint on any backend through an ONNX
export kept beside it. This package knows no model: the lifter on a backend is
:class:`poselifter_core.lifter.runtime.LifterRuntime`, the 2D models take the same setting in
:mod:`poselifter_core.pose2d`.
"""
from .backend import BackendError, InferenceBackend, Signature
from .factory import BACKEND_SETTINGS, create_backend

__all__ = ["BACKEND_SETTINGS", "BackendError", "InferenceBackend", "Signature", "create_backend"]
