"""Hostile external 2D people (COCO-17, as a Keypoints2DArray carries them) for the soak and the
tests, and the check of what the cascade makes of them.

Each frame holds a plain body and 1-5 hostile people drawn from :data:`KINDS`: a face with no
body (a head-only person), a face with NaN or infinite coordinates, a face at or beyond an image
corner, a face under a pixel or thousands of pixels wide, a face over a body of low scores,
scores that are NaN, negative or above 1, an exact duplicate of a person of the frame, and whole
bodies at one pixel, a few pixels tall, tens of image widths tall or off any plausible view.
:func:`output_problems` lists every non-finite or implausible depth in a result: the lifted
people's joints and roots, and the head-only positions with their depth intervals.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np

from ..cascade import CascadeResult
from ..plausibility import PlausibilityConfig
from ..pose2d.base import Person2D
from ..rosmsg.inputs import people_from_keypoints

#: A standing person about 190 px tall facing the camera, COCO-17 order, centred on the origin.
BODY_PX = np.array([[50, 20], [54, 16], [46, 16], [58, 18], [42, 18], [65, 45], [35, 45], [70, 80], [30, 80],
                    [72, 110], [28, 110], [60, 115], [40, 115], [60, 160], [40, 160], [60, 205], [40, 205]],
                   float) - [50.0, 112.5]
FACE = np.arange(5)  # nose, eyes, ears
#: Whole bodies of hostile sizes: their scale against :data:`BODY_PX`.
BODY_SCALES = {"body at one pixel": 0.0, "tiny body": 0.02, "huge body": 30.0, "body off any view": 1e6}
KINDS = ("face only", "face NaN", "face inf", "face at a corner", "tiny face", "huge face", "face over a low body",
         "hostile scores", "duplicate", *BODY_SCALES)


@dataclass
class RawPerson:
    """One person as an external 2D detector would send it (anything may be wrong with it)."""

    kind: str
    xy: np.ndarray  # (17, 2) pixels; missing joints (score 0) at 0
    scores: np.ndarray  # (17,)
    box: np.ndarray  # (4,) x1, y1, x2, y2; all zero: the receiver takes the keypoints' bounds
    score: float
    id: str


def _person(kind: str, centre: np.ndarray, scale: float, scores: np.ndarray, rng: np.random.Generator,
            index: int) -> RawPerson:
    seen = scores > 0
    xy = np.where(seen[:, None], BODY_PX * scale + centre, 0.0)
    bounds = np.concatenate([xy[seen].min(0), xy[seen].max(0)]) if seen.any() else np.zeros(4)
    box = np.zeros(4) if rng.random() < 0.5 else bounds
    return RawPerson(kind, xy, scores, box, float(rng.uniform(0.2, 1.0)), f"{kind.replace(' ', '_')}{index}")


def hostile_frame(rng: np.random.Generator, image_size: tuple[int, int] = (640, 480)) -> list[RawPerson]:
    """A plain body and 1-5 hostile people (:data:`KINDS`, drawn at random)."""
    width, height = image_size
    centre = lambda: rng.uniform([0.2 * width, 0.3 * height], [0.8 * width, 0.7 * height])  # noqa: E731
    face_scores = np.where(np.isin(np.arange(17), FACE), 0.9, 0.0)
    people = [_person("body", centre(), rng.uniform(0.6, 1.8), np.full(17, 0.8), rng, 0)]
    for index, kind in enumerate(rng.choice(KINDS, size=rng.integers(1, 6)).tolist(), start=1):
        scale, where, scores = rng.uniform(0.5, 2.0), centre(), face_scores.copy()
        if kind == "duplicate":
            people.append(replace(people[int(rng.integers(len(people)))], kind=kind))  # the same data and id
            continue
        if kind == "face at a corner":
            where = np.array([width - 1, height - 1]) * rng.integers(0, 2, 2) + rng.uniform(-40.0, 40.0, 2)
            where -= BODY_PX[0] * scale  # the nose at the corner
        elif kind == "tiny face":
            scale = rng.choice([0.0, 1e-3, 0.02])
        elif kind == "huge face":
            scale = rng.choice([30.0, 300.0, 1e6])
        elif kind == "face over a low body":
            scores[5:] = rng.uniform(0.01, 0.29, 12)
        elif kind == "hostile scores":
            scores[FACE] = rng.choice([np.nan, -1.0, 1.5, 0.9], 5)
        elif kind in BODY_SCALES:
            scores[:], scale = 0.8, BODY_SCALES[kind]
        person = _person(kind, where, scale, scores, rng, index)
        if kind in ("face NaN", "face inf"):
            bad = rng.random(5) < 0.5
            bad[int(rng.integers(5))] = True
            value = np.nan if kind == "face NaN" else rng.choice([np.inf, -np.inf, 1e308])
            person.xy[FACE[bad], int(rng.integers(2))] = value
        people.append(person)
    return people


def as_people(raw: list[RawPerson]) -> tuple[list[Person2D], dict[str, int]]:
    """What the node's keypoints mode makes of ``raw`` (:func:`.rosmsg.inputs.people_from_keypoints`):
    the 2D people and the count of people dropped, by reason."""
    message = SimpleNamespace(people=[SimpleNamespace(
        id=p.id, layout="coco17", score=p.score, box=p.box,
        keypoints=[SimpleNamespace(x=x, y=y, score=s) for (x, y), s in zip(p.xy.tolist(), p.scores.tolist())])
        for p in raw])
    people, dropped = people_from_keypoints(message)
    return people, dict(dropped)


def output_problems(result: CascadeResult, gates: PlausibilityConfig = PlausibilityConfig()) -> list[str]:
    """Every non-finite or implausible depth in ``result``: a lifted person with a non-finite
    joint, a root outside the gates' depths or a joint behind the camera; a head-only position not
    finite, outside the gates' depths or off any plausible view (its ray beyond ``max_ray``), or a
    depth interval that is not finite and positive or does not hold the position's depth."""
    problems = []
    for person in result.people:
        if not (np.isfinite(person.joints_m).all() and np.isfinite(person.root_m).all()):
            problems.append(f"{person.id}: non-finite joints")
        elif not gates.min_depth_m <= person.root_m[2] <= gates.max_depth_m or (person.joints_m[:, 2] <= 0).any():
            problems.append(f"{person.id}: root depth {person.root_m[2]:.3g} m or a joint behind the camera")
    for skipped in result.head_only:
        head = skipped.head
        low, high = head.depth_range_m
        depth = head.position_m[2]
        if not (np.isfinite(head.position_m).all() and gates.min_depth_m <= depth <= gates.max_depth_m
                and (np.abs(head.position_m[:2] / depth) <= gates.max_ray).all()):
            problems.append(f"{skipped.id}: head at {head.position_m.tolist()}")
        elif not (np.isfinite([low, high, head.depth_log_std]).all() and 0 < low <= depth <= high):
            problems.append(f"{skipped.id}: head depth {depth:.3g} m, interval {low:.3g}-{high:.3g} m")
    return problems
