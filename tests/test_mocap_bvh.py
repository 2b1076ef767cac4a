"""BVH reader and forward kinematics: known answers on hand-built files, and malformed-file errors."""
from pathlib import Path

import numpy as np
import pytest

from poselifter_core.mocap.bvh import parse_bvh, read_bvh
from poselifter_core.mocap.kinematics import euler_to_matrix

TWO_BONE = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 4 Xposition Yposition Zposition Zrotation
  JOINT a
  {
    OFFSET 0 10 0
    CHANNELS 1 Zrotation
    End Site
    {
      OFFSET 0 5 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.025
0 0 0 0 0
1 2 3 90 90
"""


def test_two_bone_chain_known_answer(tmp_path: Path) -> None:
    path = tmp_path / "chain.bvh"
    path.write_text(TWO_BONE)
    clip = read_bvh(path)
    assert clip.names == ["root", "a", "a_End"]
    assert clip.parents == [-1, 0, 1]
    assert clip.fps == pytest.approx(40.0)
    names, positions, _ = clip.global_transforms()
    # rest: straight up the Y axis
    np.testing.assert_allclose(positions[0], [[0, 0, 0], [0, 10, 0], [0, 15, 0]], atol=1e-9)
    # root at (1,2,3) turned 90 deg about Z sends +Y to -X; the joint turns another 90 deg: +Y -> -Y
    np.testing.assert_allclose(positions[1], [[1, 2, 3], [-9, 2, 3], [-9, -3, 3]], atol=1e-9)


def _one_joint(channels: str, values: str) -> str:
    count = len(channels.split())
    return (
        "HIERARCHY\nROOT r\n{\n OFFSET 0 0 0\n CHANNELS %d %s\n End Site\n {\n  OFFSET 0 0 1\n }\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.01\n%s\n" % (count, channels, values)
    )


def test_euler_order_as_written() -> None:
    # Xrotation Yrotation: R = Rx(90) Ry(90); (0,0,1) -> Ry -> (1,0,0) -> Rx -> (1,0,0)
    xy = parse_bvh(_one_joint("Xrotation Yrotation", "90 90")).global_transforms()[1]
    np.testing.assert_allclose(xy[0, 1], [1, 0, 0], atol=1e-9)
    # Yrotation Xrotation: R = Ry(90) Rx(90); (0,0,1) -> Rx -> (0,-1,0) -> Ry -> (0,-1,0)
    yx = parse_bvh(_one_joint("Yrotation Xrotation", "90 90")).global_transforms()[1]
    np.testing.assert_allclose(yx[0, 1], [0, -1, 0], atol=1e-9)


def test_euler_to_matrix_matches_axis_products() -> None:
    rz = euler_to_matrix(np.array([90.0]), "Z")
    np.testing.assert_allclose(rz @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    r = euler_to_matrix(np.array([30.0, -40.0, 75.0]), "ZYX")
    expected = euler_to_matrix(np.array([30.0]), "Z") @ euler_to_matrix(np.array([-40.0]), "Y") @ euler_to_matrix(np.array([75.0]), "X")
    np.testing.assert_allclose(r, expected, atol=1e-12)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)


def test_position_channels_on_a_child_replace_its_offset() -> None:
    text = (
        "HIERARCHY\nROOT r\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n"
        " JOINT c\n {\n  OFFSET 0 10 0\n  CHANNELS 3 Xposition Yposition Zposition\n  End Site\n  {\n   OFFSET 1 0 0\n  }\n }\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.01\n5 0 0 0 20 0\n"
    )
    _, positions, _ = parse_bvh(text).global_transforms()
    np.testing.assert_allclose(positions[0], [[5, 0, 0], [5, 20, 0], [6, 20, 0]])


def test_only_needed_joints_and_their_ancestors_are_computed() -> None:
    names, positions, _ = parse_bvh(TWO_BONE).global_transforms(["a"])
    assert names == ["root", "a"] and positions.shape == (2, 2, 3)
    with pytest.raises(KeyError, match="no joint 'b'"):
        parse_bvh(TWO_BONE).global_transforms(["b"])


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("1 2 3 90 90\n", "1 2 3\n"), "truncated motion: the last frame has 3 of 5 values"),
        (lambda t: t.replace("CHANNELS 1 Zrotation", "CHANNELS 1 Wrotation"), "unknown channel 'Wrotation'"),
        (lambda t: t.replace("Frames: 2", "Frames: 1"), "frame count mismatch: 'Frames: 1' but 2 frames present"),
        (lambda t: t.replace("Frames: 2", "Frames: 3"), "truncated motion: 'Frames: 3' but only 2 frames present"),
        (lambda t: t.replace("0 0 0 0 0\n", "0 0 0 0\n"), r"chain.bvh:19: frame 0 has 4 values"),
        (lambda t: t.replace("CHANNELS 1 Zrotation", "CHANNELS 2 Zrotation"), "'CHANNELS <n> <names...>'"),
        (lambda t: t.replace("OFFSET 0 10 0", "OFFSET 0 10"), "expected 'OFFSET x y z'"),
        (lambda t: t.split("MOTION")[0], "file ended while expecting MOTION"),
        (lambda t: t.replace("HIERARCHY", "HIERARCHX"), "not a BVH file"),
        (lambda t: t.replace("1 2 3 90 90", "1 2 x 90 90"), "non-numeric value"),
    ],
)
def test_malformed_files_raise_clear_errors(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "chain.bvh"
    path.write_text(edit(TWO_BONE))
    with pytest.raises(ValueError, match=message):
        read_bvh(path)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="no BVH file"):
        read_bvh("/nonexistent/x.bvh")


def test_rest_offsets_restore_a_dropped_bone() -> None:
    text = (
        "HIERARCHY\nROOT r\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n"
        " JOINT back\n {\n  OFFSET 0 2 0\n  CHANNELS 1 Zrotation\n"
        "  JOINT neck\n  {\n   OFFSET 0 0 0\n   CHANNELS 1 Zrotation\n   End Site\n   {\n    OFFSET 0 1 0\n   }\n  }\n }\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.01\n0 0 0 90 0\n"
    )
    clip = parse_bvh(text)
    clip.set_rest_offsets({"neck": "back"})
    _, positions, _ = clip.global_transforms()
    # neck now sits a copy of back's offset further along back's rotated frame (+Y -> -X)
    np.testing.assert_allclose(positions[0], [[0, 0, 0], [0, 2, 0], [-2, 2, 0], [-3, 2, 0]], atol=1e-9)
    with pytest.raises(KeyError, match="'spine'"):
        clip.set_rest_offsets({"neck": "spine"})
