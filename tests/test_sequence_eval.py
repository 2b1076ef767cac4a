"""poselifter evaluate-sequence on generated mocap: sequences, correlated noise, crossings, the report."""
import json
from dataclasses import replace

import numpy as np

from poselifter_core.cli import main
from poselifter_core.data.world_mocap import MocapClip, load_world_mocap
from poselifter_core.noise.error_model import default_error_model
from poselifter_core.tracking.sequences import (
    NoiseConfig,
    SequenceCamera,
    crossing_scene,
    detector_noise,
    play_clip,
    resample,
)


def test_a_clip_plays_inside_the_image_from_a_fixed_and_an_orbiting_camera(mocap_file):
    clip = load_world_mocap(mocap_file, subjects=["s1"])[0]
    camera = SequenceCamera()
    for moving in (False, True):
        sequence = play_clip(clip, 10.0, camera, moving, azimuth_deg=40.0)
        assert sequence.joints.shape == (80, 17, 3) and sequence.keypoints.shape == (80, 17, 2)  # 30 -> 10 fps
        assert np.all(sequence.joints[..., 2] > 0)
        assert np.all((sequence.keypoints >= 0) & (sequence.keypoints < [camera.width, camera.height]))
        bones = np.linalg.norm(sequence.joints[:, 1] - sequence.joints[:, 0], axis=-1)
        np.testing.assert_allclose(bones, np.linalg.norm(clip.joints[::3, 1] - clip.joints[::3, 0], axis=-1), rtol=1e-5)


def test_detector_noise_is_correlated_in_time_and_drops_joints():
    rng = np.random.default_rng(0)
    frames = 3000
    keypoints = np.tile(np.random.default_rng(1).uniform(100, 400, (1, 17, 2)), (frames, 1, 1))
    config = NoiseConfig(missing_rate=0.1)
    model = default_error_model()
    noisy, scores = detector_noise(keypoints, 30.0, replace(model, gamma=np.ones_like(model.gamma)), config, rng)
    error = (noisy - keypoints)[:, 8, 0]  # no outliers: the jitter alone
    correlation = np.corrcoef(error[1:], error[:-1])[0, 1]
    assert abs(correlation - np.exp(-1 / (30 * config.correlation_time_s))) < 0.05
    missing = scores == 0
    assert not missing[:, 0].any() and 0.07 < missing[:, 1:].mean() < 0.13
    bursts = np.diff(missing[:, 5].astype(int))
    assert missing[:, 5].sum() / max((bursts == 1).sum(), 1) > 4  # bursts of several frames, not single frames


def test_crossing_people_hide_each_other(mocap_file):
    clips = load_world_mocap(mocap_file)
    scene = crossing_scene(clips, 10.0, 10.0, SequenceCamera())
    assert scene.joints.shape[:2] == (100, 3)
    hidden = ~scene.visible
    assert hidden.any() and scene.visible.sum(axis=1).max() == 3


def test_evaluate_sequence_reports_per_frame_and_tracked(mocap_file, tmp_path):
    out = tmp_path / "report"
    assert main(["evaluate-sequence", "--set", f"mocap={mocap_file}", "--set", "split=train", "--set", "fps=[10, 30]",
                 "--set", "crossing_duration_s=6", "--backend", "onnxruntime-cpu", "--output", str(out),
                 "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())
    rows = {(r["fps"], r["camera"], r["method"]): r for r in results["clips"]}
    assert len(rows) == 2 * 2 * 2
    for fps in (10.0, 30.0):
        for camera in ("fixed", "orbiting"):
            raw, tracked = rows[fps, camera, "per-frame"], rows[fps, camera, "tracked+filtered"]
            assert raw["frames"] == tracked["frames"] > 0
            assert tracked["Accel"] < raw["Accel"] and tracked["RootJitter"] < raw["RootJitter"]
            assert np.isfinite(tracked["Lag"]) and tracked["tracker_ms_per_person"] > 0
    (crossing_10, crossing_30) = results["crossing"]
    walkers = min(3, len(load_world_mocap(mocap_file, splits=["train"])))
    assert crossing_10["people"] == walkers and crossing_10["person_frames"] > 0
    assert crossing_10["short_occlusions_bridged"] <= crossing_10["short_occlusions"] <= crossing_10["occlusions"]
    assert "| tracked+filtered |" in (out / "results.md").read_text()


def test_each_requested_rate_and_camera_gives_its_own_rows(mocap_file):
    """A rate listed twice gives two row sets (not one merged), and a combination at which no clip
    can be played still gives its rows, marked empty."""
    from poselifter_core.infer import build_cascade
    from poselifter_core.tracking.evaluation import SequenceEvalConfig, default_model, evaluate_clips

    cascade = build_cascade(backend="onnxruntime-cpu", lift_only=True)
    config = SequenceEvalConfig(mocap=str(mocap_file), split="train", fps=[10.0, 10.0], cameras=["fixed"])
    rows = evaluate_clips(cascade, config, default_model(None))
    assert [(r["fps"], r["camera"], r["method"]) for r in rows] == [(10.0, "fixed", "per-frame"),
                                                                      (10.0, "fixed", "tracked+filtered")] * 2
    assert all(r["clips"] > 0 and r["frames"] > 0 for r in rows)
    tiny = replace(config, fps=[10.0], cameras=["fixed", "orbiting"], camera=replace(config.camera, width=8, height=8))
    rows = evaluate_clips(cascade, tiny, default_model(None))  # no clip fits an 8-pixel image
    assert [(r["camera"], r["clips"], r["frames"]) for r in rows] == [("fixed", 0, 0)] * 2 + [("orbiting", 0, 0)] * 2
    assert all(np.isnan(r["MPJPE"]) and np.isnan(r["tracker_ms_per_person"]) for r in rows)


def test_clips_at_other_rates_are_interpolated():
    joints = np.zeros((11, 17, 3), np.float32)
    joints[:, :, 0] = np.arange(11)[:, None]  # moving 1 mm per frame at 20 fps
    clip = MocapClip("c", "s1", "test", 20.0, joints)
    played = resample(clip, 30.0)
    assert len(played) == 16  # 0.5 s
    np.testing.assert_allclose(played[:, 0, 0], np.arange(16) * 2 / 3)
    np.testing.assert_array_equal(resample(clip, 10.0)[:, 0, 0], np.arange(0, 11, 2))
