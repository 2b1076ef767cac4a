"""What the node counts, and its /diagnostics status.

Counters only grow; latencies keep a bounded window, so memory stays flat however long the node
runs. The processed-frame rate is measured between two statuses and, with an expected rate,
checked as diagnostic_updater's FrequencyStatus does (WARN below ``expected * (1 - tolerance)``).
"""
from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

LATENCY_WINDOW = 300


@dataclass(frozen=True)
class StatusContext:
    """What the node knows about its state when it reports."""

    name: str  # "<node FQN>: pose3d pipeline": unique per node, so namespaced nodes do not collide
    hardware_id: str  # the camera's frame id (header.frame_id of its images or CameraInfo)
    dropped: int  # frames replaced before processing (newest frame wins)
    sync_stats: dict
    waiting_for_camera_info: bool
    expected_rate: float = 0.0  # Hz; 0: no frequency check
    rate_tolerance: float = 0.1
    inactive: bool = False  # lifecycle: not processing
    sync_problem: str = ""  # the synchronizer's trouble since the previous status (SyncMonitor.check)
    floor_problem: str = ""  # with floor_frame: why the last lookup failed ("tf2_ros is not installed", ...)


class NodeStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter = Counter()  # frames_processed, people_lifted, camera_info_rejected
        self.frame_skips: Counter = Counter()  # reason -> frames not processed
        self.people_skips: Counter = Counter()  # reason -> people not lifted
        self.latency_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)  # input stamp -> published
        self.compute_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)  # decode + cascade + messages
        self.publish_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)  # building and publishing the outputs
        self.publish_cpu_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)  # the same in thread CPU time
        self.last_error = ""
        self._skips_reported = 0  # frame skips already reported by status()
        self._floor_missed_reported = 0  # frames without their floor_frame mount already reported
        self._rate_mark = (time.monotonic(), 0)  # (time, frames_processed) at the previous status

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def skip_frame(self, reason: str) -> None:
        with self._lock:
            self.frame_skips[reason] += 1
            self.last_error = reason

    def frame_done(self, people: int, people_skips: Counter, latency_ms: float, compute_ms: float,
                   publish_ms: float, publish_cpu_ms: float) -> None:
        with self._lock:
            self.counts["frames_processed"] += 1
            self.counts["people_lifted"] += people
            self.people_skips.update(people_skips)
            self.latency_ms.append(latency_ms)
            self.compute_ms.append(compute_ms)
            self.publish_ms.append(publish_ms)
            self.publish_cpu_ms.append(publish_cpu_ms)

    def _rate_hz(self) -> float:
        """Processed frames per second since the previous call (lock held)."""
        now, processed = time.monotonic(), self.counts["frames_processed"]
        (then, before), self._rate_mark = self._rate_mark, (now, processed)
        return (processed - before) / max(now - then, 1e-9)

    def status(self, context: StatusContext) -> DiagnosticStatus:
        """One DiagnosticStatus: WARN while inactive, while CameraInfo is missing, when the
        synchronizer reports a problem (future stamps, a reset, images that match nothing), when
        frames were skipped since the previous status, when frames had no floor_frame mount from TF
        since the previous status (frames_floor_no_tf, frames_floor_tf_refused) or when the rate is
        below the expected rate, else OK."""
        with self._lock:
            values = {key: str(value) for key, value in sorted(self.counts.items())}
            values["frames_dropped_newest_wins"] = str(context.dropped)
            values.update({f"frames_skipped: {reason}": str(n) for reason, n in sorted(self.frame_skips.items())})
            values.update({f"people_skipped: {reason}": str(n) for reason, n in sorted(self.people_skips.items())})
            for label, window in (("latency_ms", self.latency_ms), ("compute_ms", self.compute_ms),
                                  ("publish_ms", self.publish_ms), ("publish_cpu_ms", self.publish_cpu_ms)):
                if window:
                    p50, p95 = np.percentile(np.asarray(window), [50, 95])
                    values[f"{label}_p50"], values[f"{label}_p95"] = f"{p50:.2f}", f"{p95:.2f}"
            for stream, stats in sorted(context.sync_stats.items()):
                values.update({f"sync {stream} {key}": str(v) for key, v in stats.items()})
            rate = self._rate_hz()
            values["rate_hz"] = f"{rate:.2f}"
            if context.expected_rate > 0:
                values["expected_rate_hz"] = f"{context.expected_rate:.2f}"
            skipped = sum(self.frame_skips.values())
            new_skips, self._skips_reported = skipped - self._skips_reported, skipped
            missed = self.counts["frames_floor_no_tf"] + self.counts["frames_floor_tf_refused"]
            new_missed, self._floor_missed_reported = missed - self._floor_missed_reported, missed
            last_error = self.last_error
        minimum = context.expected_rate * (1 - context.rate_tolerance)
        if context.inactive:
            level, message = DiagnosticStatus.WARN, "inactive (lifecycle): not processing"
        elif context.waiting_for_camera_info:
            level, message = DiagnosticStatus.WARN, "waiting for a valid CameraInfo"
        elif context.sync_problem:
            level, message = DiagnosticStatus.WARN, f"synchronizer: {context.sync_problem}"
        elif new_skips:
            level, message = DiagnosticStatus.WARN, f"{new_skips} frames skipped; last: {last_error}"
        elif new_missed:  # floor_frame set, but the mount came from the cascade.floor parameters
            level, message = DiagnosticStatus.WARN, (
                f"floor_frame: {new_missed} frames without their camera mount from TF "
                f"({context.floor_problem or 'no transform'}): the cascade.floor parameters used")
        elif context.expected_rate > 0 and rate < minimum:
            level, message = DiagnosticStatus.WARN, f"rate {rate:.1f} Hz below the expected {context.expected_rate:g} Hz"
        else:
            level, message = DiagnosticStatus.OK, "running"
        return DiagnosticStatus(level=level, name=context.name, message=message, hardware_id=context.hardware_id,
                                values=[KeyValue(key=k, value=v) for k, v in values.items()])
