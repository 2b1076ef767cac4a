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
* Time guards (issue #13): with ``max_future_s`` > 0 and a clock (``now_ns`` given to
  :meth:`add`), a message stamped more than ``max_future_s`` ahead of the clock is rejected on
  arrival (latched streams are exempt: their stamps are not used), so one bad stamp cannot become
  "the last emitted" and block every later frame. With ``max_jump_back_s`` > 0, a pivot older than
  the last emitted one by more than that is a clock jump (a looping bag, ``use_sim_time``, a
  stepped clock): everything queued is dropped, the synchronizer starts afresh from that pivot,
  and the reset is logged. Both are counted in :attr:`TimestampSynchronizer.time_events`;
  :class:`SyncMonitor` turns them, and a stream that receives pivots but emits nothing, into a
  reason to warn.

Timestamps are integer nanoseconds (``sec * 10**9 + nanosec``). :meth:`add` holds a lock, so ROS
callbacks may call it from several threads.
"""
from __future__ import annotations

import bisect
import logging
import math
import numbers
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Counters kept per stream in :attr:`TimestampSynchronizer.stats`.
STAT_KEYS = ("received", "matched", "overflow", "unmatched")
#: Counters of :attr:`TimestampSynchronizer.time_events`.
FUTURE_STAMPS, RESETS = "future stamps rejected", "resets after stamps jumped back"
#: At most one warning about future stamps per this many seconds (a camera with a wrong clock
#: would otherwise log every frame).
WARN_EVERY_S = 5.0

LOG = logging.getLogger(__name__)


#: Defaults of the pairing window and of the per-stream queue; the node's and bag's settings
#: (``FrameConfig.sync_slop_s`` / ``sync_queue_size``) take them from here.
DEFAULT_SLOP_S = 0.02
DEFAULT_QUEUE_SIZE = 5


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
        slop_s: float = DEFAULT_SLOP_S,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        latched: tuple[str, ...] = (),
        max_future_s: float = 0.0,
        max_jump_back_s: float = 0.0,
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
        for name, value in (("max_future_s", max_future_s), ("max_jump_back_s", max_jump_back_s)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0 (0: off), got {value!r}")
        self.pivot = required[0]
        self.required = required
        self.optional = optional
        self.latched = frozenset(latched)
        self.slop_ns = round(slop_s * 1e9)
        self.queue_size = queue_size
        self.max_future_ns = round(max_future_s * 1e9)
        self.max_jump_back_ns = round(max_jump_back_s * 1e9)
        self._time_events: Counter = Counter()
        self._warned_at = -math.inf
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

    @property
    def time_events(self) -> dict[str, int]:
        """A snapshot of the time guards' counters (:data:`FUTURE_STAMPS`, :data:`RESETS`)."""
        with self._lock:
            return {key: self._time_events[key] for key in (FUTURE_STAMPS, RESETS)}

    def pending(self) -> dict[str, int]:
        """How many messages each stream holds now (latched: 0 or 1)."""
        with self._lock:
            counts = {name: len(queue) for name, queue in self._queues.items()}
            counts.update({name: int(name in self._latest) for name in self.latched})
            return counts

    def add(self, stream: str, stamp_ns: int, message: Any, now_ns: int | None = None) -> list[Match]:
        """Store ``message`` and return the set it completes (a list of zero or one :class:`Match`).

        ``now_ns``: the receiver's clock (ROS time in the node, the log time in a bag), for the
        future-stamp guard; None skips that guard.
        """
        if stream not in self._stats:
            raise ValueError(f"unknown stream {stream!r}; known: {', '.join(self._stats)}")
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, numbers.Integral):
            raise ValueError(f"stamp_ns must be integer nanoseconds (sec * 10**9 + nanosec), got {stamp_ns!r}")
        stamp_ns = int(stamp_ns)  # numpy integers too, without numpy's overflow on arithmetic
        with self._lock:
            self._stats[stream]["received"] += 1
            if (stream not in self.latched and self.max_future_ns and now_ns is not None
                    and stamp_ns - int(now_ns) > self.max_future_ns):
                self._reject_future(stream, stamp_ns, int(now_ns))
                return []
            if stream == self.pivot and self._jumped_back(stamp_ns):
                self._reset(stamp_ns)
            if stream in self.latched:
                if stream in self._latest and not self._latest[stream][1]:
                    self._stats[stream]["unmatched"] += 1
                self._latest[stream] = (message, False)
            elif not self._store(stream, stamp_ns, message):
                return []
            return self._match()

    def _reject_future(self, stream: str, stamp_ns: int, now_ns: int) -> None:
        self._stats[stream]["unmatched"] += 1
        self._time_events[FUTURE_STAMPS] += 1
        if time.monotonic() - self._warned_at >= WARN_EVERY_S:
            self._warned_at = time.monotonic()
            LOG.warning("%s message stamped %.3f s ahead of the clock rejected (max_future_s %.3f); %d so far",
                        stream, (stamp_ns - now_ns) / 1e9, self.max_future_ns / 1e9, self._time_events[FUTURE_STAMPS])

    def _jumped_back(self, stamp_ns: int) -> bool:
        return bool(self.max_jump_back_ns) and self._last_emitted is not None and \
            self._last_emitted - stamp_ns > self.max_jump_back_ns

    def _reset(self, stamp_ns: int) -> None:
        """Forget every queued message and the last emitted stamp (latched messages stay)."""
        for name, queue in self._queues.items():
            self._stats[name]["unmatched"] += len(queue)
            queue.clear()
        jump_ns, self._last_emitted = self._last_emitted - stamp_ns, None
        self._time_events[RESETS] += 1
        LOG.warning("stamps jumped back %.3f s (beyond max_jump_back_s %.3f): synchronizer reset",
                    jump_ns / 1e9, self.max_jump_back_ns / 1e9)

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


class SyncMonitor:
    """Why a synchronizer needs attention since the previous :meth:`check` ("" when it does not):
    messages stamped in the future, resets after the stamps jumped back, or pivots arriving
    while no set is emitted (a stuck or starved synchronizer)."""

    def __init__(self, synchronizer: TimestampSynchronizer) -> None:
        self.synchronizer = synchronizer
        self._events = synchronizer.time_events
        self._pivot = synchronizer.stats[synchronizer.pivot]

    def check(self) -> str:
        events, pivot = self.synchronizer.time_events, self.synchronizer.stats[self.synchronizer.pivot]
        new = {key: events[key] - self._events[key] for key in events}
        received, matched = (pivot[key] - self._pivot[key] for key in ("received", "matched"))
        self._events, self._pivot = events, pivot
        reasons = [f"{count} {key}" for key, count in new.items() if count]
        if received and not matched:
            reasons.append(f"{received} {self.synchronizer.pivot} messages received, none matched "
                           f"(check the stamps and the other streams)")
        return "; ".join(reasons)
