"""Joint mappings as YAML: packaged files, '@' references, offset points, unit resolution, errors."""
from pathlib import Path

import numpy as np
import pytest
import yaml

from poselifter_core.mocap.mapping import (
    UNITS_MM,
    load_mapping,
    mapping_from_dict,
    mm_per_unit,
    packaged_mappings,
    z_up_to_y_up,
)
from poselifter_core.skeleton import H36M17


def _identity_table(**overrides):
    joints = {name: f"src_{i}" for i, name in enumerate(H36M17.joint_names)}
    joints.update(overrides)
    return {"name": "test", "unit": "mm", "joints": joints}


def test_packaged_mappings_load_and_cover_h36m17() -> None:
    names = packaged_mappings()
    assert {"cmu31_bvh", "cmu31_asf", "cmu31_max", "iclone_cc_base"} <= set(names)
    for name in names:
        mapping = load_mapping(name)
        assert set(mapping.joints) == set(H36M17.joint_names)
        assert mapping.source_joints()
    assert load_mapping("cmu31_bvh").rest_offsets == {"Neck": "Spine1", "LeftShoulder": "Spine1", "RightShoulder": "Spine1"}


def test_apply_means_references_and_offset_points() -> None:
    mapping = mapping_from_dict(_identity_table(
        Hip=["a", "b"], Spine=["@Hip", "@Thorax"], Thorax="c", Head={"joint": "c", "offset": [0, 0, 10]},
    ))
    names = ["a", "b", "c"] + [f"src_{i}" for i in range(17)]
    positions = np.zeros((1, len(names), 3))
    positions[0, 0], positions[0, 1], positions[0, 2] = [0, 0, 0], [2, 0, 0], [1, 4, 0]
    rotations = np.broadcast_to(np.eye(3), (1, len(names), 3, 3)).copy()
    rotations[0, 2] = [[1, 0, 0], [0, 0, -1], [0, 1, 0]]  # Rx(90): local +Z -> world -Y
    out = mapping.apply(names, positions, rotations)
    index = H36M17.index
    np.testing.assert_allclose(out[0, index("Hip")], [1, 0, 0])
    np.testing.assert_allclose(out[0, index("Spine")], [1, 2, 0])
    np.testing.assert_allclose(out[0, index("Head")], [1, -6, 0])


def test_missing_source_joint_is_named() -> None:
    mapping = mapping_from_dict(_identity_table())
    with pytest.raises(KeyError, match="src_16"):
        mapping.apply([f"src_{i}" for i in range(16)], np.zeros((1, 16, 3)), np.zeros((1, 16, 3, 3)))


def test_z_up_turns_to_y_up() -> None:
    np.testing.assert_allclose(z_up_to_y_up(np.array([1.0, 2.0, 3.0])), [1, 3, -2])


@pytest.mark.parametrize(
    "table, message",
    [
        ({"joints": {"Hip": "a"}}, "missing \\['RHip'"),
        (_identity_table(Elbow="x"), "unknown \\['Elbow'\\]"),
        ({**_identity_table(), "unit": "furlong"}, "unknown unit 'furlong'"),
        ({**_identity_table(), "up": "x"}, "up must be 'y' or 'z'"),
        ({**_identity_table(), "colour": 1}, "unknown key"),
        (_identity_table(Spine=["@Pelvis"]), "'@Pelvis' names no h36m17 joint"),
        (_identity_table(Head={"joint": "c", "offset": [1, 2]}), "offset must be three numbers"),
        (_identity_table(Head=3), "expected a joint name"),
        ([1, 2], "a mapping is a YAML mapping"),
        ({**_identity_table(), "rest_offsets": {"Neck": 3}}, "rest_offsets.Neck must be a joint name"),
    ],
)
def test_bad_mapping_tables(table, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mapping_from_dict(table)


def test_circular_references_are_reported() -> None:
    mapping = mapping_from_dict(_identity_table(Spine="@Thorax", Thorax="@Spine"))
    names = [f"src_{i}" for i in range(17)]
    with pytest.raises(ValueError, match="circular"):
        mapping.apply(names, np.zeros((1, 17, 3)), np.zeros((1, 17, 3, 3)))


def test_mapping_file_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(_identity_table()))
    assert load_mapping(path).name == "test"
    with pytest.raises(FileNotFoundError, match="no packaged mapping 'nope'"):
        load_mapping("nope")


def _adult_in(unit_mm: float) -> np.ndarray:
    """An adult-sized H36M-17 pose (bone sum ~3700 mm) expressed in the given unit."""
    rng = np.random.default_rng(0)
    joints = np.zeros((3, 17, 3))
    for child, parent in enumerate(H36M17.parents):
        if parent >= 0:
            direction = rng.normal(size=3)
            joints[:, child] = joints[:, parent] + 3700.0 / 16 * direction / np.linalg.norm(direction)
    return joints / unit_mm


@pytest.mark.parametrize("unit", ["mm", "cm", "m", "inch", "cmu"])
def test_auto_unit_recovers_the_unit(unit: str) -> None:
    assert mm_per_unit("auto", _adult_in(UNITS_MM[unit])) == UNITS_MM[unit]


def test_explicit_units() -> None:
    assert mm_per_unit("cm") == 10.0 and mm_per_unit(2.5) == 2.5
    assert mm_per_unit("file", file_mm_per_unit=56.0) == 56.0
    with pytest.raises(ValueError, match="unit 'file' needs"):
        mm_per_unit("file")
