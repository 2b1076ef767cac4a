"""Reading the node's /diagnostics in the node tests."""
from __future__ import annotations

from poselifter_ros.probe import Probe


def counted(probe: Probe, key: str) -> int:
    """The largest value of a /diagnostics counter ``probe`` received so far (0 before any)."""
    values = [{v.key: v.value for v in s.values} for m in probe.messages("/diagnostics") for s in m.status]
    return max((int(v.get(key, 0)) for v in values), default=0)
