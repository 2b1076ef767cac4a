"""PyTorch eager backend: the reference every other backend is compared with."""
from __future__ import annotations

import numpy as np
import torch

from .backend import BackendError, InferenceBackend, Signature


class TorchBackend(InferenceBackend):
    """Calls ``module(*inputs)`` in ``signature.input_names`` order, in eval mode without autograd.

    Inputs arrive as ``signature.input_dtypes`` says (the caller's declaration, or the ONNX
    file's when the signature was read from it); outputs are returned in the module's types.
    """

    def __init__(self, module: torch.nn.Module, signature: Signature, device: str | torch.device = "cpu") -> None:
        super().__init__(signature)
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise BackendError("torch device 'cuda' requested but CUDA is not available")
        self.module = module.to(self.device).eval()
        self.name = f"torch-{self.device.type}"

    @torch.inference_mode()
    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        tensors = [torch.from_numpy(inputs[n]).to(self.device) for n in self.input_names]
        outputs = self.module(*tensors)
        outputs = (outputs,) if isinstance(outputs, torch.Tensor) else tuple(outputs)
        if len(outputs) != len(self.output_names):
            raise BackendError(f"the module returned {len(outputs)} outputs, the signature names {len(self.output_names)}")
        return {n: o.cpu().numpy() for n, o in zip(self.output_names, outputs)}
