"""A PyTorch checkpoint on any backend: ``torch`` runs the checkpoint, the others its ONNX export.

The export is kept in a folder (by default next to the checkpoint), named after the checkpoint's
hash, and made or remade when needed (:func:`ensure_onnx`). The lifter and the 2D estimator use
this with their own export function.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable

import torch

from ..digest import file_sha256
from .backend import BackendError, InferenceBackend, Signature
from .export import ExportError, ExportReport
from .factory import create_backend

LOG = logging.getLogger(__name__)

#: ``export(checkpoint, out)``: writes ``out`` and reports the parity check (e.g. ``export_lifter``).
Exporter = Callable[[Path, Path], ExportReport]


def ensure_onnx(checkpoint: str | Path, export_dir: str | Path, export: Exporter) -> Path:
    """The ONNX export of ``checkpoint`` in ``export_dir``, named after the checkpoint's hash.

    A ``.sha256`` file next to it records the export's own hash; a missing, truncated or altered
    export (hash mismatch) is exported again, so a damaged file is replaced, not used.
    """
    checkpoint = Path(checkpoint)
    path = Path(export_dir) / f"{checkpoint.stem}-{file_sha256(checkpoint)[:12]}.onnx"
    digest_file = path.with_name(path.name + ".sha256")
    if path.is_file() and digest_file.is_file() and digest_file.read_text().strip() == file_sha256(path):
        return path
    if path.exists():
        LOG.warning("ONNX export %s does not match its recorded hash; exporting it again", path)
    report = export(checkpoint, path)
    LOG.info("exported %s to %s (max abs error vs PyTorch %.2e)", checkpoint, path, report.max_abs_error)
    tmp = digest_file.with_name(f".{digest_file.name}.{os.getpid()}.tmp")
    tmp.write_text(file_sha256(path) + "\n")
    tmp.replace(digest_file)
    return path


def checkpoint_backend(setting: str, checkpoint: str | Path, export: Exporter,
                       module_factory: Callable[[], torch.nn.Module], signature: Signature, model_name: str,
                       export_dir: str | Path | None = None, **backend_options: Any) -> InferenceBackend:
    """The backend for ``setting`` running ``checkpoint``; non-torch settings export it first.

    An export whose parity check fails (the ONNX disagrees with the checkpoint's weights, e.g. a
    corrupted checkpoint) is an error under every setting; an export that cannot be written is
    an error for an explicit setting, and under ``auto`` it is logged and only the torch backend
    remains. ``backend_options`` go to :func:`create_backend`.
    """
    onnx_path = None
    if setting != "torch":
        try:
            onnx_path = ensure_onnx(checkpoint, export_dir or Path(checkpoint).parent, export)
        except ExportError as error:  # the export disagrees with the weights: an error under any setting
            raise BackendError(f"{model_name}: cannot export {checkpoint} to ONNX: {error}") from error
        except OSError as error:  # e.g. a read-only folder: only the place to write is missing
            if setting != "auto":
                raise BackendError(f"{model_name}: cannot export {checkpoint} to ONNX: {error}") from error
            LOG.warning("%s: cannot export %s to ONNX (%s); only the torch backend remains", model_name, checkpoint, error)
    return create_backend(setting, onnx_path, module_factory, signature=signature, model_name=model_name,
                          **backend_options)
