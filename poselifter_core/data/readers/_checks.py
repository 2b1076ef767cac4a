"""Input checks shared by the readers: files, required keys, array shapes, units, selections.

Every check raises ``FileNotFoundError`` or ``ValueError`` with a message naming the file and
the offending key, so a user with a malformed or mislaid dataset file sees what to fix.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

#: A person's root joint is never this close to the camera; smaller median depths mean metres.
MIN_PLAUSIBLE_DEPTH_MM = 100.0


def require_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    return path


def require_keys(available: Iterable[str], required: Iterable[str], where: str) -> None:
    available = set(available)
    missing = [key for key in required if key not in available]
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing}; it has {sorted(available)}")


def require_shape(array: np.ndarray, shape: tuple[int | None, ...], what: str) -> np.ndarray:
    """Check ``array.shape`` against ``shape`` where ``None`` matches any length."""
    ok = array.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, array.shape))
    if not ok:
        expected = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{what}: expected shape {expected}, got {tuple(array.shape)}")
    return array


def require_millimetres(joints_3d: np.ndarray, root: int, what: str) -> None:
    """Reject camera-frame joints whose root depths say they are in metres (or centimetres)."""
    if len(joints_3d) == 0:
        return
    depth = float(np.median(joints_3d[:, root, 2]))
    if depth < MIN_PLAUSIBLE_DEPTH_MM:
        raise ValueError(
            f"{what}: median root depth is {depth:.3g}, implausible in millimetres "
            f"(below {MIN_PLAUSIBLE_DEPTH_MM:g}); are the 3D joints in metres or behind the camera?"
        )


def select(requested: Iterable[str] | str | None, available: Iterable[str], what: str, where: str) -> list[str]:
    """The requested names in the requested order (all available ones when ``None``).

    Unknown names are an error that lists the available ones.
    """
    available = list(available)
    if requested is None:
        return available
    requested = [requested] if isinstance(requested, str) else [str(r) for r in requested]
    unknown = [r for r in requested if r not in available]
    if unknown:
        raise ValueError(f"{where}: unknown {what}(s) {unknown}; available: {available}")
    return requested


def check_every(every: int) -> int:
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be a positive integer (keep one frame in 'every'), got {every!r}")
    return int(every)
