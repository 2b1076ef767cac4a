"""Image -> absolute 3D people (paper section 4, Figure 4).

image (+ person boxes) -> 2D stage -> COCO-17 -> H36M-17 -> PoseLifter (one batch for all people)
-> canonical root depth + relative pose -> absolute pose with the focal length.

Outputs are in metres in the camera optical frame (x right, y down, z forward; REP-103), as a
robot consumer expects. People whose 2D pose cannot be trusted are skipped and counted, never
lifted into a silently wrong 3D pose:

* person score below ``min_person_score``;
* too few observed joints (a joint is observed when it has finite coordinates and a score of at
  least ``min_joint_score``): fewer than ``min_valid_joints`` in all, or fewer than
  ``min_torso_joints`` of shoulders and hips (the rule and why: :mod:`.visibility`);
* a lifter from before the visibility mask (no ``visible`` input) and a joint without coordinates
  (``model takes no missing joints``); such a lifter gets every joint's coordinates, low-score
  ones included, as before #18;
* all observed joints within a pixel of each other (``degenerate 2D pose``).
* the plausibility gates of :mod:`.plausibility` (implausible 2D input; a lifted pose that is
  not finite, not in front of the camera, or at an absurd depth; more people or boxes in one
  frame than ``plausibility.max_people``).

In bottom-up mode (no boxes), a person with too few observed joints first gets a second look
(``second_look``): the 2D stage on a crop around its box, as in top-down mode, whose keypoints
replace the first ones when they pass the rule (the person keeps its box, score and id). The
bottom-up pass sees every person at one input size; a close or large person often gets more
confident joints from a crop centred on it (docs/benchmarks.md, #18). At most
``max_second_looks`` people per frame get one, the best scored first; a look the 2D stage
refuses or fails on (a degenerate box, a backend that fails to run: ``LOOK_ERRORS``; no person or
several; keypoints that are degenerate or off any plausible view) leaves the person with its first
look; any other exception of the 2D stage is a bug and propagates.
``CascadeResult.second_looks`` counts them; their time is the 2D stage's (``timings_ms["pose2d"]``).

Each skipped person is listed in ``CascadeResult.skipped_people`` with its box, score, id and
reason, and counted per reason in ``CascadeResult.skipped``. A person skipped for too few observed
joints who shows at least ``min_face_keypoints`` of nose, eyes and ears gets a head position
(``SkippedPerson.head``, :mod:`.head_location`: from the face's image size and a head-size prior,
with a depth interval) when ``locate_heads`` is on; such a person stays skipped (not lifted, no
skeleton) and is counted in ``CascadeResult.head_only``.

Every joint of a lifted person says whether it was observed (``Person3D.valid`` True: its 3D
position follows its 2D keypoint) or inferred (False: missing in 2D, occluded, outside the image
or below the score threshold; the lifter placed it from the rest of the body). Missing joints
never reach the lifter (docs/lifter_input.md).
Without known intrinsics, a camera with ``default_hfov_deg`` is assumed: the canonical depth is
still meaningful, the metric pose is flagged ``metric_depth = False``.

With a known camera mount (``floor``: the camera's height above a flat floor, its pitch and roll;
:mod:`.floor`), the lifter's root depth is fused with the depth at which an observed ankle's ray
meets the floor, and each person's root moves along its own ray to the fused depth (the relative
pose is kept). ``Person3D.root_source`` says whether the floor took part (``"floor"``) or the
lifter's depth stands alone (``"lifter"``: no ankle observed, or the two disagree: the person is
not on this floor); ``CascadeResult.floor`` counts both. Only with known intrinsics: the floor's
rays need the true focal length (with assumed ones, the people are counted as ``no_camera``).
``Person3D.lifter_depth_m`` keeps the lifter's own depth; from it the tracker learns each person's
floor-to-lifter ratio and carries it to the person's frames without the floor (``"track_floor"``,
:mod:`.tracking.floor_size`).
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .camera import MM_PER_M, Intrinsics
from .distortion import Distortion, undistort_points
from .floor import (  # noqa: F401 (the root sources and floor outcomes: re-exported, the cascade's keys)
    FLOOR_CARRIED,
    FLOOR_DISAGREED,
    FLOOR_FUSED,
    FLOOR_NO_CAMERA,
    FLOOR_NO_ESTIMATE,
    FLOOR_OUTCOMES,
    ROOT_FLOOR,
    ROOT_LIFTER,
    ROOT_TRACK_FLOOR,
    FloorConfig,
    along_ray,
    floor_root_depth,
    fuse_root_depth,
)
from .head_location import HeadLocation, locate_head
from .lifter.decoding import Lifter
from .lifter.inputs import LifterInput, observed_statistics
from .lifter.weights import LIFTER_WEIGHTS
from .plausibility import (
    REASON_CAMERA,
    REASON_CAP,
    REASON_RAY,
    PlausibilityConfig,
    camera_implausible,
    cap_boxes,
    cap_people,
    first_reasons,
    output_reasons,
    ray_failures,
)
from .pose2d.base import Person2D, Pose2DEstimator, check_image
from .pose2d.layout import HEAD_RATIO, LayoutConversion, to_h36m17_batch
from .runtime.backend import BackendError
from .settings import SettingError, setting
from .skeleton import COCO17
from .visibility import VisibilityRule

LOG = logging.getLogger(__name__)

REASON_LOW_SCORE = "low person score"
REASON_NO_MASK = "model takes no missing joints"
REASON_DEGENERATE = "degenerate 2D pose"
REASON_LENS = "keypoint outside the lens model"
#: A person whose observed joints have a 2D scale (eq. 4) below this many pixels is degenerate.
MIN_SCALE_PERSON_PX = 1.0


#: ``CascadeResult.second_looks`` keys: looks run, of them those whose keypoints replaced the first
#: look's (the person then passes the lifting rule), those the 2D stage refused or failed on, and
#: the people that would have had one beyond ``max_second_looks``.
LOOK_RUN, LOOK_PASSED, LOOK_FAILED, LOOK_OVER_LIMIT = "run", "passed", "failed", "over_limit"
#: The 2D stage's top-down look: a ``(1, 4)`` box in, its people out (one when it works).
Look = Callable[[np.ndarray], list[Person2D]]
#: What a 2D stage raises for a box it cannot look at: ValueError for a box it refuses
#: (``check_boxes``, ``CropTransform``: NaN, zero area, outside the image) or a crop its model
#: rejects (``Signature.check``), BackendError for a run the backend fails on (ONNX Runtime,
#: TensorRT). A failed look, counted; any other error is a bug and propagates.
LOOK_ERRORS = (ValueError, BackendError)


@dataclass
class CascadeConfig:
    """The cascade's settings (each described where it is declared).

    ``max_second_looks`` defaults to 2: each look is one more 2D network run, about as costly as
    the frame's bottom-up run (30-35 ms on the 2-core CPU at 256 px, docs/benchmarks.md "2D stage
    latency"), so 2 at most triple the frame's 2D time, where MoveNet's up to 6 people could make it
    7x. On the measured data 2 loses nothing: on the 91 OpenCV photos at most one person per frame
    fails the lifting rule (at 256 and 384 px), on vtest.avi nobody does (#18, "Who is skipped on the
    photos").
    """

    min_person_score: float = setting(0.2, "Skip people whose 2D person score is below this", low=0.0, high=1.0)
    min_joint_score: float = setting(0.3, "A joint is observed when its 2D score reaches this; below it the lifter "
                                     "infers it (joint_valid false)", low=0.0, high=1.0)
    min_valid_joints: int = setting(5, "Skip people with fewer observed joints than this (of 17; why 5: "
                                    "poselifter_core/visibility.py)", low=2, high=17)
    min_torso_joints: int = setting(2, "Skip people with fewer observed shoulders and hips than this (of 4)",
                                    low=0, high=4)
    default_hfov_deg: float = setting(60.0, "Horizontal field of view assumed without intrinsics [deg]",
                                      low=1.0, high=179.0)
    pose2d_size: int = setting(256, "MoveNet's bottom-up input long side [px], a multiple of 32: larger finds "
                               "smaller people at more cost (docs/benchmarks.md)", low=32, high=2048, live=False,
                               step=32)
    pose2d_extra_size: int = setting(0, "MoveNet: 0, or the long side [px] of a second bottom-up pass whose people "
                                     "are merged with the first's (a multiple of 32, not pose2d_size itself: refused; with "
                                     "256: 384 or 512 also finds small, far people, at 3x or 5x the cascade's time: "
                                     "docs/benchmarks.md)",
                                     low=0, high=2048, live=False, step=32)
    lifter_weights: str = setting("auto", "Lifter weights on ONNX Runtime's CPU: auto runs the int8-weight variant "
                                  "beside the lifter's ONNX file when there is one (the shipped lifter has one: "
                                  "faster, < 1 mm MPJPE cost), fp32 never does, int8 requires it; GPU backends "
                                  "run fp32", choices=LIFTER_WEIGHTS, live=False)
    lifter_flip_average: bool = setting(True, "Lift each person and their mirror image in one batch and average the two "
                                        "(test-time flip averaging, poselifter_core/lifter/flip.py; accuracy and cost: "
                                        "docs/benchmarks.md)", live=False)
    head_ratio: float = setting(HEAD_RATIO, "COCO-17 -> H36M-17: the head (crown) lies this fraction of the thorax -> "
                                "neck distance above the neck (pose2d/layout.py HEAD_RATIO: why this value)", low=0.0, high=2.0)
    hip_width_scale: float = setting(1.0, "COCO-17 -> H36M-17: below 1 pulls COCO's hips toward the pelvis centre "
                                     "(pose2d/layout.py)", low=0.1, high=3.0)
    second_look: bool = setting(True, "Bottom-up only: a person with too few observed joints gets a second, top-down "
                                "look by the 2D stage at its box (one more 2D run each) and is lifted when that finds "
                                "enough joints")
    max_second_looks: int = setting(2, "Second looks per frame at most (the best-scored people first; each costs one "
                                    "2D run, ~30 ms on a 2-core CPU; the others keep their first look): 0 none",
                                    low=0, high=20)
    locate_heads: bool = setting(True, "A person skipped for too few body joints who shows enough face keypoints gets "
                                 "a head position from the face's size and a head-size prior (head-only: no "
                                 "skeleton; poselifter_core/head_location.py)")
    min_face_keypoints: int = setting(3, "Face keypoints (of nose, eyes, ears) observed to locate a head", low=3, high=5)
    plausibility: PlausibilityConfig = field(default_factory=PlausibilityConfig)
    floor: FloorConfig = field(default_factory=FloorConfig)

    def __post_init__(self) -> None:
        """A second pass at the first one's size finds the same people at twice the cost: refused
        here, where ``infer``, ``bag``, ``benchmark`` and the node (its parameters at start; both sizes
        are read-only there) all build their settings, so each says the same."""
        if self.pose2d_extra_size and self.pose2d_extra_size == self.pose2d_size:
            raise SettingError("cascade.pose2d_extra_size",
                               f"cascade.pose2d_extra_size {self.pose2d_extra_size} is cascade.pose2d_size: a second "
                               "bottom-up pass at the same size finds the same people at twice the cost; give "
                               "another size (e.g. 384 or 512 with 256) or 0 (none)")


@dataclass
class Person3D:
    keypoints_2d: np.ndarray  # (17, 2) H36M-17 pixels
    scores: np.ndarray  # (17,)
    valid: np.ndarray  # (17,) bool: True observed in 2D (score >= min_joint_score), False inferred by the lifter
    box: np.ndarray  # (4,) x1, y1, x2, y2
    score: float
    joints_m: np.ndarray  # (17, 3) absolute, camera optical frame
    root_m: np.ndarray  # (3,)
    relative_m: np.ndarray  # (17, 3) root-relative
    canonical_depth: float  # root depth / sqrt(fx fy), metres per pixel of focal length
    metric_depth: bool  # False when the focal length was assumed
    id: str = ""  # detection / track id of the input person ("" when none)
    # Set by the tracker (poselifter_core.tracking); "" / 0 / None when tracking is off.
    track_id: str = ""  # stable per person, unique per stream
    track_age: int = 0  # frames since the track was born (0: first frame)
    track_state: str = ""  # "new" (first frame), "tracked" (seen now), "coasting" (unseen: predicted pose)
    root_trail_m: np.ndarray | None = None  # (K, 3) the track's recent roots, oldest first, this frame's last
    root_source: str = ROOT_LIFTER  # ROOT_FLOOR: the root depth fuses the floor's (CascadeConfig.floor);
    # ROOT_TRACK_FLOOR: the lifter's scaled by the track's floor ratio (poselifter_core/tracking/floor_size.py)
    lifter_depth_m: float | None = None  # the lifter's own root depth [m] before the floor (None: not recorded)
    floor_outcome: str = ""  # FLOOR_* key of this person (cascade.floor on; "" off)


@dataclass
class SkippedPerson:
    """A person the 2D stage (or the input) gave that was not lifted, and why."""

    box: np.ndarray  # (4,) x1, y1, x2, y2
    score: float
    reason: str
    id: str = ""
    head: HeadLocation | None = None  # head-only position (locate_heads), None when not located


@dataclass
class CascadeResult:
    people: list[Person3D]
    intrinsics: Intrinsics
    intrinsics_assumed: bool
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    #: stage -> ms: "pose2d" the 2D stage (its second looks included), "lift" the rest of the cascade
    timings_ms: dict[str, float] = field(default_factory=dict)
    skipped_people: list[SkippedPerson] = field(default_factory=list)
    second_looks: Counter = field(default_factory=Counter)  # LOOK_* -> count (bottom-up mode)
    floor: Counter = field(default_factory=Counter)  # FLOOR_* -> lifted people (floor on)
    #: tracking.output_gates.TRACK_* -> people whose tracker output failed the output gates (tracking on)
    tracking: Counter = field(default_factory=Counter)
    #: the output gates the people passed (the tracker checks a carried person with them; None: the defaults)
    plausibility: PlausibilityConfig | None = None
    #: the camera mount the floor used in this frame (None: none, or unused for assumed intrinsics);
    #: the tracker's ratios forget a mount that moved (tracking/floor_size.py)
    mount: FloorConfig | None = None

    def skip(self, person: Person2D, reason: str, head: HeadLocation | None = None) -> None:
        """Record ``person`` as skipped for ``reason`` (listed and counted), with its ``head`` if located."""
        self.skipped_people.append(SkippedPerson(np.asarray(person.box, dtype=np.float64), float(person.score),
                                                 reason, person.id, head))
        self.skipped[reason] += 1

    @property
    def head_only(self) -> list[SkippedPerson]:
        """The skipped people with a head position."""
        return [p for p in self.skipped_people if p.head is not None]


class Pose3DEstimator:
    """The cascade. Without a 2D ``estimator`` it only lifts given 2D people (:meth:`lift_people`)."""

    def __init__(self, estimator: Pose2DEstimator | None, lifter: Lifter, config: CascadeConfig = CascadeConfig()) -> None:
        self.estimator = estimator
        self.lifter = lifter
        self.reconfigure(config)

    def reconfigure(self, config: CascadeConfig) -> None:
        """Take new thresholds (e.g. a live ROS parameter change); the models stay loaded."""
        self.config = config
        self.layout = LayoutConversion(config.min_joint_score, config.head_ratio, config.hip_width_scale)
        self.rule = VisibilityRule(config.min_valid_joints, config.min_torso_joints)
        self.takes_mask = self.lifter.config.takes_mask
        #: the input gates' reasons, in the order they are checked (rows of ``_gated``'s checks)
        self.input_reasons = (REASON_LOW_SCORE, *self.rule.reasons, REASON_NO_MASK, REASON_DEGENERATE, REASON_CAMERA,
                              REASON_RAY)

    def process(self, image: np.ndarray, intrinsics: Intrinsics | None = None, boxes: np.ndarray | None = None,
                box_ids: list[str] | None = None, distortion: Distortion | None = None,
                floor: FloorConfig | None = None) -> CascadeResult:
        """Detect (or use ``boxes``), lift everyone in one batch, return absolute 3D people.

        ``box_ids`` (one per box) become the people's ``id`` so results can be traced to detections.
        ``distortion`` is the lens of a raw (unrectified) image, ``floor`` this image's camera mount
        (see :meth:`lift_people`).
        """
        if self.estimator is None:
            raise ValueError("this cascade has no 2D stage: it lifts given 2D people only (lift_people)")
        image = check_image(image)
        if box_ids is not None and (boxes is None or len(box_ids) != len(boxes)):
            raise ValueError("box_ids needs boxes and exactly one id per box")
        dropped = 0
        if boxes is not None:
            boxes, box_ids, dropped = cap_boxes(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), box_ids,
                                                self.config.plausibility.max_people)
        started = time.perf_counter()
        people, dropped_people = self.cap(self.estimator.estimate(image, boxes))
        dropped += dropped_people
        for person, box_id in zip(people, box_ids or ()):
            person.id = box_id
        detected = time.perf_counter()
        height, width = image.shape[:2]
        look = (lambda box: self.estimator.estimate(image, box[None])) if boxes is None else None
        result = self.lift_people(people, intrinsics, (width, height), distortion, look, floor)
        if dropped:  # counted only: boxes dropped before the 2D stage have no person to list
            result.skipped[REASON_CAP] += dropped
        result.timings_ms["pose2d"] = 1000 * (detected - started) + result.timings_ms.get("pose2d", 0.0)
        return result

    def lift_people(self, people: list[Person2D], intrinsics: Intrinsics | None,
                    image_size: tuple[int, int], distortion: Distortion | None = None,
                    look: Look | None = None, floor: FloorConfig | None = None) -> CascadeResult:
        """Lift 2D people from any source (the 2D stage, or external keypoints).

        With a ``distortion`` (the lens of a raw image, with ``intrinsics`` its K), the keypoints
        are undistorted before the lifter, whose geometry is that of a pinhole camera; a person
        with a keypoint outside the lens model is skipped. The people's ``keypoints_2d`` stay in
        the image's own (distorted) pixels, so they overlay on it. ``look``: the 2D stage's
        top-down look at one box (the 2D stage's people for ``box[None]``), for the second look
        (``second_look``; :meth:`process` gives it in bottom-up mode); its time is reported as
        ``timings_ms["pose2d"]``, not in ``"lift"``. ``floor``: the camera mount of this frame (e.g.
        from TF, the node's ``floor_frame``) in place of ``config.floor``; None: ``config.floor``.
        """
        started = time.perf_counter()
        assumed = intrinsics is None
        if intrinsics is None:
            intrinsics = Intrinsics.from_fov(image_size[0], image_size[1], self.config.default_hfov_deg)
        mount = self.config.floor if floor is None else floor
        result = CascadeResult([], intrinsics, assumed, plausibility=self.config.plausibility,
                               mount=mount if mount.enabled and not assumed else None)
        if people:
            lens = None if assumed else distortion
            with np.errstate(over="ignore", invalid="ignore"):  # the input may hold anything: the gates reject it
                frame = self._gated(_Frame.of(people, self.layout, self.takes_mask), intrinsics, lens,
                                    max(image_size), look, result)
            if len(frame) and lens is not None:
                frame = self._undistorted(frame, intrinsics, lens, result)
            if len(frame):
                self._lift(frame, intrinsics, result, mount)
        result.timings_ms["lift"] = 1000 * (time.perf_counter() - started) - result.timings_ms.get("pose2d", 0.0)
        return result

    def cap(self, people: list[Person2D]) -> tuple[list[Person2D], int]:
        """One frame's people, at most ``plausibility.max_people`` of them (the best scored), and
        how many were dropped. Per frame, so :meth:`lift_people` can still lift a batch of frames."""
        keep = cap_people(np.array([p.score for p in people]), self.config.plausibility.max_people)
        return [people[i] for i in keep], len(people) - len(keep)

    def _gated(self, frame: _Frame, intrinsics: Intrinsics, lens: Distortion | None, long_side: int,
               look: Look | None, result: CascadeResult) -> _Frame:
        """The people that pass the input gates, in one vectorised pass; each of the others is
        skipped under the first gate it fails (the order of ``input_reasons``, module docstring),
        those with too few joints with their head located (:meth:`_head`; ``lens``: the raw
        image's, as in :meth:`lift_people`; ``long_side``: the image's, in pixels), unless the
        second ``look`` at their box finds enough (:meth:`_second_looks`).
        Call under ``np.errstate(over="ignore", invalid="ignore")``, as :func:`.plausibility.ray_failures`."""
        camera = intrinsics.as_array()
        failed = self._failures(frame, camera)
        retry = ~failed[0] & (failed[1] | failed[2])
        if look is not None and self.config.second_look and retry.any():
            frame, failed = self._second_looks(frame, failed, look, np.flatnonzero(retry), camera, result)
        reasons = first_reasons(failed, self.input_reasons)
        too_few = self.input_reasons[1:3]  # the visibility rule's
        heads = [self._head(person, intrinsics, lens, long_side) if reason in too_few else None
                 for person, reason in zip(frame.people, reasons)] if any(reasons) else None
        return frame.drop(reasons, result, heads)

    def _failures(self, frame: _Frame, camera: np.ndarray) -> np.ndarray:
        """``(len(input_reasons), N)`` bool: row k, who fails the input gate of ``input_reasons[k]``."""
        gates = self.config.plausibility
        failed = np.empty((len(self.input_reasons), len(frame)), dtype=bool)
        failed[0] = ~(frame.person_scores >= self.config.min_person_score)  # NaN: low
        failed[1], failed[2] = self.rule.failures(frame.valid)
        failed[3] = not self.takes_mask and ~np.isfinite(frame.keypoints).all(axis=(1, 2))
        failed[4] = frame.scales() < MIN_SCALE_PERSON_PX
        failed[5] = camera_implausible(camera, gates)
        failed[6] = ray_failures(frame.keypoints, frame.used, camera, gates)
        return failed

    def _second_looks(self, frame: _Frame, failed: np.ndarray, look: Look, indices: np.ndarray, camera: np.ndarray,
                      result: CascadeResult) -> tuple[_Frame, np.ndarray]:
        """``frame`` and its gates' ``failed`` (:meth:`_failures`) with the people at ``indices``
        seen again by the top-down ``look`` at their box, each where that look passes every
        per-person input gate (keeping the person's box, score and id). At most
        ``max_second_looks`` of them, the best scored first. A look the 2D stage refuses or fails
        on (:meth:`_look`), or whose keypoints pass the lifting rule but are degenerate or off any
        plausible view, counts as failed. Counted in ``result.second_looks``, timed into
        ``result.timings_ms["pose2d"]``."""
        started = time.perf_counter()
        order = indices[np.argsort(-frame.person_scores[indices], kind="stable")]
        limit = self.config.max_second_looks
        if len(order) > limit:
            result.second_looks[LOOK_OVER_LIMIT] += len(order) - limit
        seen, looked = frame, np.zeros(len(frame), dtype=bool)
        for i in order[:limit].tolist():
            result.second_looks[LOOK_RUN] += 1
            person = self._look(look, frame.people[i])
            if person is None:
                result.second_looks[LOOK_FAILED] += 1
                continue
            keypoints, scores, valid = to_h36m17_batch([person], self.layout)
            seen, looked[i] = seen.with_person(i, keypoints[0], scores[0], valid[0], self.takes_mask), True
        again = self._failures(seen, camera)
        per_person = [k for k, reason in enumerate(self.input_reasons) if reason != REASON_CAMERA]
        better = looked & ~again[per_person].any(axis=0)
        garbage = looked & ~again[1] & ~again[2] & ~better  # enough joints, but not a usable 2D pose
        result.second_looks += Counter({LOOK_PASSED: int(better.sum()), LOOK_FAILED: int(garbage.sum())})  # > 0 only
        result.timings_ms["pose2d"] = 1000 * (time.perf_counter() - started)
        return frame.where(better, seen), np.where(better, again, failed)

    def _look(self, look: Look, person: Person2D) -> Person2D | None:
        """``person`` with the keypoints of the ``look`` at its box, or None where the 2D stage
        refuses the box (e.g. one outside the image, NaN or of zero area: ``check_boxes``'s
        ValueError), fails on it (:data:`LOOK_ERRORS`, logged at debug level), or gives anything
        but a list of one person of the first look's layout."""
        try:
            seen = look(person.box)
        except LOOK_ERRORS as error:  # counted by the caller; the person keeps its first look
            LOG.debug("second look at box %s failed: %s: %s", person.box.tolist(), type(error).__name__, error)
            return None
        if (not isinstance(seen, list) or len(seen) != 1 or not isinstance(seen[0], Person2D)
                or seen[0].skeleton.name != person.skeleton.name):
            return None
        return Person2D(seen[0].keypoints, seen[0].scores, person.box, person.score, person.skeleton, person.id)

    def _undistorted(self, frame: _Frame, intrinsics: Intrinsics, distortion: Distortion,
                     result: CascadeResult) -> _Frame:
        """The lifter's keypoints undistorted through the lens; people with a used keypoint outside
        the lens model, or whose pose undistorts to a degenerate one, are skipped."""
        undistorted = undistort_points(frame.keypoints, intrinsics, distortion)
        outside = (np.isnan(undistorted).any(axis=-1) & frame.used).any(axis=1).tolist()
        frame = replace(frame, lifted=_lifter_points(undistorted, frame.used))
        with np.errstate(invalid="ignore"):  # NaN outside the lens model
            degenerate = (frame.scales() < MIN_SCALE_PERSON_PX).tolist()
        return frame.drop([REASON_LENS if out else REASON_DEGENERATE if flat else None
                           for out, flat in zip(outside, degenerate)], result)

    def _lift(self, frame: _Frame, intrinsics: Intrinsics, result: CascadeResult, floor: FloorConfig) -> None:
        """Lift the gated people in one batch; those the output gates accept join ``result.people``
        (their roots fused with the ``floor``'s depth where it is on).

        The gates guarantee every check of :func:`.lifter.inputs.prepare_input` (observed joints
        finite, at least two of them, a 2D scale of at least a pixel on the float32 keypoints the
        lifter gets, a validated camera), so the batch goes to the network unchecked."""
        count = len(frame)
        camera = intrinsics.as_array()
        lifted = self.lifter.lift_input(LifterInput(frame.lifted, np.full((count, 4), camera, np.float32),
                                                    frame.used.astype(np.float32)))
        root_m, joints_m, relative_m = lifted.root / MM_PER_M, lifted.absolute / MM_PER_M, lifted.relative / MM_PER_M
        depth = lifted.canonical_depth / MM_PER_M
        metric = not result.intrinsics_assumed
        sources = [ROOT_LIFTER] * count
        lifter_depth = root_m[:, 2].tolist()  # before the floor moves anyone (the tracker learns the ratio)
        outcome = None
        if floor.enabled and metric:
            root_m, joints_m, depth, outcome = self._on_floor(frame, camera, root_m, relative_m, joints_m, depth, floor)
            sources = np.where(outcome == 0, ROOT_FLOOR, ROOT_LIFTER).tolist()
        elif floor.enabled:  # counted, so that a mount left unused is seen (node diagnostics, bag)
            outcome = np.full(count, FLOOR_OUTCOMES.index(FLOOR_NO_CAMERA))
        reasons = output_reasons(root_m, joints_m, self.config.plausibility)
        outcomes = [""] * count if outcome is None else [FLOOR_OUTCOMES[code] for code in outcome.tolist()]
        if outcome is not None:
            kept = np.bincount(outcome[np.array([reason is None for reason in reasons], dtype=bool)],
                               minlength=len(FLOOR_OUTCOMES))
            result.floor += Counter(dict(zip(FLOOR_OUTCOMES, kept.tolist())))
        depth = depth.tolist()
        for i, (person, reason) in enumerate(zip(frame.people, reasons)):
            if reason is not None:
                result.skip(person, reason)
                continue
            result.people.append(Person3D(
                keypoints_2d=frame.keypoints[i], scores=frame.scores[i], valid=frame.valid[i], box=person.box,
                score=person.score, joints_m=joints_m[i], root_m=root_m[i], relative_m=relative_m[i],
                canonical_depth=depth[i], metric_depth=metric, root_source=sources[i], lifter_depth_m=lifter_depth[i],
                floor_outcome=outcomes[i], id=person.id))

    def _on_floor(self, frame: _Frame, camera: np.ndarray, root_m: np.ndarray, relative_m: np.ndarray,
                  joints_m: np.ndarray, depth: np.ndarray, config: FloorConfig) -> tuple[np.ndarray, ...]:
        """The lifted people's ``root_m``, ``joints_m`` and canonical ``depth`` with each root moved
        along its own ray to its depth fused with the floor's (:mod:`.floor`, from the observed
        joints' undistorted pixels), and (N,) int outcome: 0 fused, 1 no floor estimate, 2 the two
        disagreed (the lifter's alone, the person unchanged)."""
        floor_m, sigma = floor_root_depth(frame.lifted, frame.valid, camera, relative_m, config.plane(), config)
        learned = root_m[:, 2].astype(np.float64)
        fused, used = fuse_root_depth(learned, floor_m, sigma, config)
        outcome = np.where(used, 0, np.where(np.isnan(floor_m), 1, 2))
        if not used.any():
            return root_m, joints_m, depth, outcome
        scale = np.where(used, fused / np.where(used, learned, 1.0), 1.0)
        return (*along_ray(root_m, relative_m, joints_m, depth, scale), outcome)

    def _head(self, person: Person2D, intrinsics: Intrinsics, distortion: Distortion | None,
              long_side: int) -> HeadLocation | None:
        """The head of a COCO-17 person too incomplete to lift, when ``locate_heads`` is on, the
        person passes the input gates a lifted one passes on its observed keypoints (a plausible
        camera, every ray within ``max_ray``) and the head lies within the plausibility gates'
        depths. The keypoints' noise is taken in pixels of a ``pose2d_size`` input (the bottom-up 2D
        stage's; external keypoints are assumed alike). Call as :meth:`_gated` is called."""
        if not self.config.locate_heads or person.skeleton.name != COCO17.name:
            return None
        gates, camera = self.config.plausibility, intrinsics.as_array()
        observed = person.valid(self.config.min_joint_score)
        if camera_implausible(camera, gates) or ray_failures(person.keypoints[None], observed[None], camera, gates)[0]:
            return None
        head = locate_head(person.keypoints, observed, intrinsics, distortion, self.config.min_face_keypoints,
                           long_side / self.config.pose2d_size)
        return head if head is not None and gates.min_depth_m <= head.position_m[2] <= gates.max_depth_m else None


@dataclass(frozen=True)
class _Frame:
    """A frame's people as H36M-17 arrays, while the gates thin them out (one row per person)."""

    people: list[Person2D]  # as given: their box, score and id are reported
    keypoints: np.ndarray  # (N, 17, 2) float64 pixels as converted (NaN where the 2D stage gave none)
    scores: np.ndarray  # (N, 17)
    valid: np.ndarray  # (N, 17) bool: observed
    used: np.ndarray  # (N, 17) bool: the joints the lifter takes (the observed ones; all for a lifter without a mask)
    lifted: np.ndarray  # (N, 17, 2) float32: the lifter's keypoints, 0 where not used

    @classmethod
    def of(cls, people: list[Person2D], layout: LayoutConversion, takes_mask: bool) -> _Frame:
        keypoints, scores, valid = to_h36m17_batch(people, layout)
        used = valid if takes_mask else np.ones_like(valid)
        return cls(people, keypoints, scores, valid, used, _lifter_points(keypoints, used))

    def __len__(self) -> int:
        return len(self.people)

    def with_person(self, i: int, keypoints: np.ndarray, scores: np.ndarray, valid: np.ndarray,
                    takes_mask: bool) -> _Frame:
        """This frame with person ``i``'s H36M-17 keypoints, scores and mask replaced."""
        arrays = [array.copy() for array in (self.keypoints, self.scores, self.valid)]
        for array, row in zip(arrays, (keypoints, scores, valid)):
            array[i] = row
        keypoints, scores, valid = arrays
        used = valid if takes_mask else self.used
        return _Frame(self.people, keypoints, scores, valid, used, _lifter_points(keypoints, used))

    def where(self, mask: np.ndarray, other: _Frame) -> _Frame:
        """This frame with the people of the (N,) bool ``mask`` taken from ``other`` (the same people)."""
        if not mask.any():
            return self
        rows = [np.where(mask.reshape(-1, *[1] * (mine.ndim - 1)), theirs, mine) for mine, theirs in
                zip((self.keypoints, self.scores, self.valid, self.used, self.lifted),
                    (other.keypoints, other.scores, other.valid, other.used, other.lifted))]
        return _Frame(self.people, *rows)

    @property
    def person_scores(self) -> np.ndarray:
        return np.array([person.score for person in self.people])

    def scales(self) -> np.ndarray:
        """(N,) 2D scale (eq. 4, pixels) of each person's observed joints, on the float32 keypoints
        the lifter gets: the statistic :func:`.lifter.inputs.check_keypoints` tests."""
        return observed_statistics(self.lifted.astype(np.float64), self.valid)[1]

    def drop(self, reasons: list[str | None], result: CascadeResult,
             heads: list[HeadLocation | None] | None = None) -> _Frame:
        """This frame without the people that have a reason, each skipped in ``result`` under it
        (with its entry of ``heads``, when given)."""
        if reasons.count(None) == len(reasons):
            return self
        for person, reason, head in zip(self.people, reasons, heads or [None] * len(reasons)):
            if reason is not None:
                result.skip(person, reason, head)
        ok = np.array([reason is None for reason in reasons], dtype=bool)
        return _Frame([p for p, good in zip(self.people, ok) if good], self.keypoints[ok], self.scores[ok],
                      self.valid[ok], self.used[ok], self.lifted[ok])


def _lifter_points(keypoints: np.ndarray, used: np.ndarray) -> np.ndarray:
    """(N, 17, 2) float32 keypoints for the lifter: the ``used`` joints' pixels, 0 elsewhere."""
    return np.where(used[..., None], keypoints, 0.0).astype(np.float32)
