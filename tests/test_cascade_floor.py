"""The cascade with a known floor (CascadeConfig.floor, poselifter_core/floor.py): the shipped lifter
on standing people rendered by a camera at a known mount, a person whose size the lifter cannot
see; infer's mount options."""
import argparse
import json

import numpy as np
import pytest

from poselifter_core import shipped
from poselifter_core.camera import Intrinsics
from poselifter_core.cascade import (
    FLOOR_DISAGREED,
    FLOOR_FUSED,
    FLOOR_NO_CAMERA,
    FLOOR_NO_ESTIMATE,
    CascadeConfig,
    Pose3DEstimator,
)
from poselifter_core.floor import ANKLES, FloorConfig
from poselifter_core.infer import result_to_dict
from poselifter_core.lifter.runtime import LifterRuntime
from poselifter_core.pose2d.base import Person2D
from poselifter_core.skeleton import H36M17

from conftest import MOUNTED_AT as MOUNT
from conftest import MOUNTED_IMAGE as IMAGE
from conftest import MOUNTED_K, camera_view, standing_person

CAMERA = Intrinsics(*MOUNTED_K)


@pytest.fixture(scope="module")
def lifter():
    return LifterRuntime.from_onnx(shipped.ONNX, backend="onnxruntime-cpu")


def cascade(lifter, **floor) -> Pose3DEstimator:
    return Pose3DEstimator(None, lifter, CascadeConfig(floor=FloorConfig(**floor)))


def seen(size: float, distance_m: float, hidden: tuple[int, ...] = (), raised_m: float = 0.0):
    """A standing person of ``size`` (1: the mocap body) ``distance_m`` ahead of the camera at MOUNT,
    on a floor ``raised_m`` above the camera's: (camera-frame truth [m], Person2D with ``hidden``
    joints at score 0)."""
    world = standing_person(size, distance_m, swing_m=0.1) + [0.0, raised_m, 0.0]
    truth, pixels = camera_view(world, MOUNT["camera_height_m"], MOUNT["camera_pitch_deg"], MOUNT["camera_roll_deg"])
    scores = np.full(17, 0.9)
    scores[list(hidden)] = 0.0
    return truth, Person2D(pixels, scores, np.array([0.0, 0.0, 10.0, 10.0]), 0.9, H36M17)


@pytest.mark.parametrize("size", [0.8, 0.88])
def test_the_floor_fixes_the_depth_of_a_person_whose_size_the_lifter_cannot_see(lifter, size):
    """People 20 % and 12 % smaller than the training bodies: the lifter's root depth is off by 9-21 %
    (measured), the fused one by under 5 % (measured 1.5-4.5 %), the root stays on its ray and the
    relative pose is the lifter's. (A taller person than the training bodies, whom the lifter
    places too near, is kept by the far gate, floor.far_gate_sigmas: the floor's "farther" looks
    like feet on a platform.)"""
    for distance in (4.0, 7.0):
        truth, person = seen(size, distance)
        off = cascade(lifter).lift_people([person], CAMERA, IMAGE).people[0]
        result = cascade(lifter, **MOUNT).lift_people([person], CAMERA, IMAGE)
        (on,) = result.people
        error_off, error_on = (abs(p.root_m[2] / truth[0, 2] - 1) for p in (off, on))
        assert error_off > 0.08 and error_on < 0.05 and error_on < 0.3 * error_off, (distance, error_off, error_on)
        assert off.root_source == "lifter" and on.root_source == "floor" and result.floor == {FLOOR_FUSED: 1}
        scale = on.root_m[2] / off.root_m[2]
        np.testing.assert_allclose(on.root_m, off.root_m * scale, rtol=1e-6)  # along its own ray
        np.testing.assert_array_equal(on.relative_m, off.relative_m)
        np.testing.assert_allclose(on.joints_m, on.root_m + on.relative_m, atol=1e-6)
        assert on.canonical_depth == pytest.approx(off.canonical_depth * scale, rel=1e-6)
        assert on.root_m[2] == pytest.approx(on.canonical_depth * np.sqrt(CAMERA.fx * CAMERA.fy), rel=1e-5)


def test_a_person_without_an_observed_ankle_or_off_the_floor_keeps_the_lifters_depth(lifter):
    """In one batch, three people of a size the floor corrects: one with both ankles hidden (no
    floor estimate) and one on a platform 60 cm above the floor (the floor's depth, far too far,
    disagrees: gated) are exactly the floor-off output; the third, on the floor, is fused. The
    counts say which."""
    people = [seen(0.85, 5.0, hidden=ANKLES)[1], seen(0.85, 6.0, raised_m=0.6)[1], seen(0.85, 6.0)[1]]
    off = cascade(lifter).lift_people(people, CAMERA, IMAGE)
    on = cascade(lifter, **MOUNT).lift_people(people, CAMERA, IMAGE)
    assert [p.root_source for p in on.people] == ["lifter", "lifter", "floor"]
    assert on.floor == {FLOOR_NO_ESTIMATE: 1, FLOOR_DISAGREED: 1, FLOOR_FUSED: 1}
    assert [p.floor_outcome for p in on.people] == [FLOOR_NO_ESTIMATE, FLOOR_DISAGREED, FLOOR_FUSED]
    assert {p.floor_outcome for p in off.people} == {""}
    # the lifter's own depth is kept beside the fused one (the tracker learns the person's ratio from it)
    assert [p.lifter_depth_m for p in on.people] == [float(p.root_m[2]) for p in off.people]
    for a, b in zip(off.people[:2], on.people[:2]):
        for name in ("root_m", "joints_m", "relative_m"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert a.canonical_depth == b.canonical_depth
    assert on.people[2].root_m[2] != off.people[2].root_m[2]
    record = result_to_dict(on)
    assert [p["root_source"] for p in record["people"]] == ["lifter", "lifter", "floor"]
    assert record["floor"] == {"fused": 1, "no_estimate": 1, "disagreed": 1} and json.dumps(record)


def test_a_frames_own_mount_replaces_the_floor_setting(lifter):
    """``floor=`` of one call (the node's mount from TF) is used in place of ``config.floor``, for
    that call only: with the setting off it fuses as the setting would, a height of 0 turns a set
    floor off, and the next call without it is the setting's again."""
    person = seen(0.85, 6.0)[1]
    off, on = cascade(lifter), cascade(lifter, **MOUNT)
    by_setting = on.lift_people([person], CAMERA, IMAGE)
    by_frame = off.lift_people([person], CAMERA, IMAGE, floor=FloorConfig(**MOUNT))
    assert by_frame.floor == by_setting.floor == {FLOOR_FUSED: 1} and by_frame.people[0].root_source == "floor"
    np.testing.assert_array_equal(by_frame.people[0].root_m, by_setting.people[0].root_m)
    unset = on.lift_people([person], CAMERA, IMAGE, floor=FloorConfig())
    alone = off.lift_people([person], CAMERA, IMAGE)
    assert not unset.floor and unset.people[0].root_source == "lifter"
    np.testing.assert_array_equal(unset.people[0].root_m, alone.people[0].root_m)
    assert off.lift_people([person], CAMERA, IMAGE).people[0].root_source == "lifter"
    assert on.lift_people([person], CAMERA, IMAGE).floor == {FLOOR_FUSED: 1}


def test_a_lifter_without_a_mask_gets_no_floor_from_unobserved_ankles(lifter):
    """A lifter from before the mask (#18) gets every joint's pixels, low-score ankles included:
    only the observed ones may stand on the floor."""
    from dataclasses import replace

    class WithoutMask:
        config = replace(lifter.config, input_space="pixels")

        def lift_input(self, batch):
            return lifter.lift_input(batch)  # the mask is all ones: every joint is used

    legacy = Pose3DEstimator(None, WithoutMask(), CascadeConfig(floor=FloorConfig(**MOUNT)))
    hidden, shown = seen(0.85, 6.0, hidden=ANKLES)[1], seen(0.85, 6.0)[1]
    result = legacy.lift_people([hidden, shown], CAMERA, IMAGE)
    assert [p.root_source for p in result.people] == ["lifter", "floor"]
    assert result.floor == {FLOOR_NO_ESTIMATE: 1, FLOOR_FUSED: 1}


def test_floor_off_or_an_assumed_camera_is_the_lifters_output_bit_for_bit(lifter):
    """Floor off: the people are the lifter's own output (no rescaling), nothing counted. A mount
    without known intrinsics is not used either (the floor's rays need the true focal length),
    and its people are counted as such (they were not counted at all: a mount left unused was silent)."""
    people = [seen(size, 5.0)[1] for size in (0.9, 1.1)]
    keypoints = np.stack([p.keypoints for p in people]).astype(np.float32)
    raw = lifter.lift(keypoints, np.tile(CAMERA.as_array(), (2, 1)).astype(np.float32), np.ones((2, 17), np.float32))
    off = cascade(lifter).lift_people(people, CAMERA, IMAGE)
    np.testing.assert_array_equal(np.stack([p.root_m for p in off.people]), raw.root / 1000.0)
    np.testing.assert_array_equal(np.stack([p.joints_m for p in off.people]), raw.absolute / 1000.0)
    assert off.floor == {} and {p.root_source for p in off.people} == {"lifter"}
    assumed_off = cascade(lifter).lift_people(people, None, IMAGE)
    assumed_on = cascade(lifter, **MOUNT).lift_people(people, None, IMAGE)
    assert assumed_on.floor == {FLOOR_NO_CAMERA: 2} and {p.root_source for p in assumed_on.people} == {"lifter"}
    assert {p.floor_outcome for p in assumed_on.people} == {FLOOR_NO_CAMERA}
    for a, b in zip(assumed_off.people, assumed_on.people):
        np.testing.assert_array_equal(a.joints_m, b.joints_m)


def _infer_args(*argv: str) -> argparse.Namespace:
    from poselifter_core.cli import build_parser

    return build_parser("infer").parse_args(["infer", "image.png", *argv])


def test_infer_options_set_the_mount_and_a_bad_one_names_the_setting(tmp_path, capsys):
    from PIL import Image

    from poselifter_core.cli import main as cli_main
    from poselifter_core.cli.infer import cascade_config

    config = cascade_config(_infer_args("--camera-height", "1.4", "--camera-pitch", "12.5", "--camera-roll", "-3"))
    assert (config.floor.camera_height_m, config.floor.camera_pitch_deg, config.floor.camera_roll_deg) == (1.4, 12.5, -3.0)
    assert config.floor.enabled and config.floor.gate_sigmas == FloorConfig().gate_sigmas
    assert not cascade_config(_infer_args()).floor.enabled  # the default: no mount, off
    with pytest.raises(ValueError, match=r"--camera-pitch: cascade\.floor\.camera_pitch_deg must be in \[-90.0, 90.0\]"):
        cascade_config(_infer_args("--camera-height", "1.4", "--camera-pitch", "120"))
    with pytest.raises(ValueError, match=r"--camera-height: cascade\.floor\.camera_height_m must be in \[0.0, 100.0\]"):
        cascade_config(_infer_args("--camera-height", "-1"))
    for option in ("--camera-pitch", "--camera-roll"):  # silently unused without a height
        with pytest.raises(ValueError, match=f"^{option} needs --camera-height"):
            cascade_config(_infer_args(option, "10"))
    # through the command: refused before any model loads, the output folder untouched
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(tmp_path / "frame.png")
    assert cli_main(["infer", str(tmp_path / "frame.png"), "-o", str(tmp_path / "out"), "--fx", "500",
                     "--camera-height", "1.4", "--camera-roll", "95"]) == 2
    assert "--camera-roll: cascade.floor.camera_roll_deg must be in" in capsys.readouterr().err
    assert cli_main(["infer", str(tmp_path / "frame.png"), "-o", str(tmp_path / "out"), "--camera-height", "1.4"]) == 2
    assert "--camera-height needs the camera's intrinsics" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_infer_takes_the_mounts_angle_error_and_refuses_angles_without_a_height():
    """--camera-angle-error sets cascade.floor.angle_error_deg (fit-floor's fitted error reached bag
    but not infer: 53 fused / 16 disagreed of 72 people on vtest.avi in infer, 56 / 13 in bag with
    the same mount); --camera-pitch, --camera-roll or --camera-angle-error without --camera-height
    were silently ignored (the floor is off without a height)."""
    from poselifter_core.cli.infer import cascade_config

    config = cascade_config(_infer_args("--camera-height", "8", "--camera-pitch", "39", "--camera-angle-error", "2.56"))
    assert config.floor.angle_error_deg == 2.56 and config.floor.enabled
    assert cascade_config(_infer_args("--camera-height", "8")).floor.angle_error_deg == FloorConfig().angle_error_deg
    with pytest.raises(ValueError, match=r"--camera-angle-error: cascade\.floor\.angle_error_deg must be in"):
        cascade_config(_infer_args("--camera-height", "8", "--camera-angle-error", "-1"))
    with pytest.raises(ValueError, match=r"^--camera-pitch needs --camera-height \(the camera's height above the floor"):
        cascade_config(_infer_args("--camera-pitch", "20"))
    with pytest.raises(ValueError, match=r"^--camera-roll and --camera-angle-error need --camera-height"):
        cascade_config(_infer_args("--camera-roll", "3", "--camera-angle-error", "2"))
    assert not cascade_config(_infer_args("--camera-pitch", "0")).floor.enabled  # the default value: nothing to refuse


def test_the_floor_counts_only_the_people_the_output_gates_let_out(lifter):
    """A person the fused depth puts beyond plausibility.max_depth_m is skipped, not counted as
    fused: the counts are of the people published (infer's JSON, the node's people_floor_*)."""
    from poselifter_core.plausibility import PlausibilityConfig

    people = [seen(0.85, 4.0)[1], seen(0.85, 9.0)[1]]
    config = CascadeConfig(floor=FloorConfig(**MOUNT), plausibility=PlausibilityConfig(max_depth_m=6.5))
    result = Pose3DEstimator(None, lifter, config).lift_people(people, CAMERA, IMAGE)
    assert len(result.people) == 1 and result.people[0].root_source == "floor" and len(result.skipped_people) == 1
    assert result.floor == {FLOOR_FUSED: 1}


def test_infer_with_a_mount_prints_the_floor_counts_as_bag_does(tmp_path, capsys):
    """infer with --camera-height says at the end how many people the floor placed (its summary
    line is bag's), summed from the results it wrote; without a mount it says nothing of a floor."""
    from PIL import Image
    from skimage.data import astronaut

    from poselifter_core.cli import main as cli_main
    from poselifter_core.infer import frame_counts

    Image.fromarray(astronaut()).save(tmp_path / "portrait.png")  # a portrait: no ankle seen
    assert cli_main(["infer", str(tmp_path / "portrait.png"), "-o", str(tmp_path / "out"), "--fov", "60",
                     "--camera-height", "1.5", "--camera-pitch", "10", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert ("root depth from the floor: fused 0, no ankle on the floor 1, of these carried by their track's floor "
            "ratio 0, disagreed with the lifter 0 (people; root_source in results.json") in printed, printed
    assert cli_main(["infer", str(tmp_path / "portrait.png"), "-o", str(tmp_path / "plain"), "--fov", "60",
                     "--no-progress"]) == 0
    assert "root depth from the floor" not in capsys.readouterr().out
    # a video's results.jsonl: every frame's counts summed (a frame with nobody has none)
    lines = [{"frame": 0, "floor": {FLOOR_FUSED: 2, FLOOR_DISAGREED: 1}}, {"frame": 1, "floor": {}},
             {"frame": 2, "floor": {FLOOR_FUSED: 1, FLOOR_NO_ESTIMATE: 1, "carried": 1}}]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert frame_counts(tmp_path / "results.jsonl", "floor") == {FLOOR_FUSED: 3, FLOOR_DISAGREED: 1, FLOOR_NO_ESTIMATE: 1,
                                                        "carried": 1}
