"""A TF buffer over a whole recorded bag: tf2's ``lookup_transform(target, source, time)`` without ROS.

``poselifter bag`` reads every tf2_msgs/TFMessage on ``/tf`` and ``/tf_static`` in a first pass
(TF topics are small), so a transform stamped at or after an image, but logged after it, is there
when the image is processed: the live node's tf2 buffer has the same transform a moment later, and a
single pass over a time-ordered bag would not.

The rules are tf2's, in a few lines of our own (tf2_ros has no wheel; a general transform-graph
library would bring a graph that is not tf2's tree and an interpolation that is not tf2's):

* TF is a tree: each frame has one parent, the one its last transform read names. A transform of
  the other kind (static where the frame's were on ``/tf``, or the other way round) replaces what
  the frame had, as tf2's ``BufferCore::setTransformImpl`` reallocates the frame's cache; so does
  one naming another parent (tf2 does that for a static frame, and keeps a ``/tf`` frame's earlier
  samples under their old parent: a re-parented frame is rare in a bag). A lookup walks from both
  frames up to their nearest common ancestor and composes the edges on the way, inverting those
  walked from the target's side;
* a transform from ``/tf_static`` holds at every time; the latest message for a frame wins;
* one from ``/tf`` is interpolated between the two samples around the query time (translation
  linear, rotation slerp: scipy's ``Slerp``); no extrapolation: a time before the first or after
  the last sample is refused, unless it is within ``tolerance_ns`` (then the nearest sample holds;
  tf2 itself has no tolerance, 0 is its behaviour);
* a transform tf2 ignores is skipped and counted (``unusable``): an empty or a self frame, a NaN,
  a quaternion whose squared norm is 0.01 or more from 1 (tf2 drops it, it does not normalize
  it); one leading ``/`` of a frame name is dropped, as tf2 does (ROS 1 names);
* a failed lookup says why: an unknown frame, no common ancestor, a loop, or a time outside an
  edge's samples (which edge, and the times it covers).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from .rigid import RigidTransform

NS = 10**9
#: tf2's QUATERNION_NORMALIZATION_TOLERANCE: a transform whose rotation's squared norm is this far
#: from 1, or farther, is ignored (TF_DENORMALIZED_QUATERNION).
QUATERNION_TOLERANCE = 10e-3


class TfLookupError(LookupError):
    """A lookup the buffer cannot answer; the message says why (for a summary or a log line)."""


def _matrix(rotation: Rotation, translation: np.ndarray) -> np.ndarray:
    """The 4x4 homogeneous matrix ``p_parent = R p_child + t``."""
    matrix = np.eye(4)
    matrix[:3, :3] = rotation.as_matrix()
    matrix[:3, 3] = translation
    return matrix


def _inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a rigid 4x4 transform (``R^T``, ``-R^T t``)."""
    inverse = np.eye(4)
    inverse[:3, :3] = matrix[:3, :3].T
    inverse[:3, 3] = -matrix[:3, :3].T @ matrix[:3, 3]
    return inverse


class _Timeline:
    """One ``/tf`` edge (child to parent) over time, interpolated as tf2 does (module doc)."""

    def __init__(self, name: str, samples: list[tuple[int, np.ndarray, np.ndarray]], tolerance_ns: int) -> None:
        by_stamp = {stamp: (translation, quaternion) for stamp, translation, quaternion in samples}  # a repeat: the last
        self.stamps = np.array(sorted(by_stamp), dtype=np.int64)
        self.translations = np.array([by_stamp[stamp][0] for stamp in self.stamps])
        self.rotations = Rotation.from_quat([by_stamp[stamp][1] for stamp in self.stamps])
        seconds = (self.stamps - self.stamps[0]) / NS  # relative: float64 keeps the nanoseconds
        self._slerp = Slerp(seconds, self.rotations) if len(self.stamps) > 1 else None
        self.tolerance_ns = tolerance_ns
        self.name = name

    def covers(self) -> str:
        first, last = self.stamps[0] / NS, self.stamps[-1] / NS
        return f"at {first:.3f} s" if first == last else f"from {first:.3f} s to {last:.3f} s"

    def as_matrix(self, stamp: int) -> np.ndarray:
        first, last = int(self.stamps[0]), int(self.stamps[-1])
        if not first - self.tolerance_ns <= stamp <= last + self.tolerance_ns:
            side = "before its first" if stamp < first else "after its last"
            raise TfLookupError(f"the transform {self.name} would be extrapolated: the stamp is {side} sample (the bag "
                                f"has it {self.covers()}; tolerance {self.tolerance_ns / NS:g} s)")
        stamp = min(max(stamp, first), last)
        after = int(np.searchsorted(self.stamps, stamp, side="left"))
        if self.stamps[after] == stamp:
            return _matrix(self.rotations[after], self.translations[after])
        before = after - 1
        weight = (stamp - self.stamps[before]) / (self.stamps[after] - self.stamps[before])
        translation = (1 - weight) * self.translations[before] + weight * self.translations[after]
        return _matrix(self._slerp([(stamp - self.stamps[0]) / NS])[0], translation)


class TfBuffer:
    """Transforms of a bag's TF topics; ``lookup(target, source, stamp_ns)`` as the node's
    :class:`~poselifter_ros.tf_io.TargetFrameLookup`: a :class:`RigidTransform` (``p_target =
    rotation @ p_source + translation``), or None with the reason in ``last_error``."""

    def __init__(self, tolerance_ns: int = 0) -> None:
        self.tolerance_ns = tolerance_ns
        self._parent: dict[str, str] = {}  # frame -> its parent: the tree
        self._static: dict[str, np.ndarray] = {}  # frame -> 4x4 to its parent, from /tf_static
        self._samples: dict[str, list[tuple[int, np.ndarray, np.ndarray]]] = {}  # frame -> /tf samples to its parent
        self._timelines: dict[str, _Timeline] = {}  # built from _samples at the first lookup after an add
        self.unusable = 0  # transforms skipped as tf2 skips them (module doc), and those not finite
        self.last_error = ""

    @property
    def transforms(self) -> int:
        """Transforms kept: static edges plus dynamic samples."""
        return len(self._static) + sum(len(samples) for samples in self._samples.values())

    def add(self, message: Any, static: bool) -> None:
        """A tf2_msgs/TFMessage's transforms (``static``: from /tf_static)."""
        for stamped in message.transforms:
            parent, child = (str(name).removeprefix("/") for name in (stamped.header.frame_id, stamped.child_frame_id))
            t, q = stamped.transform.translation, stamped.transform.rotation
            translation, quaternion = np.array([t.x, t.y, t.z]), np.array([q.x, q.y, q.z, q.w])
            if not (parent and child and parent != child and np.isfinite(translation).all()
                    and abs(quaternion @ quaternion - 1.0) < QUATERNION_TOLERANCE):  # NaN: not <
                self.unusable += 1
                continue
            if self._parent.get(child) != parent or (child in self._static) != static:  # a new edge replaces the old
                self._static.pop(child, None)
                self._samples.pop(child, None)
                self._parent[child] = parent
            if static:
                self._static[child] = _matrix(Rotation.from_quat(quaternion), translation)
            else:
                stamp = stamped.header.stamp.sec * NS + stamped.header.stamp.nanosec
                self._samples.setdefault(child, []).append((stamp, translation, quaternion))
        self._timelines.clear()

    def lookup_matrix(self, target: str, source: str, stamp_ns: int) -> np.ndarray:
        """The 4x4 transform from ``source`` to ``target`` at ``stamp_ns``; TfLookupError says why not."""
        if source == target:  # tf2's short cut: the identity, even for a frame that is not in TF
            return np.eye(4)
        frames = self._parent.keys() | set(self._parent.values())
        for frame in (source, target):
            if frame not in frames:
                raise TfLookupError(f"the frame {frame!r} is not in the bag's TF ({len(frames)} frames"
                                    + (f": {', '.join(sorted(frames)[:8])}" if frames else
                                       ": no usable transform on /tf or /tf_static") + ")")
        source_up, target_up = self._ancestors(source), self._ancestors(target)
        common = next((frame for frame in source_up if frame in target_up), None)
        if common is None:
            raise TfLookupError(f"no path from {source!r} to {target!r} in the bag's TF (their trees' roots are "
                                f"{source_up[-1]!r} and {target_up[-1]!r})")
        return _inverse(self._to_ancestor(target, common, stamp_ns)) @ self._to_ancestor(source, common, stamp_ns)

    def lookup(self, target: str, source: str, stamp_ns: int) -> RigidTransform | None:
        try:
            matrix = self.lookup_matrix(target, source, stamp_ns)
        except TfLookupError as error:
            self.last_error = f"no transform {source} -> {target} at the image stamp: {error}"
            return None
        return RigidTransform(matrix[:3, :3], matrix[:3, 3])

    def _ancestors(self, frame: str) -> list[str]:
        """``frame``, its parent, the parent's parent... up to the root of its tree."""
        chain = [frame]
        while (parent := self._parent.get(chain[-1])) is not None:
            if parent in chain:
                raise TfLookupError(f"the bag's TF has a loop: {' -> '.join([*chain, parent])}")
            chain.append(parent)
        return chain

    def _to_ancestor(self, frame: str, ancestor: str, stamp_ns: int) -> np.ndarray:
        """The 4x4 ``p_ancestor = M p_frame`` at ``stamp_ns``: the edges up from ``frame``, composed."""
        matrix = np.eye(4)
        while frame != ancestor:
            matrix = self._edge(frame, stamp_ns) @ matrix
            frame = self._parent[frame]
        return matrix

    def _edge(self, frame: str, stamp_ns: int) -> np.ndarray:
        """The 4x4 from ``frame`` to its parent at ``stamp_ns``."""
        if frame in self._static:
            return self._static[frame]
        if frame not in self._timelines:
            self._timelines[frame] = _Timeline(f"{frame} -> {self._parent[frame]}", self._samples[frame],
                                               self.tolerance_ns)
        return self._timelines[frame].as_matrix(stamp_ns)
