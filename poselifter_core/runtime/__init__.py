"""Inference backends: one interface over PyTorch eager, ONNX Runtime (CPU/CUDA) and TensorRT.

Every model of the cascade (2D estimator, lifter) is exported to ONNX with a dynamic batch axis
(:mod:`.onnx_export`) and run through an :class:`~.backend.InferenceBackend` made by
:func:`~.backend.create_backend` from a ``backend`` setting (``auto``, ``tensorrt``,
``onnxruntime``, ``onnxruntime-cuda``, ``onnxruntime-cpu``, ``torch``). :class:`.LifterRuntime`
is the lifter on any backend, with the same ``lift`` as the PyTorch ``TorchLifter``.
"""
from .backend import BACKEND_SETTINGS, BackendError, InferenceBackend, Signature, create_backend

__all__ = ["BACKEND_SETTINGS", "BackendError", "InferenceBackend", "Signature", "create_backend"]
