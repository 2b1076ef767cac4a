"""The benchmark sub-suites behind ``poselifter benchmark`` run and print their reports (tiny sizes)."""
from __future__ import annotations

import pytest
from PIL import Image
from skimage.data import astronaut

from poselifter_core.cli import main


@pytest.mark.slow
def test_error_model_fit_suite(capsys):
    assert main(["benchmark", "error-model-fit", "--samples", "3000", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "data: 3000 samples x 17 joints x 2 axes" in out and "mixture EM fit:" in out and "recovery:" in out


def test_pose2d_suite_on_a_given_photo(tmp_path, capsys):
    photo = tmp_path / "person.png"
    Image.fromarray(astronaut()[::2, ::2]).save(photo)
    assert main(["benchmark", "pose2d", "--photo", str(photo), "--repeats", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [row.split(" | ")[0] for row in rows] == ["| 1", "| 3", "| 6"]
    assert all(int(row.split(" | ")[1]) >= 1 for row in rows)  # MoveNet finds the astronaut in every frame


def test_lifted_share_counts_found_lifted_skipped_and_head_located(tmp_path, capsys):
    """The astronaut photo, and the same photo with everything below her chin painted grey (a face
    above a table): MoveNet finds her in both; the first is lifted, the second skipped with her head
    located."""
    photo = astronaut()
    Image.fromarray(photo).save(tmp_path / "a_full.png")
    covered = photo.copy()
    covered[190:] = 128
    Image.fromarray(covered).save(tmp_path / "b_face_only.png")
    assert main(["benchmark", "--lifted-share", str(tmp_path), "--pose2d-sizes", "256", "256+512",
                 "--cascade-backend", "onnxruntime-cpu"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"| {tmp_path}")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert cells[0][1:9] == ["shipped, 2D 256 px", "2", "2", "1.00", "1", "50.0%", "fewer than 5 observed joints: 1", "1"]
    assert cells[0][10] == "1.00"  # ms per frame against the first cascade's
    # with a second pass at 512 px (which finds neither: she is too large for it), the same people once each
    assert cells[1][1:9] == ["shipped, 2D 256+512 px", *cells[0][2:9]]
    assert float(cells[1][10]) > 1
