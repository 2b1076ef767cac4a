"""What the node counts, and its /diagnostics status.

Counters only grow; latencies keep a bounded window, so memory stays flat however long the node
runs.
"""
from __future__ import annotations

import threading
from collections import Counter, deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

LATENCY_WINDOW = 300


class NodeStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter = Counter()  # frames_processed, people_lifted, camera_info_rejected
        self.frame_skips: Counter = Counter()  # reason -> frames not processed
        self.people_skips: Counter = Counter()  # reason -> people not lifted
        self.latency_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)  # input stamp -> published
        self.compute_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)  # decode + cascade + messages
        self.last_error = ""
        self._skips_reported = 0  # frame skips already reported by status()

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def skip_frame(self, reason: str) -> None:
        with self._lock:
            self.frame_skips[reason] += 1
            self.last_error = reason

    def frame_done(self, people: int, people_skips: Counter, latency_ms: float, compute_ms: float) -> None:
        with self._lock:
            self.counts["frames_processed"] += 1
            self.counts["people_lifted"] += people
            self.people_skips.update(people_skips)
            self.latency_ms.append(latency_ms)
            self.compute_ms.append(compute_ms)

    def status(self, name: str, dropped: int, sync_stats: dict, waiting_for_camera_info: bool) -> DiagnosticStatus:
        """One DiagnosticStatus: WARN while CameraInfo is missing or when frames were skipped since
        the previous status, else OK."""
        with self._lock:
            values = {key: str(value) for key, value in sorted(self.counts.items())}
            values["frames_dropped_newest_wins"] = str(dropped)
            values.update({f"frames_skipped: {reason}": str(n) for reason, n in sorted(self.frame_skips.items())})
            values.update({f"people_skipped: {reason}": str(n) for reason, n in sorted(self.people_skips.items())})
            for label, window in (("latency_ms", self.latency_ms), ("compute_ms", self.compute_ms)):
                if window:
                    p50, p95 = np.percentile(np.asarray(window), [50, 95])
                    values[f"{label}_p50"], values[f"{label}_p95"] = f"{p50:.1f}", f"{p95:.1f}"
            for stream, stats in sorted(sync_stats.items()):
                values.update({f"sync {stream} {key}": str(v) for key, v in stats.items()})
            skipped = sum(self.frame_skips.values())
            new_skips, self._skips_reported = skipped - self._skips_reported, skipped
            last_error = self.last_error
        if waiting_for_camera_info:
            level, message = DiagnosticStatus.WARN, "waiting for a valid CameraInfo"
        elif new_skips:
            level, message = DiagnosticStatus.WARN, f"{new_skips} frames skipped; last: {last_error}"
        else:
            level, message = DiagnosticStatus.OK, "running"
        return DiagnosticStatus(level=level, name=name, message=message, hardware_id="",
                                values=[KeyValue(key=k, value=v) for k, v in values.items()])
