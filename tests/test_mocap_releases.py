"""The packaged mappings for the extra open mocap releases, on small files each test writes:
the Daz-friendly BVH (no head-top end site, cm, and a copy scaled by 1/128), the BVH with ASF bone
names, and HDM05's ASF/AMC (Vicon header, ``:units`` block, Latin-1 AMC header, CRLF lines);
plus ``--clip-pattern``, ``merge --keep-first`` and the fixed split of the HDM05 actors."""
import json
from pathlib import Path

import numpy as np
import pytest

from poselifter_core.data.world_mocap import load_world_mocap
from poselifter_core.mocap.convert import (
    ConvertedClip,
    ConvertOptions,
    convert_file,
    keep_each_recording_once,
    load_clips,
)
from poselifter_core.mocap.splits import split_for_subject
from poselifter_core.skeleton import H36M17

from conftest import run_data_cli as run_cli

CMU_MM = 25.4 / 0.45
J = H36M17.index

# Daz-friendly figure (joint, parent, offset in cm), reduced to what daz_friendly reads + the
# buttocks and eyes that the real files carry. Rotation channels in Daz's Z X Y order.
DAZ = [
    ("hip", None, (0, 0, 0)), ("abdomen", "hip", (0, 20, 0)), ("chest", "abdomen", (0, 12, 0)),
    ("neck", "chest", (0, 22, 0)), ("head", "neck", (0, 7, 0)), ("leftEye", "head", (4, 8, 8)),
    ("rCollar", "chest", (-3, 19, 0)), ("rShldr", "rCollar", (-9, -2, 0)), ("rForeArm", "rShldr", (-28, 0, 0)),
    ("rHand", "rForeArm", (-23, 0, 0)),
    ("lCollar", "chest", (3, 19, 0)), ("lShldr", "lCollar", (9, -2, 0)), ("lForeArm", "lShldr", (28, 0, 0)),
    ("lHand", "lForeArm", (23, 0, 0)),
    ("rButtock", "hip", (-9, 4, 0)), ("rThigh", "rButtock", (0, -2, 0)), ("rShin", "rThigh", (0, -37, 0)),
    ("rFoot", "rShin", (0, -40, 0)),
    ("lButtock", "hip", (9, 4, 0)), ("lThigh", "lButtock", (0, -2, 0)), ("lShin", "lThigh", (0, -37, 0)),
    ("lFoot", "lShin", (0, -40, 0)),
]

# CMU skeleton exported to BVH under ASF bone names (CMU units); lowerneck and the clavicles sit at
# 0 0 0 on the thorax joint, as in the real export that dropped the thorax bone.
ASF_NAMED = [
    ("hip", None, (0, 0, 0)),
    ("lhipjoint", "hip", (0, 0, 0)), ("lfemur", "lhipjoint", (1.5, -1.8, 0)), ("ltibia", "lfemur", (0, -7, 0)),
    ("lfoot", "ltibia", (0, -7, 0)),
    ("rhipjoint", "hip", (0, 0, 0)), ("rfemur", "rhipjoint", (-1.5, -1.8, 0)), ("rtibia", "rfemur", (0, -7, 0)),
    ("rfoot", "rtibia", (0, -7, 0)),
    ("lowerback", "hip", (0, 0, 0)), ("upperback", "lowerback", (0, 2, 0)), ("thorax", "upperback", (0, 2, 0)),
    ("lowerneck", "thorax", (0, 0, 0)), ("upperneck", "lowerneck", (0, 1.6, 0)), ("head", "upperneck", (0, 1.6, 0)),
    ("lclavicle", "thorax", (0, 0, 0)), ("lhumerus", "lclavicle", (3, 1, 0)), ("lradius", "lhumerus", (5, 0, 0)),
    ("lwrist", "lradius", (3.5, 0, 0)),
    ("rclavicle", "thorax", (0, 0, 0)), ("rhumerus", "rclavicle", (-3, 1, 0)), ("rradius", "rhumerus", (-5, 0, 0)),
    ("rwrist", "rradius", (-3.5, 0, 0)),
]


def write_bvh(path: Path, hierarchy: list, end_sites: dict[str, tuple], frames: int, frame_time: float,
              rotation_order: str = "Zrotation Yrotation Xrotation", bend: tuple[str, float] | None = None,
              scale: float = 1.0) -> None:
    """A BVH of ``hierarchy`` (offsets times ``scale``); the root glides +1 unit in X per frame and
    the ``bend`` joint turns by its angle about X (the last channel's axis is not used) from frame 1."""
    children: dict = {}
    for name, parent, _ in hierarchy:
        children.setdefault(parent, []).append(name)
    offsets = {name: np.asarray(offset, float) * scale for name, _, offset in hierarchy}
    lines, order = ["HIERARCHY"], []

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        order.append(name)
        lines.extend([f"{pad}{'ROOT' if depth == 0 else 'JOINT'} {name}", pad + "{",
                      f"{pad}  OFFSET {' '.join(f'{v:g}' for v in offsets[name])}",
                      f"{pad}  CHANNELS " + ("6 Xposition Yposition Zposition " if depth == 0 else "3 ") + rotation_order])
        for child in children.get(name, []):
            emit(child, depth + 1)
        if name in end_sites:
            end = np.asarray(end_sites[name], float) * scale
            lines.extend([pad + "  End Site", pad + "  {", f"{pad}    OFFSET {' '.join(f'{v:g}' for v in end)}", pad + "  }"])
        lines.append(pad + "}")

    emit(hierarchy[0][0], 0)
    x_column = rotation_order.split().index("Xrotation")
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {frame_time}"]
    for k in range(frames):
        values = [float(k) * scale, 90.0 * scale, 0.0]
        for name in order:
            angles = [0.0, 0.0, 0.0]
            if bend and name == bend[0] and k >= 1:
                angles[x_column] = bend[1]
            values += angles
        lines.append(" ".join(f"{v:g}" for v in values))
    path.write_text("\n".join(lines) + "\n")


def test_daz_friendly_mapping_head_top_and_centimetres(tmp_path: Path) -> None:
    path = tmp_path / "12_01.bvh"
    write_bvh(path, DAZ, {"leftEye": (1, 0, 0), "rFoot": (0, -5, 10), "lFoot": (0, -5, 10)}, 3, 1 / 120,
              "Zrotation Xrotation Yrotation", bend=("head", 90.0))
    clip = convert_file(path, ConvertOptions(fps=0, min_motion_mm=0))  # the mapping is found by joint names
    assert clip.info["mapping"] == "daz_friendly" and clip.info["mm_per_unit"] == 10.0
    joints = clip.joints
    np.testing.assert_allclose(joints[0, J("Hip")], [0, 920, 0], atol=1e-3)  # mid thighs: root 90 cm + (4 - 2) cm
    np.testing.assert_allclose(joints[0, J("RKnee")] - joints[0, J("RHip")], [0, -370, 0], atol=1e-3)
    np.testing.assert_allclose(joints[0, J("LElbow")] - joints[0, J("LShoulder")], [280, 0, 0], atol=1e-3)
    neck = [0, 900 + 200 + 120 + 220 + 70, 0]  # root, abdomen, chest, neck, head
    np.testing.assert_allclose(joints[0, J("Neck/Nose")], neck, atol=1e-3)
    # no head-top end site: Head is 10 cm up the head joint's own Y axis, so it turns with the head
    np.testing.assert_allclose(joints[0, J("Head")] - joints[0, J("Neck/Nose")], [0, 100, 0], atol=1e-3)
    np.testing.assert_allclose(joints[1, J("Head")] - joints[1, J("Neck/Nose")], [0, 0, 100], atol=1e-3)


def test_scaled_daz_copy_with_unit_override_matches_the_centimetre_file(tmp_path: Path) -> None:
    """beemsoft's copies are the same figure scaled by 1/128: --unit 1280 (mm per unit) gives the same
    joints, head-top offset included (the mapping's offset is in its own unit, cm)."""
    sites = {"leftEye": (1, 0, 0)}
    write_bvh(tmp_path / "60_01_scaled.bvh", DAZ, sites, 4, 1 / 120, "Zrotation Xrotation Yrotation",
              bend=("rShin", 40.0), scale=1 / 128)
    write_bvh(tmp_path / "60_01.bvh", DAZ, sites, 4, 1 / 120, "Zrotation Xrotation Yrotation", bend=("rShin", 40.0))
    scaled = convert_file(tmp_path / "60_01_scaled.bvh",
                          ConvertOptions(mapping="daz_friendly", unit=1280.0, fps=0, min_motion_mm=0, clip_prefix="cmu_",
                                         clip_pattern=r"^(\d+_\d+)"))
    plain = convert_file(tmp_path / "60_01.bvh", ConvertOptions(mapping="daz_friendly", fps=0, min_motion_mm=0))
    assert scaled.clip_id == "cmu_60_01" and scaled.info["mm_per_unit"] == pytest.approx(1280.0)
    np.testing.assert_allclose(scaled.joints, plain.joints, atol=1e-2)
    assert np.linalg.norm(scaled.joints[0, J("Head")] - scaled.joints[0, J("Neck/Nose")]) == pytest.approx(100.0, abs=1e-2)


def test_asf_named_bvh_is_read_at_bone_starts_and_the_thorax_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "16_01.bvh"
    write_bvh(path, ASF_NAMED, {"head": (0, 1.7, 0)}, 2, 1 / 30, bend=("ltibia", 90.0))
    clip = convert_file(path, ConvertOptions(fps=0, min_motion_mm=0))
    # it also has every joint cmu31_asf reads: the more specific mapping (with head_End) is chosen
    assert clip.info["mapping"] == "cmu31_asf_bvh" and clip.info["mm_per_unit"] == pytest.approx(CMU_MM)
    assert clip.info["source_fps"] == pytest.approx(30.0)
    joints = clip.joints / CMU_MM
    np.testing.assert_allclose(joints[0, J("LHip")] - joints[0, J("Hip")], [1.5, 0, 0], atol=1e-5)
    np.testing.assert_allclose(joints[0, J("LKnee")] - joints[0, J("LHip")], [0, -7, 0], atol=1e-5)
    np.testing.assert_allclose(joints[0, J("LWrist")] - joints[0, J("LElbow")], [3.5, 0, 0], atol=1e-5)
    # thorax joint at 2 + 2 above the hip joint's origin; lowerneck/clavicles get its offset (0, 2, 0) back
    np.testing.assert_allclose(joints[0, J("Thorax")][1] - 90.0, 2 + 2 + 2 + 1, atol=1e-5)
    np.testing.assert_allclose(joints[0, J("Neck/Nose")][1] - 90.0, 2 + 2 + 2 + 1.6 + 1.6, atol=1e-5)
    np.testing.assert_allclose(joints[0, J("Head")] - joints[0, J("Neck/Nose")], [0, 1.7, 0], atol=1e-5)
    # the knee bend turns the shin (ltibia joint = the knee) by 90 deg about X
    np.testing.assert_allclose(joints[1, J("LFoot")] - joints[1, J("LKnee")], [0, 0, -7], atol=1e-5)


HDM05_ASF = """# AST/ASF file generated using VICON BodyLanguage
# -----------------------------------------------
:version 1.10
:name VICON
:units
  mass 1.0
  length 0.45
  angle deg
:documentation
   .ast/.asf automatically generated from VICON data
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
{bones}:hierarchy
  begin
    root lhipjoint rhipjoint lowerback
    lhipjoint lfemur
    lfemur ltibia
    rhipjoint rfemur
    rfemur rtibia
    lowerback upperneck lclavicle rclavicle
    upperneck head
    lclavicle lhumerus
    lhumerus lradius
    rclavicle rhumerus
    rhumerus rradius
  end
"""

# bone, unit direction, length (ASF units); lfemur bends about its X axis
HDM05_BONES = [
    ("lhipjoint", (1, 0, 0), 1.5), ("lfemur", (0, -1, 0), 7.0), ("ltibia", (0, -1, 0), 7.0),
    ("rhipjoint", (-1, 0, 0), 1.5), ("rfemur", (0, -1, 0), 7.0), ("rtibia", (0, -1, 0), 7.0),
    ("lowerback", (0, 1, 0), 4.0), ("upperneck", (0, 1, 0), 1.5), ("head", (0, 1, 0), 1.7),
    ("lclavicle", (1, 0, 0), 3.0), ("lhumerus", (1, 0, 0), 5.0), ("lradius", (1, 0, 0), 3.5),
    ("rclavicle", (-1, 0, 0), 3.0), ("rhumerus", (-1, 0, 0), 5.0), ("rradius", (-1, 0, 0), 3.5),
]


def write_hdm05_actor(folder: Path, actor: str, frames: int = 24) -> None:
    """HDM05-style files: HDM_<actor>.asf and HDM_<actor>_<class>_001_120.amc, the AMC with a Latin-1
    ``für`` header and CRLF line ends; the left knee swings 0 -> 90 deg over the clip."""
    write_asf_amc(folder / f"HDM_{actor}.asf", folder / f"HDM_{actor}_squat1Reps_001_120.amc", frames)


def write_asf_amc(asf: Path, amc: Path, frames: int = 24, knee_deg: float = 90.0, bones: list | None = None,
                  line_end: str = "\r\n") -> None:
    """An ASF (``HDM05_BONES`` unless ``bones`` is given) and an AMC whose left knee swings from 0 to
    ``knee_deg`` over the clip, with a Latin-1 header line."""
    text = "".join(
        f"  begin\n     id {i + 1}\n     name {name}\n     direction {' '.join(map(str, d))}\n     length {length}\n"
        f"     axis 0 0 0  XYZ\n" + ("    dof rx ry rz\n    limits (-160.0 20.0)\n           (-70.0 70.0)\n"
                                   "           (-60.0 70.0)\n" if name == "lfemur" else "") + "  end\n"
        for i, (name, d, length) in enumerate(bones or HDM05_BONES))
    asf.write_text(HDM05_ASF.format(bones=text), encoding="utf-8")
    lines = ["#!OML:ASF X:\\für Bonn\\!DataBase\\c3d\\Actor.ASF", ":FULLY-SPECIFIED", ":DEGREES"]
    for k in range(frames):
        lines += [str(k + 1), "root 0 17 0 0 0 0", f"lfemur {knee_deg * k / (frames - 1):g} 0 0"]
    amc.write_bytes(line_end.join(lines).encode("latin-1") + line_end.encode())


def test_hdm05_asf_amc_units_latin1_and_actor_subjects(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for actor in ("bd", "dg", "mm"):
        write_hdm05_actor(tmp_path, actor)
    out = {}
    for actor in ("bd", "dg", "mm"):
        out[actor] = tmp_path / f"hdm05_{actor}.npz"
        assert run_cli("convert", str(tmp_path / f"HDM_{actor}_squat1Reps_001_120.amc"), "-o", str(out[actor]),
                       "--mapping", "cmu31_asf", "--asf", str(tmp_path / f"HDM_{actor}.asf"), "--fps", "20",
                       "--min-motion", "0", "--subject-prefix", "hdm05", "--subject-pattern", "^HDM_([a-z]{2})_",
                       "--licence", "HDM05, CC BY-SA 3.0") == 0
    clips = {actor: load_clips(path)[0] for actor, path in out.items()}
    info = clips["dg"].info
    assert clips["dg"].clip_id == "HDM_dg_squat1Reps_001_120"
    assert (info["subject"], info["split"], info["licence"]) == ("hdm05_dg", "test", "HDM05, CC BY-SA 3.0")
    assert (clips["mm"].info["split"], clips["bd"].info["split"]) == ("val", "train")
    # ASF ':units length 0.45' (a block of lines, after 'mass'): 25.4 / 0.45 mm per unit; 120 Hz -> 20 Hz
    assert info["mm_per_unit"] == pytest.approx(CMU_MM) and info["source_frames"] == 24 and info["frames"] == 4
    joints = clips["dg"].joints
    np.testing.assert_allclose(joints[0, J("Hip")], [0, 17 * CMU_MM, 0], atol=1e-3)
    np.testing.assert_allclose(joints[0, J("LKnee")] - joints[0, J("LHip")], [0, -7 * CMU_MM, 0], atol=1e-3)
    np.testing.assert_allclose(joints[0, J("Head")] - joints[0, J("Neck/Nose")], [0, 1.7 * CMU_MM, 0], atol=1e-3)


def test_merge_keep_first_keeps_one_version_per_recording(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    own, daz = tmp_path / "own", tmp_path / "daz"
    own.mkdir(), daz.mkdir()
    write_bvh(own / "16_01.bvh", ASF_NAMED, {"head": (0, 1.7, 0)}, 12, 1 / 120, bend=("ltibia", 60.0))
    for name, bend in (("16_01", 40.0), ("12_01", 50.0)):  # two recordings: a copy would be dropped
        write_bvh(daz / f"{name}.bvh", DAZ, {"leftEye": (1, 0, 0)}, 12, 1 / 120, "Zrotation Xrotation Yrotation",
                  bend=("rShin", bend))
    for folder in (own, daz):
        assert run_cli("convert", str(folder), "-o", str(tmp_path / f"{folder.name}.npz"), "--clip-prefix", "cmu_",
                       "--source", f"{folder.name}/repo@1") == 0
    merged = tmp_path / "merged.npz"
    with pytest.raises(ValueError, match="duplicate clip ids"):
        run_cli("merge", str(tmp_path / "own.npz"), str(tmp_path / "daz.npz"), "-o", str(merged))
    capsys.readouterr()
    assert run_cli("merge", "--keep-first", "--round-mm", "0.125", str(tmp_path / "own.npz"), str(tmp_path / "daz.npz"),
                   "-o", str(merged)) == 0
    assert "dropped cmu_16_01 from daz/repo@1" in capsys.readouterr().out
    kept = {c.clip_id: c for c in load_clips(merged)}
    assert set(kept) == {"cmu_16_01", "cmu_12_01"}
    assert kept["cmu_16_01"].info["mapping"] == "cmu31_asf_bvh" and kept["cmu_12_01"].info["mapping"] == "daz_friendly"
    # rounded to 1/8 mm: multiples of it, within half a step of the unrounded joints
    exact = {c.clip_id: c.joints for c in load_clips(tmp_path / "own.npz")}["cmu_16_01"]
    rounded = kept["cmu_16_01"].joints
    assert np.abs(rounded - exact).max() <= 0.0625 + 1e-4 and np.abs(rounded - exact).max() > 0
    np.testing.assert_array_equal(rounded * 8, np.round(rounded * 8))


def test_clip_pattern_must_match(tmp_path: Path) -> None:
    path = tmp_path / "135_06-martialArts.bvh"
    write_bvh(path, ASF_NAMED, {"head": (0, 1.7, 0)}, 2, 1 / 120)
    assert convert_file(path, ConvertOptions(clip_pattern=r"^(\d+_\d+)", clip_prefix="cmu_")).clip_id == "cmu_135_06"
    with pytest.raises(ValueError, match="does not match --clip-pattern"):
        convert_file(path, ConvertOptions(clip_pattern=r"^golf_(\d+)"))


def test_fixed_split_of_cmu_numbers_and_hdm05_actors() -> None:
    assert [split_for_subject(s) for s in ("cmu_01", "cmu_91", "cmu_05", "cmu_135", "cmu_94", "cmu_12")] == [
        "test", "test", "val", "val", "train", "train"]
    assert [split_for_subject(f"hdm05_{a}") for a in ("dg", "mm", "bd", "bk", "tr")] == [
        "test", "val", "train", "train", "test"]


def test_merge_keeps_a_relabelled_recording_once_under_the_fuller_session(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture) -> None:
    """One hosting repository calls subject 105's skeleton and trial 105_01 '91' (CRLF lines); the
    copy under 91 is dropped wherever it is listed, kept under 105 (two clips against one) and
    reported; a different recording of 105 stays."""
    short, full = tmp_path / "short", tmp_path / "full"
    short.mkdir(), full.mkdir()
    write_asf_amc(short / "91.asf", short / "91_01.amc", line_end="\r\n")
    write_asf_amc(full / "105.asf", full / "105_01.amc", line_end="\n")
    write_asf_amc(full / "105.asf", full / "105_02.amc", knee_deg=45.0, line_end="\n")
    for folder in (short, full):
        assert run_cli("convert", str(folder), "-o", str(tmp_path / f"{folder.name}.npz"), "--mapping", "cmu31_asf",
                       "--clip-prefix", "cmu_", "--min-motion", "0", "--source", f"{folder.name}/repo@1") == 0
    merged = tmp_path / "merged.npz"
    capsys.readouterr()
    assert run_cli("merge", str(tmp_path / "short.npz"), str(tmp_path / "full.npz"), "-o", str(merged)) == 0
    log = capsys.readouterr().out
    assert "dropped cmu_91_01 from short/repo@1 (91_01.amc): kept cmu_105_01: same recording" in log
    assert "kept under cmu_105, the fuller session (2 clips against 1 of cmu_91)" in log
    clips = {c.clip_id: c for c in load_clips(merged)}
    assert set(clips) == {"cmu_105_01", "cmu_105_02"} and clips["cmu_105_01"].info["split"] == "val"
    [record] = json.loads(merged.with_suffix(".json").read_text())["dropped_duplicates"]
    assert (record["clip"], record["subject"], record["kept"]) == ("cmu_91_01", "cmu_91", "cmu_105_01")
    np.testing.assert_array_equal(clips["cmu_105_01"].joints, load_clips(tmp_path / "short.npz")[0].joints)


def test_merge_keeps_the_copies_its_inputs_dropped_on_record(tmp_path: Path) -> None:
    """A copy dropped when one set was converted stays listed in dropped_duplicates of any merge of
    that set (the merge wrote only the copies it dropped itself, so rebuild.sh's final sidecar lost
    every copy a per-source convert had found)."""
    both, other = tmp_path / "both", tmp_path / "other"
    both.mkdir(), other.mkdir()
    write_asf_amc(both / "91.asf", both / "91_01.amc", line_end="\r\n")
    write_asf_amc(both / "105.asf", both / "105_01.amc", line_end="\n")
    write_asf_amc(both / "105.asf", both / "105_02.amc", knee_deg=45.0, line_end="\n")
    longer = [(name, d, 8.0 if name == "lfemur" else length) for name, d, length in HDM05_BONES]
    write_asf_amc(other / "11.asf", other / "11_01.amc", knee_deg=60.0, bones=longer)
    for folder in (both, other):
        assert run_cli("convert", str(folder), "-o", str(tmp_path / f"{folder.name}.npz"), "--mapping", "cmu31_asf",
                       "--clip-prefix", "cmu_", "--min-motion", "0", "--source", f"{folder.name}/repo@1") == 0
    [converted] = json.loads((tmp_path / "both.json").read_text())["dropped_duplicates"]
    assert (converted["clip"], converted["kept"]) == ("cmu_91_01", "cmu_105_01")
    merged = tmp_path / "merged.npz"
    assert run_cli("merge", str(tmp_path / "both.npz"), str(tmp_path / "other.npz"), "-o", str(merged)) == 0
    assert {c.clip_id for c in load_clips(merged)} == {"cmu_105_01", "cmu_105_02", "cmu_11_01"}
    assert json.loads(merged.with_suffix(".json").read_text()).get("dropped_duplicates") == [converted]


def test_a_clip_sharing_the_id_of_a_dropped_copy_but_not_its_recording_stays() -> None:
    """Two releases of trial 16_01 (different files: a choice for merge --keep-first, left alone) and
    a relabelled copy of one of them under a fuller session: only that copy's release is dropped
    (the other release of 16_01 was dropped with it, recorded as 'same recording')."""
    def clip(clip_id: str, subject: str, digest: str) -> ConvertedClip:
        return ConvertedClip(clip_id, np.zeros((1, 17, 3), np.float32), {"subject": subject, "motion_sha256": digest})

    clips = [clip("cmu_16_01", "cmu_16", "a"), clip("cmu_16_01", "cmu_16", "b"), clip("cmu_20_01", "cmu_20", "a"),
             clip("cmu_20_02", "cmu_20", "c"), clip("cmu_20_03", "cmu_20", "d")]
    kept, dropped = keep_each_recording_once(clips)
    assert [c.info["motion_sha256"] for c in kept] == ["b", "a", "c", "d"]
    assert [(d.clip.clip_id, d.clip.info["motion_sha256"], d.kept) for d in dropped] == [("cmu_16_01", "a", "cmu_20_01")]


def test_one_skeleton_in_two_splits_is_refused(tmp_path: Path) -> None:
    """A recording only the short session holds keeps its (test) label next to the same ASF under
    105 (val): the merge refuses to write that, and the loader refuses such a file."""
    for stem, knee in (("91", 30.0), ("105", 90.0)):
        write_asf_amc(tmp_path / f"{stem}.asf", tmp_path / f"{stem}_01.amc", knee_deg=knee)
    longer = [(name, d, 8.0 if name == "lfemur" else length) for name, d, length in HDM05_BONES]
    write_asf_amc(tmp_path / "11.asf", tmp_path / "11_01.amc", knee_deg=60.0, bones=longer)
    with pytest.raises(ValueError, match=r"one skeleton file \(one performer\) under subject labels in different "
                                         r"splits: .*test \['cmu_91'\]; val \['cmu_105'\]"):
        run_cli("convert", str(tmp_path), "-o", str(tmp_path / "bad.npz"), "--mapping", "cmu31_asf")
    # another performer (11: longer femur) with another recording, in test next to 105 in val: both kept
    for name in ("11_01", "105_01"):
        assert run_cli("convert", str(tmp_path / f"{name}.amc"), "-o", str(tmp_path / f"{name}.npz"), "--mapping", "cmu31_asf") == 0
    merged = tmp_path / "ok.npz"
    assert run_cli("merge", str(tmp_path / "11_01.npz"), str(tmp_path / "105_01.npz"), "-o", str(merged)) == 0
    assert [c.info["split"] for c in load_clips(merged)] == ["test", "val"]
    sidecar = json.loads(merged.with_suffix(".json").read_text())
    sidecar["clips"]["11_01"]["skeleton_sha256"] = sidecar["clips"]["105_01"]["skeleton_sha256"]
    merged.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(ValueError, match="different splits"):
        load_world_mocap(merged, splits=["train"])
