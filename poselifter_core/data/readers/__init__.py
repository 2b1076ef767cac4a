"""Readers for the dataset layouts users bring; each returns an H36M17 :class:`PoseSet`.

:func:`read_dataset` dispatches on ``kind``; a YAML data spec such as
``{kind: h36m_h5, path: data/h36m17.h5, subjects: [S9, S11], every: 50}`` maps onto
``read_dataset(**spec)``.

============== ========================================================================================
kind           options (required first)
============== ========================================================================================
h36m_h5        ``path``: PoseLifter's ``h36m17.h5``; ``subjects`` (default all); ``every`` (1; 50 = the
               official code's ``idx % 50 == 1``)
videopose3d    ``positions_3d``: ``data_3d_h36m.npz``; ``positions_2d``: ``data_2d_h36m_<name>.npz``;
               ``cameras``: camera JSON (see :mod:`.h36m_camera`); ``subjects``; ``every`` (1);
               ``undistort`` (true)
mpi_inf_3dhp   ``root``: directory holding ``TS1`` .. ``TS6``; ``intrinsics``: YAML/JSON file or mapping
               (see :mod:`.mpi_inf_3dhp`); ``sequences`` (default all); ``valid_only`` (true);
               ``universal`` (true: ``univ_annot3``, false: ``annot3``)
npz            ``path``: the plain format of :meth:`PoseSet.save`
============== ========================================================================================

Human3.6M subject lists of the paper's protocols: :func:`.protocols.protocol_subjects`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..pose_set import PoseSet
from .h36m_h5 import read_h36m_h5
from .mpi_inf_3dhp import read_mpi_inf_3dhp_test
from .protocols import PROTOCOLS, protocol_subjects
from .videopose3d import read_videopose3d


def _read_npz(path: str) -> PoseSet:
    return PoseSet.load(path)


def _read_videopose3d(positions_3d: str, positions_2d: str, cameras: str, **options: Any) -> PoseSet:
    return read_videopose3d(positions_3d, positions_2d, cameras, **options)


def _read_mpi_inf_3dhp(root: str, intrinsics: Any, **options: Any) -> PoseSet:
    return read_mpi_inf_3dhp_test(root, intrinsics, **options)


@dataclass(frozen=True)
class Reader:
    read: Callable[..., PoseSet]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


#: kind -> reader and its option names (the YAML keys).
READERS: dict[str, Reader] = {
    "h36m_h5": Reader(read_h36m_h5, ("path",), ("subjects", "every")),
    "videopose3d": Reader(
        _read_videopose3d, ("positions_3d", "positions_2d", "cameras"), ("subjects", "every", "undistort")
    ),
    "mpi_inf_3dhp": Reader(_read_mpi_inf_3dhp, ("root", "intrinsics"), ("sequences", "valid_only", "universal")),
    "npz": Reader(_read_npz, ("path",)),
}


def read_dataset(kind: str, **options: Any) -> PoseSet:
    """Read one dataset; ``kind`` and ``options`` as in the module's table.

    Unknown kinds, unknown options and missing required options raise ``ValueError``.
    """
    if kind not in READERS:
        raise ValueError(f"unknown dataset kind {kind!r}; known: {sorted(READERS)}")
    reader = READERS[kind]
    known = reader.required + reader.optional
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"dataset kind {kind!r}: unknown option(s) {unknown}; known: {list(known)}")
    missing = [name for name in reader.required if name not in options]
    if missing:
        raise ValueError(f"dataset kind {kind!r}: missing required option(s) {missing}")
    return reader.read(**options)


__all__ = [
    "PROTOCOLS",
    "READERS",
    "Reader",
    "protocol_subjects",
    "read_dataset",
    "read_h36m_h5",
    "read_mpi_inf_3dhp_test",
    "read_videopose3d",
]
