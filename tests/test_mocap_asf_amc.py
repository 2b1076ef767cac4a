"""ASF/AMC reader: a known-answer two-bone chain (bone axes, dofs, root motion) and clear errors."""
from pathlib import Path

import numpy as np
import pytest

from poselifter_core.mocap.asf_amc import asf_amc_positions, parse_amc, parse_asf, read_amc, read_asf

ASF = """:version 1.10
:name tiny
:units
  mass 1.0
  length 0.5
  angle deg
:documentation
  two bones
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name upper
     direction 1 0 0
     length 2
     axis 0 0 90 XYZ
    dof rx
    limits (-180.0 180.0)
  end
  begin
     id 2
     name lower
     direction 0 1 0
     length 3
     axis 0 0 0 XYZ
    dof rx ry rz
    limits (-180 180)
           (-180 180)
           (-180 180)
  end
:hierarchy
  begin
    root upper
    upper lower
  end
"""

AMC = """:FULLY-SPECIFIED
:DEGREES
1
root 1 2 3 0 0 0
upper 0
lower 0 0 0
2
root 0 0 0 0 0 0
upper 90
lower 0 0 0
3
root 0 0 0 0 90 0
upper 0
lower 90 0 0
"""


def test_two_bone_chain_known_answer(tmp_path: Path) -> None:
    (tmp_path / "t.asf").write_text(ASF)
    (tmp_path / "t_01.amc").write_text(AMC)
    skeleton = read_asf(tmp_path / "t.asf")
    assert skeleton.mm_per_unit == pytest.approx(50.8)  # inches / 0.5
    motion = read_amc(tmp_path / "t_01.amc", skeleton)
    names, positions, _ = asf_amc_positions(skeleton, motion)
    assert names == ["root", "upper", "lower"]
    expected = [
        [[1, 2, 3], [3, 2, 3], [3, 5, 3]],  # rest: bones along their directions
        # upper's dof rx turns about its own x axis, which its axis (Rz 90) puts on world +Y
        [[0, 0, 0], [0, 0, -2], [0, 3, -2]],
        # root turned 90 deg about Y; lower bent 90 deg about x
        [[0, 0, 0], [0, 0, -2], [3, 0, -2]],
    ]
    np.testing.assert_allclose(positions, expected, atol=1e-9)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("upper 90", "upper 90 0"), "bone 'upper' has 2 values, its dofs need 1"),
        (lambda t: t.rsplit("lower", 1)[0], "truncated motion: the last frame lacks values for bone\\(s\\) \\['lower'\\]"),
        (lambda t: t.replace("upper 90", "uper 90"), "bone 'uper' is not in the skeleton"),
        (lambda t: t.replace("\n2\n", "\n4\n"), "frame 4 where frame 2 was expected"),
        (lambda t: t.replace("lower 90 0 0", "lower 90 x 0"), "non-numeric value"),
        (lambda t: ":FULLY-SPECIFIED\n", "no frames"),
    ],
)
def test_malformed_amc(edit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amc(edit(AMC), parse_asf(ASF))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.split(":hierarchy")[0], "no ':hierarchy' section"),
        (lambda t: t.replace("upper lower", "upper lowr"), "names bone 'lowr'"),
        (lambda t: t.replace("dof rx ry rz", "dof rx ry tz"), "unsupported dof"),
        (lambda t: t.replace("     length 3\n", ""), "bone 'lower' .* has no length"),
    ],
)
def test_malformed_asf(edit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_asf(edit(ASF))


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no ASF file"):
        read_asf(tmp_path / "none.asf")
