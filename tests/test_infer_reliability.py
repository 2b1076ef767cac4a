"""``poselifter infer`` under hostile input (issue #13 rows 5, 7-11, 15): one-line errors that name
the file, skipped files that do not stop the run, results that survive."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut

from poselifter_core.cli import main
from poselifter_core.infer import CameraSpec

BACKEND = ["--backend", "onnxruntime-cpu", "--no-progress"]


def fails(capsys, *args: str) -> str:
    """Run ``poselifter`` expecting rc 2 and a one-line error; return that line."""
    assert main([*map(str, args)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"poselifter {args[0]}: error: "), err
    return err[0]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Two good photos, a truncated JPEG and a 15000x15000 PNG (a decompression bomb: 30 kB on disk)."""
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(astronaut()).save(folder / "a_good.jpg")
    Image.fromarray(astronaut()[:, ::-1]).save(folder / "c_good.png")
    data = (folder / "a_good.jpg").read_bytes()
    (folder / "b_truncated.jpg").write_bytes(data[: len(data) // 3])
    Image.new("1", (15000, 15000)).save(folder / "d_bomb.png")
    Image.new("1", (9000, 9000)).save(folder / "e_large.png")  # under Pillow's own limit, over ours
    return folder


def test_a_bad_file_among_good_ones_is_skipped_and_results_survive(photos, tmp_path, capsys, caplog):
    """Rows 5 and 7: a truncated JPEG stopped the run (rc 2) and lost results.json; a 15000x15000
    image was a DecompressionBombError traceback."""
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        assert main(["infer", str(photos), "-o", str(out), "--fx", "500", *BACKEND]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results) == ["a_good.jpg", "b_truncated.jpg", "c_good.png", "d_bomb.png", "e_large.png"]
    assert "people" in results["a_good.jpg"] and "people" in results["c_good.png"]
    assert "b_truncated.jpg" in results["b_truncated.jpg"]["error"]
    assert "decompression bomb" in results["d_bomb.png"]["error"]
    assert "9000x9000 = 81 megapixels, more than the 67 allowed" in results["e_large.png"]["error"]
    assert sorted(p.name for p in out.glob("*.png")) == ["a_good_2d.png", "a_good_3d.png", "c_good_2d.png",
                                                           "c_good_3d.png"]
    assert "3 of 5 images skipped" in caplog.text
    # Row 11: a second run into the same folder says it replaces the earlier results.
    (photos / "c_good.png").rename(tmp_path / "moved.png")
    try:
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert main(["infer", str(photos / "a_good.jpg"), "-o", str(out), *BACKEND]) == 0
    finally:
        (tmp_path / "moved.png").rename(photos / "c_good.png")
    assert "replacing the earlier results in" in caplog.text
    assert list(json.loads((out / "results.json").read_text())) == ["a_good.jpg"]
    assert sorted(p.name for p in out.glob("*.png")) == ["a_good_2d.png", "a_good_3d.png"]  # no stale pictures
    assert json.loads((out / "run.json").read_text())["command"][2] == str(photos / "a_good.jpg")  # nor record


def test_output_and_option_errors_come_before_the_models_and_name_the_file(photos, tmp_path, capsys):
    """Rows 8, 10 and 15."""
    image = photos / "a_good.jpg"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "cannot write to the output folder" in fails(capsys, "infer", image, "-o", blocker / "out")
    assert "cannot write to the output folder" in fails(capsys, "infer", image, "-o", blocker)
    assert "--cx/--cy need --fx" in fails(capsys, "infer", image, "--cx", "100", "--cy", "50")
    assert "--cx needs --fx" in fails(capsys, "infer", image, "--cx", "100", "--fov", "60")
    assert "--fx must be a finite number" in fails(capsys, "infer", image, "--fx", "inf")
    boxes = tmp_path / "boxes.json"
    boxes.write_text("{not json")
    assert f"boxes file {boxes} is not readable JSON" in fails(capsys, "infer", image, "--boxes", boxes)
    boxes.write_text("3")
    assert f"boxes file {boxes} must hold" in fails(capsys, "infer", image, "--boxes", boxes)
    description = tmp_path / "model.yaml"
    description.write_text("model: [unclosed\n")
    assert f"{description} is not readable YAML" in fails(capsys, "infer", image, "--pose2d", description)
    assert f"no boxes file at {tmp_path / 'missing.json'}" in fails(capsys, "infer", image, "--boxes",
                                                                      tmp_path / "missing.json")
    # Boxes keyed by other names, or for a video, are errors before any model loads (no lifter at none.pt).
    boxes.write_text(json.dumps({"other.jpg": [[0, 0, 10, 10]]}))
    no_lifter = ["--lifter", tmp_path / "none.pt"]
    assert "--boxes names no input image" in fails(capsys, "infer", image, "--boxes", boxes, *no_lifter)
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert "not videos" in fails(capsys, "infer", tmp_path / "clip.mp4", "--boxes", boxes, *no_lifter)
    # Settings out of the range the node would refuse (a 7th face keypoint never comes: no head was ever located)
    assert "--min-face-keypoints: cascade.min_face_keypoints must be in [3, 5], got 7" in fails(
        capsys, "infer", image, "--min-face-keypoints", "7", *no_lifter)  # the option given, and the setting
    assert "--max-second-looks: cascade.max_second_looks must be in [0, 20], got -1" in fails(
        capsys, "infer", image, "--max-second-looks", "-1", *no_lifter)
    assert "--pose2d-extra-size: cascade.pose2d_extra_size must be a multiple of 32, got 100" in fails(
        capsys, "infer", image, "--pose2d-extra-size", "100", *no_lifter)
    assert "--max-frames must be at least 1" in fails(capsys, "infer", image, "--max-frames", "0", *no_lifter)
    (tmp_path / "tracking.yaml").write_text("tracker: {max_speed_mps: 0}\n")
    assert "tracker.max_speed_mps must be in [0.1, 20.0], got 0" in fails(
        capsys, "infer", image, "--tracking-config", tmp_path / "tracking.yaml", *no_lifter)
    (tmp_path / "tracking.yaml").write_text("tracker: {max_speed_mps: fast}\n")  # a TypeError traceback before
    assert "tracker.max_speed_mps must be a number, got 'fast'" in fails(
        capsys, "infer", image, "--tracking-config", tmp_path / "tracking.yaml", *no_lifter)


def test_principal_point_outside_the_image_is_a_skip_with_a_reason():
    """Row 10: --cx 1e30 failed inside the plotting code."""
    with pytest.raises(ValueError, match=r"principal point \(--cx 1e\+30, --cy 10\) is outside the 64x48 image"):
        CameraSpec(fx=50.0, cx=1e30, cy=10.0).intrinsics(64, 48)


def test_unreadable_and_cut_videos(tmp_path, capsys, caplog):
    """Row 9: an unreadable video was an 'OSError: Could not load meta information' traceback; a
    video cut halfway gave half its frames with rc 0 and no warning."""
    import imageio.v2 as iio

    rng = np.random.default_rng(0)
    with iio.get_writer(tmp_path / "clip.mkv", fps=10, macro_block_size=1) as writer:
        for _ in range(60):
            writer.append_data(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    data = (tmp_path / "clip.mkv").read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("not a video\n" * 100)
    (tmp_path / "head.mkv").write_bytes(data[:200])
    for name in ("empty.mp4", "text.mp4", "head.mkv"):
        assert f"cannot read video {tmp_path / name}" in fails(capsys, "infer", tmp_path / name, "-o", tmp_path / "o")
    with caplog.at_level(logging.WARNING):
        assert main(["infer", str(tmp_path / "cut.mkv"), "-o", str(tmp_path / "cut"), *BACKEND]) == 0
    frames = len((tmp_path / "cut" / "results.jsonl").read_text().splitlines())
    assert 0 < frames < 55 and f"ended after {frames} of the 60 frames its header announces" in caplog.text


def test_the_background_video_writer_keeps_every_frame_and_reports_encoder_errors(tmp_path):
    import imageio.v2 as iio

    from poselifter_core.infer import BackgroundWriter

    def writer(name: str):
        return BackgroundWriter(iio.get_writer(tmp_path / name, fps=5, macro_block_size=1, codec="libx264"), depth=2)

    frames = [np.full((48, 64, 3), 40 * i, np.uint8) for i in range(6)]
    good = writer("good.mp4")
    for frame in frames:
        good.append_data(frame)
    good.close()
    read = iio.mimread(tmp_path / "good.mp4")
    assert len(read) == 6 and [round(float(np.median(f)) / 40) for f in read] == list(range(6))  # all, in order
    bad = writer("bad.mp4")
    bad.append_data(frames[0])
    bad.append_data(np.zeros((32, 32, 3), np.uint8))  # the encoder refuses a second size
    with pytest.raises(ValueError, match="same size"):
        for frame in frames:  # raised by a later call at the latest
            bad.append_data(frame)
        bad.close()


def test_photos_sharing_a_stem_keep_their_own_pictures(photos, tmp_path):
    """x.jpg and x.png in one folder both wrote x_2d.png / x_3d.png: the second overwrote the first."""
    folder = tmp_path / "same_stem"
    folder.mkdir()
    (folder / "x.jpg").write_bytes((photos / "a_good.jpg").read_bytes())
    (folder / "x.png").write_bytes((photos / "c_good.png").read_bytes())
    (folder / "y.png").write_bytes((photos / "c_good.png").read_bytes())
    out = tmp_path / "out"
    assert main(["infer", str(folder), "-o", str(out), *BACKEND]) == 0
    assert list(json.loads((out / "results.json").read_text())) == ["x.jpg", "x.png", "y.png"]
    assert sorted(p.name for p in out.glob("*.png")) == ["x.jpg_2d.png", "x.jpg_3d.png", "x.png_2d.png", "x.png_3d.png",
                                                         "y_2d.png", "y_3d.png"]


def test_max_frames_limits_a_folder_to_its_first_images(photos, tmp_path, capsys):
    """--max-frames was silently ignored on a folder (every image processed); the first N in name
    order, as in a video, and --boxes must name one of those."""
    out = tmp_path / "out"
    assert main(["infer", str(photos), "-o", str(out), "--fx", "500", "--max-frames", "2", *BACKEND]) == 0
    assert list(json.loads((out / "results.json").read_text())) == ["a_good.jpg", "b_truncated.jpg"]
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"c_good.png": [[0, 0, 100, 100]]}))  # the third image: not processed
    assert "--boxes names no input image" in fails(capsys, "infer", photos, "--boxes", boxes, "--max-frames", "2",
                                                   "--lifter", tmp_path / "none.pt")


def test_max_frames_on_a_video_whose_header_gives_no_frame_count(tmp_path, monkeypatch, caplog):
    """A header without a frame count (OpenCV reports 0) and --max-frames beyond the video's end:
    no 'of the None frames its header announces' warning (a logging error: %d of None)."""
    import cv2
    import imageio.v2 as iio

    from poselifter_core.camera import Intrinsics
    from poselifter_core.cascade import CascadeResult
    from poselifter_core.infer import run_video

    rng = np.random.default_rng(0)
    with iio.get_writer(tmp_path / "clip.mkv", fps=10, macro_block_size=1) as writer:
        for _ in range(5):
            writer.append_data(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))

    opened = cv2.VideoCapture

    class NoCount:  # the real capture, less its frame count
        def __init__(self, path: str) -> None:
            self.capture = opened(path)

        def get(self, prop: int) -> float:
            return 0.0 if prop == cv2.CAP_PROP_FRAME_COUNT else self.capture.get(prop)

        def __getattr__(self, name: str):
            return getattr(self.capture, name)

    class Nobody:
        def process(self, image, intrinsics, distortion=None):
            return CascadeResult([], Intrinsics.from_fov(image.shape[1], image.shape[0], 60.0), True)

    monkeypatch.setattr(cv2, "VideoCapture", NoCount)
    with caplog.at_level(logging.WARNING):
        lines = run_video(Nobody(), tmp_path / "clip.mkv", CameraSpec(), tmp_path / "out", progress=False,
                          video=False, max_frames=20)
    assert len(lines.read_text().splitlines()) == 5
    assert "header announces" not in caplog.text, caplog.text


def test_a_video_whose_header_count_is_negative_has_an_unknown_count(tmp_path, caplog):
    """A raw MJPEG stream (no container: no frame count) is a real file for which OpenCV reports a
    large negative frame count: the count is unknown (None, with a note), not a negative total,
    and every frame is read without a 'truncated' warning."""
    import subprocess

    import imageio_ffmpeg

    from poselifter_core.infer import VideoReader

    path = tmp_path / "raw.mjpeg"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=64x48:rate=10", "-t", "0.5", "-c:v", "mjpeg", "-f", "mjpeg", str(path)], check=True)
    with caplog.at_level(logging.WARNING):
        reader = VideoReader(path)
        assert reader.total is None and reader.expected is None
        assert "frame count" in caplog.text and "is not a count" in caplog.text, caplog.text
        assert len(list(reader)) == 5 and reader.fps > 0
        caplog.clear()
        reader.warn_if_short()
        reader.close()
    assert "header announces" not in caplog.text


@pytest.mark.parametrize("fps, noted", [(float("nan"), True), (-25.0, True), (1e6, True), (float("inf"), True),
                                        (0.0, False)])
def test_a_video_whose_header_rate_is_not_a_rate_is_read_at_the_default_fps(tmp_path, monkeypatch, caplog, fps,
                                                                             noted):
    """The capture's frame rate and a NaN frame count stood in for (monkeypatched): no file this
    test can write makes OpenCV report a NaN, negative or absurd rate (the writers store a valid
    one), yet a damaged header can. Such a rate falls back to DEFAULT_FPS with a note (a header
    stating none, 0, silently, as before); a NaN count is unknown (int(nan) raised before)."""
    import cv2
    import imageio.v2 as iio

    from poselifter_core.infer import DEFAULT_FPS, VideoReader

    with iio.get_writer(tmp_path / "clip.mkv", fps=10, macro_block_size=1) as writer:
        for _ in range(3):
            writer.append_data(np.zeros((48, 64, 3), dtype=np.uint8))
    opened = cv2.VideoCapture

    class Header:  # the real capture, less its frame rate and count
        def __init__(self, path: str) -> None:
            self.capture = opened(path)

        def get(self, prop: int) -> float:
            return {cv2.CAP_PROP_FPS: fps, cv2.CAP_PROP_FRAME_COUNT: float("nan")}.get(prop, self.capture.get(prop))

        def __getattr__(self, name: str):
            return getattr(self.capture, name)

    monkeypatch.setattr(cv2, "VideoCapture", Header)
    with caplog.at_level(logging.WARNING):
        reader = VideoReader(tmp_path / "clip.mkv")
    assert reader.fps == DEFAULT_FPS and reader.total is None and len(list(reader)) == 3
    assert ("frame rate" in caplog.text) == noted, caplog.text
    reader.close()
