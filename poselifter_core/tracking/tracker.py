"""Persistent ids and filtered poses for the people of a stream of cascade results.

One :class:`Tracker` per stream (a video, a bag's image topic, the node's camera): ``infer``,
``bag`` and the node call :meth:`Tracker.update` on every processed frame, in time order.

* **Association** (:mod:`.association`): predicted tracks against lifted people, gated on a
  plausible 3D root speed, solved optimally. A person that arrives with an id (top-down
  detections from an upstream tracker) keeps it: that id is the track.
* **Births**: every person left unassigned starts a track, ``track_state`` "new" on that frame.
* **Gaps and deaths**: a track not seen is "coasting" (published with its predicted root and last
  pose when ``emit_coasting``) and can be re-identified until ``max_gap_s`` has passed; then it
  dies and its id is never reused. A track re-identified after more than ``reset_gap_s`` restarts
  its filter (the motion history is stale); a dead track's filter is gone with it.
* **Filtering** (:mod:`.pose_filter`): always run, since it predicts where a track is; its
  output replaces the lifted pose only when ``filter.enabled``.
* **Output gates** (:mod:`.output_gates`): a filtered or coasting pose is published only when it
  passes the cascade's output gates; a filtered one that fails is replaced by the person's own
  pose, a coasting one is withheld (counted in ``CascadeResult.tracking``).
* **Floor size** (:mod:`.floor_size`, ``carry_floor_size``): a track learns its person's floor /
  lifter depth ratio in its floor-fused frames and, in its frames without a floor estimate or
  without a mount, moves the lifted root along its ray by it before the filter sees the person
  (``root_source`` "track_floor").
"""
from __future__ import annotations

import itertools
import statistics
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..camera import Intrinsics, focal_alpha
from ..floor import FLOOR_CARRIED, FLOOR_CARRIED_NO_MOUNT, FLOOR_CARRY_REFUSED, FLOOR_NO_MOUNT, FloorConfig, mount_moved
from ..plausibility import PlausibilityConfig
from .association import Candidates, assign, cost_matrix
from .config import TrackingConfig
from .floor_size import FloorSize
from .output_gates import TRACK_COASTING_WITHHELD, TRACK_FILTERED_REFUSED, refusal
from .pose_filter import PoseFilter, PoseMeasurement

if TYPE_CHECKING:  # the cascade pulls in torch; FrameConfig (imported by the launch file) holds a TrackingConfig
    from ..cascade import CascadeResult, Person3D

NEW, TRACKED, COASTING = "new", "tracked", "coasting"
#: Frames whose median interval is the stream's frame interval (the filter's frame rate).
FRAME_INTERVAL_WINDOW = 10


class Prediction(NamedTuple):
    """Where a track is expected now: its last 2D pose and box moved with its predicted root."""

    keypoints_2d: np.ndarray
    box: np.ndarray
    root: np.ndarray


@dataclass
class Track:
    track_id: str
    filter: PoseFilter
    last: Person3D  # the last published person (filtered when filtering is on)
    last_seen_s: float
    age: int = 0  # frames since birth
    trail: deque = field(default_factory=deque)
    floor_size: FloorSize = field(default_factory=FloorSize)  # the person's floor / lifter depth ratio


def measurement(person: Person3D, intrinsics: Intrinsics) -> PoseMeasurement:
    """The filter's view of a lifted person."""
    k = intrinsics
    rays = (person.keypoints_2d - [k.cx, k.cy]) / [k.fx, k.fy]
    return PoseMeasurement(person.relative_m, person.root_m, rays, np.asarray(person.valid, dtype=bool))


class Tracker:
    """See the module doc. Not thread-safe: one caller, frames in time order."""

    def __init__(self, config: TrackingConfig = TrackingConfig()) -> None:
        self.config = config
        self.tracks: dict[str, Track] = {}
        self._numbers = itertools.count(1)
        self.last_time_s: float | None = None
        self._intervals: deque = deque(maxlen=FRAME_INTERVAL_WINDOW)  # the stream's recent frame intervals [s]
        self.flips_corrected = 0
        self.resets = 0  # times the stream's clock went backwards and every track was dropped
        self.mount: FloorConfig | None = None  # the camera mount the tracks' floor ratios were learned under
        self.floor_size_resets = 0  # times the mount moved (floor.mount_moved) and every ratio was forgotten

    def update(self, result: CascadeResult, time_s: float) -> None:
        """Give ``result.people`` their track id, age and state (and filtered poses), append the
        coasting tracks when configured, and time it (``result.timings_ms["tracking"]``). A time
        not after the previous one (a bag loop, a restarted camera) drops every track first."""
        if not self.config.enabled:
            return
        started = time.perf_counter()
        if self.last_time_s is not None and time_s <= self.last_time_s:
            self.tracks.clear()
            self._intervals.clear()
            self.resets += 1
        elif self.last_time_s is not None:
            self._intervals.append(time_s - self.last_time_s)
        self.last_time_s = time_s
        self._follow_mount(result.mount)
        gap = self.config.tracker.max_gap_s
        self.tracks = {t: track for t, track in self.tracks.items() if time_s - track.last_seen_s <= gap}
        for track in self.tracks.values():
            track.age += 1
        pairs = self._associate(result.people, result.intrinsics, time_s)
        out, published = [], set()
        for index, person in enumerate(result.people):
            track_id = pairs.get(index)
            if track_id is None:
                track_id = person.id if self._keeps_input_id(person) else self._new_id()
                out.append(self._birth(track_id, person, result.intrinsics, time_s))
            else:
                track = self.tracks[track_id]
                out.append(self._continue(track, self._floor_sized(track, person, result), result, time_s))
            published.add(track_id)
        if self.config.tracker.emit_coasting:
            coasted = (self._coast(track, result, time_s) for t, track in self.tracks.items() if t not in published)
            out += [person for person in coasted if person is not None]
        result.people = out
        result.timings_ms["tracking"] = 1000 * (time.perf_counter() - started)

    def forget_floor_sizes(self) -> None:
        """Every track forgets its learned floor ratio (a mount that moved or was switched off: the
        ratios carry the old mount's error); they relearn it in their next fused frames, under the
        next frame's mount."""
        for track in self.tracks.values():
            track.floor_size = FloorSize()
        self.mount = None  # the next frame's mount is the one the new ratios are learned under
        self.floor_size_resets += 1

    def _follow_mount(self, mount: FloorConfig | None) -> None:
        """The frame's camera mount (None: none this frame, which changes nothing: a TF lagging
        the images): one that moved beyond its stated error from the mount the ratios were learned
        under (:func:`..floor.mount_moved`) makes every track forget and becomes the new one."""
        if mount is None:
            return
        if self.mount is not None and mount_moved(self.mount, mount):
            self.forget_floor_sizes()
        if self.mount is None:
            self.mount = mount

    def _frame_interval(self) -> float | None:
        """The stream's frame interval: the median of the recent ones (a dropped frame or a burst
        does not change the rate); None before the second frame."""
        return float(statistics.median(self._intervals)) if self._intervals else None  # np.median's value, 20x cheaper

    def _keeps_input_id(self, person: Person3D) -> bool:
        """Whether a person's own id names a new track (an id already in use is not taken twice)."""
        return bool(self.config.tracker.use_input_ids and person.id and person.id not in self.tracks)

    def _associate(self, people: list[Person3D], intrinsics: Intrinsics, time_s: float) -> dict[int, str]:
        """Person index -> track id: by the person's own id first, then the gated optimal assignment
        of the remaining people and tracks."""
        pairs: dict[int, str] = {}
        for index, person in enumerate(people):
            if self.config.tracker.use_input_ids and person.id in self.tracks and person.id not in pairs.values():
                pairs[index] = person.id
        free_tracks = [t for t in self.tracks if t not in pairs.values()]
        free_people = [i for i, p in enumerate(people) if i not in pairs and not self._keeps_input_id(p)]
        if free_tracks and free_people:
            predicted = [self._predicted(self.tracks[t], intrinsics, time_s) for t in free_tracks]
            elapsed = np.array([time_s - self.tracks[t].last_seen_s for t in free_tracks])
            spread = np.array([self.tracks[t].filter.root_std_at(time_s) for t in free_tracks])
            tracks = _candidates([p.keypoints_2d for p in predicted], [self.tracks[t].last.valid for t in free_tracks],
                                 [p.box for p in predicted], [p.root for p in predicted])
            found = [people[i] for i in free_people]
            cost = cost_matrix(tracks, _candidates([p.keypoints_2d for p in found], [p.valid for p in found],
                                                   [p.box for p in found], [p.root_m for p in found]),
                               elapsed, spread, self.config.tracker)
            pairs.update({free_people[c]: free_tracks[r] for r, c in assign(cost)})
        return pairs

    def _predicted(self, track: Track, intrinsics: Intrinsics, time_s: float) -> Prediction:
        """The track's last 2D pose and box moved by the image motion of its predicted root."""
        last = track.last
        root = track.filter.root_at(time_s)
        k, before = intrinsics, last.root_m
        shift = np.array([k.fx * (root[0] / root[2] - before[0] / before[2]),
                          k.fy * (root[1] / root[2] - before[1] / before[2])])  # the root's image motion [px]
        return Prediction(last.keypoints_2d + shift, last.box + np.concatenate([shift, shift]), root)

    def _new_id(self) -> str:
        while True:
            track_id = f"{self.config.tracker.id_prefix}{next(self._numbers)}"
            if track_id not in self.tracks:
                return track_id

    def _floor_sized(self, track: Track, person: Person3D, result: CascadeResult) -> Person3D:
        """``person`` as the track's floor size places it (:mod:`.floor_size`): a floor-fused one
        teaches the track its ratio and is kept; one without the floor is carried by the ratio when
        ``carry_floor_size`` and the track has learned it, unless the carried pose fails the
        cascade's output gates (``result.plausibility``; None: the defaults): counted in
        ``result.floor``."""
        track.floor_size.learn(person)
        if not self.config.tracker.carry_floor_size:
            return person
        carried, refused = track.floor_size.carry(person, self.config.tracker.floor_size_min_frames, _gates(result))
        if refused is not None:
            result.floor[FLOOR_CARRY_REFUSED] += 1
        if carried is None:
            return person
        result.floor[FLOOR_CARRIED_NO_MOUNT if person.floor_outcome == FLOOR_NO_MOUNT else FLOOR_CARRIED] += 1
        return carried

    def _birth(self, track_id: str, person: Person3D, intrinsics: Intrinsics, time_s: float) -> Person3D:
        pose_filter = PoseFilter(self.config.filter, measurement(person, intrinsics), time_s, self._frame_interval())
        track = Track(track_id, pose_filter, person, time_s, trail=deque(maxlen=self.config.tracker.trail_length))
        track.floor_size.learn(person)
        self.tracks[track_id] = track
        return self._publish(track, person, NEW)

    def _continue(self, track: Track, person: Person3D, result: CascadeResult, time_s: float) -> Person3D:
        """The seen ``person`` as the track publishes it: filtered when filtering is on, unless the
        filtered pose fails the output gates (:mod:`.output_gates`): then ``person`` itself."""
        intrinsics = result.intrinsics
        seen = measurement(person, intrinsics)
        if time_s - track.last_seen_s > self.config.filter.reset_gap_s:
            track.filter.reset(seen, time_s, self._frame_interval())
            filtered = None
        else:
            filtered = track.filter.update(seen, time_s, self._frame_interval(), self.config.tracker.max_speed_mps)
            self.flips_corrected += filtered.flip != "none"
        track.last_seen_s = time_s
        if filtered is None or not self.config.filter.enabled:
            return self._publish(track, person, TRACKED)
        joints = filtered.root + filtered.relative
        if self._refused(result, filtered.root, joints, TRACK_FILTERED_REFUSED):
            return self._publish(track, person, TRACKED)
        alpha = float(focal_alpha(intrinsics.as_array()))
        return self._publish(track, person, TRACKED, joints_m=joints, root_m=filtered.root,
                             relative_m=filtered.relative, canonical_depth=float(filtered.root[2] / alpha))

    def _coast(self, track: Track, result: CascadeResult, time_s: float) -> Person3D | None:
        """The unseen track's last pose at its predicted root, or None when that fails the output
        gates (:mod:`.output_gates`: withheld, the track kept)."""
        predicted = self._predicted(track, result.intrinsics, time_s)
        joints = predicted.root + track.last.relative_m
        if self._refused(result, predicted.root, joints, TRACK_COASTING_WITHHELD):
            return None
        alpha = float(focal_alpha(result.intrinsics.as_array()))
        return self._publish(track, track.last, COASTING, remember=False, keypoints_2d=predicted.keypoints_2d,
                             box=predicted.box, root_m=predicted.root, joints_m=joints,
                             canonical_depth=float(predicted.root[2] / alpha))

    @staticmethod
    def _refused(result: CascadeResult, root_m: np.ndarray, joints_m: np.ndarray, key: str) -> bool:
        """Whether a pose the tracker made fails the frame's output gates; counted under ``key``."""
        if refusal(root_m, joints_m, _gates(result)) is None:
            return False
        result.tracking[key] += 1
        return True

    def _publish(self, track: Track, person: Person3D, state: str, remember: bool = True, **changes) -> Person3D:
        """``person`` with ``changes`` and the track's fields; ``remember``: it is the track's last."""
        root = changes.get("root_m", person.root_m)
        if track.trail.maxlen:
            track.trail.append(root)
        out = replace(person, **changes, track_id=track.track_id, track_age=track.age, track_state=state,
                      root_trail_m=np.array(track.trail) if track.trail.maxlen else None)
        if remember:
            track.last = out
        return out


def _gates(result: CascadeResult) -> PlausibilityConfig:
    """The output gates the frame's people passed (``result.plausibility``; None: the defaults)."""
    return result.plausibility or PlausibilityConfig()


def _candidates(keypoints: list, valid: list, boxes: list, roots: list) -> Candidates:
    roots = np.array(roots)
    return Candidates(np.array(keypoints), np.array(valid, dtype=bool), np.array(boxes), roots[:, :2] / roots[:, 2:3],
                      roots[:, 2])
