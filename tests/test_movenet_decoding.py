"""The numpy rewrite of MoveNet's in-graph decoding (``benchmarks/movenet_decoding.py``, #16 item 3)
gives the whole shipped model's output from the backbone's six head outputs: same people, same
keypoints, scores to float rounding. Cutting the graph needs ``onnx``."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from skimage.data import astronaut  # NASA portrait of Eileen Collins, public domain

pytest.importorskip("onnx")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import movenet_variants  # noqa: E402


@pytest.fixture(scope="module")
def cut(tmp_path_factory) -> movenet_variants.CutModel:
    return movenet_variants.CutModel(tmp_path_factory.mktemp("movenet_cut"))


def three_people() -> np.ndarray:
    """640x480 grey, three copies of the astronaut side by side (as in the pose2d benchmark)."""
    frame = np.full((480, 640, 3), 128, dtype=np.uint8)
    small = astronaut()[::2, ::2][:, 22:235]  # 256x213
    for k in range(3):
        frame[112:368, 213 * k:213 * k + 213] = small
    return frame


@pytest.mark.parametrize("image", [astronaut(), three_people()], ids=["astronaut", "three_people"])
def test_numpy_decoding_reproduces_the_whole_model(cut, image):
    network_input = movenet_variants.letterboxed(image)
    whole = cut.run_whole(network_input)
    mine = cut.numpy_decode(cut.features(network_input))
    assert mine.shape == whole.shape == (6, 56) and mine.dtype == np.float32
    found = whole[:, 55] >= 0.2
    assert found.sum() >= 1 and np.array_equal(mine[:, 55] >= 0.2, found)
    rows, reference = mine[:, :51].reshape(6, 17, 3), whole[:, :51].reshape(6, 17, 3)
    np.testing.assert_allclose(rows[..., :2], reference[..., :2], atol=1e-6)  # keypoints, normalised
    np.testing.assert_allclose(rows[..., 2], reference[..., 2], atol=1e-5)  # keypoint scores
    np.testing.assert_allclose(mine[:, 51:], whole[:, 51:], atol=1e-5)  # box, person score
