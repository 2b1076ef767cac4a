"""Pair each image with its camera info, detections or keypoints by timestamp (no message_filters).

Rules, in the order they are applied:

* The first required stream is the *pivot* (the image). Every other stream is matched to a
  pivot message by its stamp, unless it is *latched*: then its latest-arrived message is used
  whatever its stamp (CameraInfo often comes at its own rate, or once).
* A set is emitted the moment it becomes complete: every required non-latched stream has a
  message within ``slop_s`` of the pivot (the closest one is taken) and every required latched
  stream has received something. Emission is immediate, so a closer message arriving later is
  not waited for.
* An optional stream is included when, at that moment, it has a message within ``slop_s`` (or,
  if latched, any message); otherwise it is absent from :attr:`Match.messages`. The node decides
  whether it can do without it. A stream that usually arrives *after* the image should be
  required, or it will mostly be missed.
* Newest frame wins: when a pivot completes, older waiting pivots are discarded, and a pivot no
  newer than the last emitted one is discarded on arrival (never emit backwards). Matched
  non-latched messages are consumed, with everything older in their stream; messages too old to
  match any future pivot are discarded.
* Each non-latched queue holds at most ``queue_size`` messages; the oldest is evicted.

Timestamps are integer nanoseconds (``sec * 10**9 + nanosec``). :meth:`add` holds a lock, so ROS
callbacks may call it from several threads.
"""
from __future__ import annotations

import bisect
import math
import numbers
import threading
from dataclasses import dataclass, field
from typing import Any

#: Counters kept per stream in :attr:`TimestampSynchronizer.stats`.
STAT_KEYS = ("received", "matched", "overflow", "unmatched")


@dataclass(frozen=True)
class Match:
    """One synchronized set: the pivot's stamp and one message per included stream."""

    stamp_ns: int
    messages: dict[str, Any] = field(default_factory=dict)


class TimestampSynchronizer:
    """Approximate-time synchronizer of named streams around a pivot stream (see module doc).

    ``stats[stream]`` counts ``received`` messages, ``matched`` (times a message went into a
    match; a latched message can be used many times), ``overflow`` (evicted by the queue bound)
    and ``unmatched`` (discarded otherwise: superseded by a newer set, too old on arrival, or a
    latched message replaced before any use).
    """

    def __init__(
        self,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        slop_s: float = 0.02,
        queue_size: int = 10,
        latched: tuple[str, ...] = (),
    ) -> None:
        required, optional, latched = tuple(required), tuple(optional), tuple(latched)
        if not required:
            raise ValueError("required must name at least one stream (the first is the pivot, e.g. the image)")
        names = required + optional
        if any(not isinstance(name, str) or not name for name in names):
            raise ValueError(f"stream names must be non-empty strings, got {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"stream names must be unique across required and optional, got {names}")
        unknown = set(latched) - set(names)
        if unknown:
            raise ValueError(f"latched streams {sorted(unknown)} are not in required or optional")
        if required[0] in latched:
            raise ValueError(f"the pivot stream {required[0]!r} cannot be latched")
        if not (isinstance(slop_s, (int, float)) and math.isfinite(slop_s) and slop_s >= 0):
            raise ValueError(f"slop_s must be a finite number >= 0, got {slop_s!r}")
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ValueError(f"queue_size must be an integer >= 1, got {queue_size!r}")
        self.pivot = required[0]
        self.required = required
        self.optional = optional
        self.latched = frozenset(latched)
        self.slop_ns = round(slop_s * 1e9)
        self.queue_size = queue_size
        self._lock = threading.Lock()
        # Non-latched streams: lists of (stamp_ns, arrival order, message) sorted by stamp.
        self._queues: dict[str, list[tuple[int, int, Any]]] = {n: [] for n in names if n not in self.latched}
        # Latched streams: the latest message and whether it has been used yet.
        self._latest: dict[str, tuple[Any, bool]] = {}
        self._arrivals = 0
        self._last_emitted: int | None = None
        self._stats = {name: dict.fromkeys(STAT_KEYS, 0) for name in names}

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """A snapshot copy of the per-stream counters."""
        with self._lock:
            return {name: dict(counts) for name, counts in self._stats.items()}

    def pending(self) -> dict[str, int]:
        """How many messages each stream holds now (latched: 0 or 1)."""
        with self._lock:
            counts = {name: len(queue) for name, queue in self._queues.items()}
            counts.update({name: int(name in self._latest) for name in self.latched})
            return counts

    def add(self, stream: str, stamp_ns: int, message: Any) -> list[Match]:
        """Store ``message`` and return the set it completes (a list of zero or one :class:`Match`)."""
        if stream not in self._stats:
            raise ValueError(f"unknown stream {stream!r}; known: {', '.join(self._stats)}")
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, numbers.Integral):
            raise ValueError(f"stamp_ns must be integer nanoseconds (sec * 10**9 + nanosec), got {stamp_ns!r}")
        stamp_ns = int(stamp_ns)  # numpy integers too, without numpy's overflow on arithmetic
        with self._lock:
            self._stats[stream]["received"] += 1
            if stream in self.latched:
                if stream in self._latest and not self._latest[stream][1]:
                    self._stats[stream]["unmatched"] += 1
                self._latest[stream] = (message, False)
            elif not self._store(stream, stamp_ns, message):
                return []
            return self._match()

    def _store(self, stream: str, stamp_ns: int, message: Any) -> bool:
        """Queue a non-latched message; False if it is discarded as too old to ever match."""
        if self._last_emitted is not None:
            # Pivots must be newer than the last emitted one; others must reach a newer pivot.
            oldest_useful = self._last_emitted + 1 if stream == self.pivot else self._last_emitted + 1 - self.slop_ns
            if stamp_ns < oldest_useful:
                self._stats[stream]["unmatched"] += 1
                return False
        queue = self._queues[stream]
        self._arrivals += 1
        bisect.insort(queue, (stamp_ns, self._arrivals, message), key=lambda entry: entry[:2])
        if len(queue) > self.queue_size:
            del queue[0]
            self._stats[stream]["overflow"] += 1
        return True

    def _closest(self, stream: str, stamp_ns: int) -> int | None:
        """Index of the message in ``stream`` closest to ``stamp_ns`` within slop (earlier wins ties)."""
        best, best_gap = None, self.slop_ns
        for index, (stamp, _, _) in enumerate(self._queues[stream]):
            gap = abs(stamp - stamp_ns)
            if gap <= best_gap and (best is None or gap < best_gap):
                best, best_gap = index, gap
        return best

    def _match(self) -> list[Match]:
        if any(name in self.latched and name not in self._latest for name in self.required):
            return []
        pivots = self._queues[self.pivot]
        others = [name for name in self.required[1:] if name not in self.latched]
        for pivot_index in range(len(pivots) - 1, -1, -1):
            stamp = pivots[pivot_index][0]
            chosen = {name: self._closest(name, stamp) for name in others}
            if all(index is not None for index in chosen.values()):
                return [self._emit(pivot_index, chosen)]
        return []

    def _emit(self, pivot_index: int, chosen: dict[str, int | None]) -> Match:
        """Build the match for ``pivot_index`` and consume or discard what it makes useless."""
        pivots = self._queues[self.pivot]
        stamp, _, pivot_message = pivots[pivot_index]
        for name in self.optional:
            if name not in self.latched:
                chosen[name] = self._closest(name, stamp)
        messages = {self.pivot: pivot_message}
        self._take(self.pivot, pivot_index, messages)
        for name, index in chosen.items():
            if index is not None:
                self._take(name, index, messages)
        for name in self.required[1:] + self.optional:
            if name in self.latched and name in self._latest:
                message, _ = self._latest[name]
                self._latest[name] = (message, True)
                messages[name] = message
                self._stats[name]["matched"] += 1
        self._last_emitted = stamp
        self._discard_stale()
        return Match(stamp_ns=stamp, messages=messages)

    def _take(self, stream: str, index: int, messages: dict[str, Any]) -> None:
        """Consume message ``index`` of ``stream`` into ``messages``; drop everything older."""
        queue = self._queues[stream]
        messages[stream] = queue[index][2]
        self._stats[stream]["matched"] += 1
        self._stats[stream]["unmatched"] += index
        del queue[: index + 1]

    def _discard_stale(self) -> None:
        """After an emission, drop queued messages that can no longer reach a newer pivot."""
        limit = self._last_emitted + 1 - self.slop_ns
        for name, queue in self._queues.items():
            if name == self.pivot:
                continue
            stale = bisect.bisect_left(queue, limit, key=lambda entry: entry[0])
            self._stats[name]["unmatched"] += stale
            del queue[:stale]
