"""How a command's results were made, recorded beside them: ``infer``'s ``run.json`` and the
``run`` of ``bag --summary-json``.

A record holds the package version, the command line, the settings in force (each a plain dict
of its config dataclass, :func:`~..config.to_dict`, as the bag's metadata records its config)
and, for the lifter and the 2D model, the file named or shipped with its SHA-256 and what ran it:
the backend the ``backend`` setting chose, the file that backend runs when it is another (the
lifter checkpoint's ONNX export, its int8 variant on ONNX Runtime's CPU, the ONNX file a 2D model
YAML names) and why the backends before it were skipped: the loaded cascade's
:class:`~..runtime.backend.BackendChoice`, so the record is made after the models load.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import __version__
from ..cascade import Pose3DEstimator
from ..digest import file_sha256
from ..infer import lifter_file, pose2d_file


def file_record(path: Path) -> dict[str, str]:
    """A file's path (absolute) and SHA-256."""
    return {"path": str(path.resolve()), "sha256": file_sha256(path)}


def model_record(path: Path, model: object) -> dict[str, Any]:
    """The model file ``path`` (named or shipped) and what ran it: the backend ``model`` (a lifter
    runtime or 2D estimator) runs on, the file it runs (``runs``; null when it is ``path`` itself,
    or PyTorch runs the module made from it) and the backends ``skipped`` before it."""
    # a Pose2DEstimator need not run on a backend (e.g. one made in memory): then nothing to say
    choice = getattr(getattr(model, "backend", None), "choice", None)
    runs = choice.file if choice is not None else None
    return {**file_record(path), "backend": None if choice is None else choice.backend,
            "runs": None if runs is None or runs.resolve() == path.resolve() else file_record(runs),
            "skipped": [] if choice is None else list(choice.skipped)}


def run_record(args: argparse.Namespace, config: dict[str, Any], cascade: Pose3DEstimator, lifter: str | None,
               pose2d: str | None) -> dict[str, Any]:
    """The record of a run of the command ``args`` came from (``args.command_line``, set by
    :func:`~.main`), with ``config`` (the settings, already plain data) and ``cascade``, loaded
    from ``lifter`` and ``pose2d`` (None: the shipped ones; no 2D model when it lifts only)."""
    return {
        "poselifter_version": __version__,
        "command": args.command_line,
        "config": config,
        "models": {"lifter": model_record(lifter_file(lifter), cascade.lifter),
                   "pose2d": None if cascade.estimator is None else model_record(pose2d_file(pose2d),
                                                                                 cascade.estimator)},
    }
