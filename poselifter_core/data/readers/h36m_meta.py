"""Structural facts about Human3.6M (no recorded data): subjects, action ids, cameras, image sizes.

These are the numbering conventions of the dataset's own MATLAB release code, which the
PoseLifter annotation file and VideoPose3D inherit:

* action ids 2..16 name the 15 scenarios (id 1 is the release code's "all actions" entry);
* camera numbers 1..4 are the cameras with serials 54138969, 55011271, 58860488, 60457274,
  whose videos are 1000 x 1002 (cameras 1 and 4) or 1000 x 1000 pixels (cameras 2 and 3).
"""
from __future__ import annotations

SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")

#: Canonical scenario names by action id (the names of the per-action results tables).
ACTION_NAMES: dict[int, str] = {
    2: "Directions", 3: "Discussion", 4: "Eating", 5: "Greeting", 6: "Phoning", 7: "Posing",
    8: "Purchases", 9: "Sitting", 10: "SittingDown", 11: "Smoking", 12: "Photo", 13: "Waiting",
    14: "Walking", 15: "WalkDog", 16: "WalkTogether",
}

#: Alternative spellings used for subject S1's files and by some conversions.
_ACTION_ALIASES = {"TakingPhoto": "Photo", "WalkingDog": "WalkDog", "WalkingTogether": "WalkTogether"}

CAMERA_SERIALS: tuple[str, ...] = ("54138969", "55011271", "58860488", "60457274")

#: (width, height) of each camera's video in pixels.
IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "54138969": (1000, 1002), "55011271": (1000, 1000), "58860488": (1000, 1000), "60457274": (1000, 1002),
}


def subject_name(value: object) -> str:
    """``1``, ``1.0``, ``"1"``, ``b"S1"`` or ``"S1"`` -> ``"S1"``."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    text = text.strip()
    if text.upper().startswith("S"):
        text = text[1:]
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"cannot read a Human3.6M subject from {value!r}") from None
    if number != int(number) or number < 1:
        raise ValueError(f"cannot read a Human3.6M subject from {value!r}")
    return f"S{int(number)}"


def action_name(value: object) -> str:
    """An action id (2..16) or a file's action name (``"Walking 1"``, ``"TakingPhoto"``) -> canonical name.

    The trailing sub-action number of VideoPose3D's keys is dropped, so both recordings of a
    scenario share one label.
    """
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        base = value.strip().split(" ")[0]
        if not base:
            raise ValueError(f"empty Human3.6M action name {value!r}")
        return _ACTION_ALIASES.get(base, base)
    number = float(value)  # type: ignore[arg-type]
    if number != int(number) or int(number) not in ACTION_NAMES:
        raise ValueError(f"unknown Human3.6M action id {value!r}; known ids: 2..16")
    return ACTION_NAMES[int(number)]


def camera_serial(value: object) -> str:
    """A camera number 1..4 or a serial (as text) -> the camera's serial."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    if text in CAMERA_SERIALS:
        return text
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"unknown Human3.6M camera {value!r}; known: 1..4 or {CAMERA_SERIALS}") from None
    if number != int(number) or not 1 <= number <= 4:
        raise ValueError(f"unknown Human3.6M camera {value!r}; known: 1..4 or {CAMERA_SERIALS}")
    return CAMERA_SERIALS[int(number) - 1]
