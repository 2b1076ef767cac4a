"""Conversion pipeline and ``poselifter data`` commands on BVH files the test writes."""
import json
from pathlib import Path

import numpy as np
import pytest

from poselifter_core.mocap.convert import (
    load_clips,
    motion_keep_mask,
    split_for_subject,
    subsample_indices,
)
from poselifter_core.skeleton import H36M17

from conftest import run_data_cli as run_cli

CMU_MM = 25.4 / 0.45

# A reduced CMU-BVH-named skeleton (the joints the packaged cmu31_bvh mapping reads), CMU units.
HIERARCHY = [
    # name, parent, offset
    ("Hips", None, (0, 0, 0)),
    ("LeftUpLeg", "Hips", (1.5, -1.8, 0)), ("LeftLeg", "LeftUpLeg", (0, -7, 0)), ("LeftFoot", "LeftLeg", (0, -7, 0)),
    ("RightUpLeg", "Hips", (-1.5, -1.8, 0)), ("RightLeg", "RightUpLeg", (0, -7, 0)), ("RightFoot", "RightLeg", (0, -7, 0)),
    ("Spine1", "Hips", (0, 4, 0)),
    # zero offsets, as in the real release that dropped the thorax bone (the mapping restores it)
    ("LeftShoulder", "Spine1", (0, 0, 0)), ("RightShoulder", "Spine1", (0, 0, 0)), ("Neck", "Spine1", (0, 0, 0)),
    ("LeftArm", "LeftShoulder", (3, 1, 0)), ("LeftForeArm", "LeftArm", (5, 0, 0)), ("LeftHand", "LeftForeArm", (3.5, 0, 0)),
    ("RightArm", "RightShoulder", (-3, 1, 0)), ("RightForeArm", "RightArm", (-5, 0, 0)), ("RightHand", "RightForeArm", (-3.5, 0, 0)),
    ("Head", "Neck", (0, 3, 0)),
]


def write_cmu_like_bvh(path: Path, frames: int = 40, knee_from: int = 20) -> None:
    """120 fps; the body glides along +X one unit per frame; the left knee bends 30 deg from
    frame ``knee_from`` on."""
    children: dict[str | None, list[str]] = {}
    for name, parent, _ in HIERARCHY:
        children.setdefault(parent, []).append(name)
    offsets = {name: offset for name, _, offset in HIERARCHY}
    lines = ["HIERARCHY"]

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if depth == 0 else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {' '.join(map(str, offsets[name]))}")
        channels = "6 Xposition Yposition Zposition Zrotation Yrotation Xrotation" if depth == 0 else "3 Zrotation Yrotation Xrotation"
        lines.append(f"{pad}  CHANNELS {channels}")
        for child in children.get(name, []):
            emit(child, depth + 1)
        if name == "Head":
            lines.extend([pad + "  End Site", pad + "  {", pad + "    OFFSET 0 1.8 0", pad + "  }"])
        lines.append(pad + "}")

    emit("Hips", 0)
    order = []

    def walk(name: str) -> None:
        order.append(name)
        for child in children.get(name, []):
            walk(child)

    walk("Hips")
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0083333"]
    for k in range(frames):
        values = [float(k), 16.0, 0.0]
        for name in order:
            values += [0.0, 0.0, 30.0 if (name == "LeftLeg" and k >= knee_from) else 0.0]
        lines.append(" ".join(f"{v:g}" for v in values))
    path.write_text("\n".join(lines) + "\n")


def test_subsample_indices_known_answers() -> None:
    np.testing.assert_array_equal(subsample_indices(10, 120, 30), [0, 4, 8])
    np.testing.assert_array_equal(subsample_indices(7, 60, 30), [0, 2, 4, 6])
    np.testing.assert_array_equal(subsample_indices(5, 30, 30), np.arange(5))
    np.testing.assert_array_equal(subsample_indices(5, 120, 0), np.arange(5))
    np.testing.assert_array_equal(subsample_indices(10, 100, 30), [0, 3, 6])  # 0.1 s is past the last frame
    np.testing.assert_array_equal(subsample_indices(11, 100, 30), [0, 3, 6, 10])


def test_motion_keep_mask_is_root_relative_and_greedy() -> None:
    joints = np.zeros((6, 17, 3))
    joints[:, :, 0] += np.arange(6)[:, None] * 1000.0  # whole body glides 1 m per frame: no pose change
    joints[:, 3, 1] = [0, 4, 8, 12, 30, 31]  # one joint creeps
    keep = motion_keep_mask(joints, min_motion_mm=10.0)
    # kept: 0; 2 (8 mm since 0? no) -> 3 (12 mm since 0) ; 4 (18 mm since 3); 5 is 1 mm from 4
    np.testing.assert_array_equal(keep, [True, False, False, True, True, False])
    assert motion_keep_mask(joints, 0.0).all()


def test_split_rule() -> None:
    assert [split_for_subject(s) for s in ("cmu_01", "cmu_11", "cmu_141", "cmu_05", "cmu_15", "cmu_02", "cmu_143")] == [
        "test", "test", "test", "val", "val", "train", "train"]
    assert split_for_subject("other_7") in ("train", "val", "test")
    assert split_for_subject("other_7") == split_for_subject("other_7")


def test_convert_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, knee_from in (("86_02", 20), ("15_01", 16), ("21_03", 24)):  # three recordings, not one thrice
        write_cmu_like_bvh(raw / f"{name}.bvh", knee_from=knee_from)
    out = tmp_path / "set" / "mocap.npz"
    assert run_cli("convert", str(raw), "-o", str(out), "--source", "me/repo@abc", "--licence", "cmu") == 0
    assert "3 clips, 6 frames" in capsys.readouterr().out
    with np.load(out) as npz:
        assert set(npz.files) == {"86_02", "15_01", "21_03", "joint_names", "parents"}
        assert tuple(npz["joint_names"]) == H36M17.joint_names
        assert tuple(npz["parents"]) == H36M17.parents
        joints = npz["86_02"]
    meta = json.loads(out.with_suffix(".json").read_text())
    info = meta["clips"]["86_02"]
    assert (info["subject"], info["split"], info["fps"], info["source_frames"], info["frames"]) == ("cmu_86", "train", 30.0, 40, 2)
    assert info["mapping"] == "cmu31_bvh" and info["source"] == "me/repo@abc" and "CMU" in info["licence"]
    assert meta["clips"]["15_01"]["split"] == "val" and meta["clips"]["21_03"]["split"] == "test"
    assert meta["units"] == "mm" and meta["joint_order"] == list(H36M17.joint_names)
    # 120 -> 30 fps keeps frames 0,4,...,36; the knee bends at 20: frames 0 and 20 survive the motion filter
    assert joints.shape == (2, 17, 3)
    hip = H36M17.index
    np.testing.assert_allclose(joints[0, hip("Hip")], np.array([0.0, 16.0 - 1.8, 0.0]) * CMU_MM, atol=1e-3)
    np.testing.assert_allclose(joints[1, hip("Hip")], np.array([20.0, 16.0 - 1.8, 0.0]) * CMU_MM, atol=1e-3)
    np.testing.assert_allclose(joints[0, hip("Head")] - joints[0, hip("Neck/Nose")], [0, 1.8 * CMU_MM, 0], atol=1e-3)
    # the restored thorax: Neck sits one Spine1 offset (4 units) above Spine1, the head joint 3 above that
    np.testing.assert_allclose(joints[0, hip("Neck/Nose")] - joints[0, hip("Hip")], [0, (1.8 + 4 + 4 + 3) * CMU_MM, 0], atol=1e-3)
    thigh = np.linalg.norm(joints[:, hip("RKnee")] - joints[:, hip("RHip")], axis=-1)
    np.testing.assert_allclose(thigh, 7 * CMU_MM, atol=1e-3)
    assert info["bone_mean"][1] == pytest.approx(7 * CMU_MM, abs=0.1)
    # the bent left knee: foot swings 30 deg about X
    shin = joints[1, hip("LFoot")] - joints[1, hip("LKnee")]
    np.testing.assert_allclose(shin / np.linalg.norm(shin), [0, -np.cos(np.pi / 6), -np.sin(np.pi / 6)], atol=1e-6)

    # all frames without the motion filter; merge and info
    out2 = tmp_path / "all.npz"
    assert run_cli("convert", str(raw / "86_02.bvh"), "-o", str(out2), "--min-motion", "0", "--clip-prefix", "x_") == 0
    assert load_clips(out2)[0].joints.shape == (10, 17, 3)
    merged = tmp_path / "merged.npz"
    capsys.readouterr()
    assert run_cli("merge", str(out), str(out2), "-o", str(merged)) == 0
    # x_86_02 is the same file converted with other settings: the same recording, kept once (the first listed)
    assert "dropped x_86_02 from  (86_02.bvh): kept 86_02: same recording" in capsys.readouterr().out
    assert sorted(c.clip_id for c in load_clips(merged)) == ["15_01", "21_03", "86_02"]
    assert run_cli("info", str(merged)) == 0
    table = capsys.readouterr().out
    assert "| me/repo@abc | 3 | 3 | 6 |" in table and "| test | 1 | 1 | 2 | cmu_21 |" in table


def test_convert_errors(tmp_path: Path) -> None:
    bad = tmp_path / "01_01.bvh"
    write_cmu_like_bvh(bad)
    bad.write_text(bad.read_text().replace("Frames: 40", "Frames: 41"))
    with pytest.raises(ValueError, match="truncated motion"):
        run_cli("convert", str(bad), "-o", str(tmp_path / "o.npz"))
    good = tmp_path / "g" / "walk.bvh"
    good.parent.mkdir()
    write_cmu_like_bvh(good)
    with pytest.raises(ValueError, match="cannot tell the subject"):
        run_cli("convert", str(good), "-o", str(tmp_path / "o.npz"))
    assert run_cli("convert", str(good), "-o", str(tmp_path / "o.npz"), "--subject", "lab_3") == 0
    with pytest.raises(ValueError, match="duplicate clip ids"):
        run_cli("merge", str(tmp_path / "o.npz"), str(tmp_path / "o.npz"), "-o", str(tmp_path / "m.npz"))
    with pytest.raises(FileNotFoundError, match="no motion file or folder"):
        run_cli("convert", str(tmp_path / "none.bvh"), "-o", str(tmp_path / "o.npz"))
    assert run_cli("convert", str(bad), str(good), "-o", str(tmp_path / "k.npz"), "--subject", "lab_3", "--keep-going") == 1
    assert [c.clip_id for c in load_clips(tmp_path / "k.npz")] == ["walk"]
