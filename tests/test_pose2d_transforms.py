"""Letterbox and box-crop warps: exact point round trips, image content where the map says."""
import numpy as np
import pytest

from poselifter_core.pose2d.transforms import CropTransform


def dot_image(x: int, y: int, shape=(300, 400), sigma: float = 2.5) -> np.ndarray:
    """A round blob centred on pixel (x, y); smooth, so that where it lands tests the warp's
    geometry, not how a box or tent filter splits a sub-pixel dot."""
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    blob = 255 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma**2))
    return np.repeat(np.round(blob).astype(np.uint8)[..., None], 3, axis=2)


def centroid(image: np.ndarray) -> np.ndarray:
    weights = image[..., 0].astype(np.float64)
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]]
    return np.array([(weights * xs).sum(), (weights * ys).sum()]) / weights.sum()


TRANSFORMS = [
    CropTransform.letterbox((400, 300), 256),
    CropTransform.letterbox((300, 400), 320),
    CropTransform.from_box([100, 50, 260, 230], (256, 256)),
    CropTransform.from_box([100, 50, 260, 230], (64, 64)),
    CropTransform.from_box([140, 85, 210, 130], (192, 256), padding=1.0),
]


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_point_round_trip_is_exact(transform):
    points = np.random.default_rng(0).uniform(-50, 450, size=(100, 2))
    assert np.allclose(transform.to_input(transform.to_output(points)), points, rtol=0, atol=1e-10)
    assert np.allclose(transform.to_output(transform.to_input(points)), points, rtol=0, atol=1e-10)
    matrix = transform.matrix
    assert np.allclose(points @ matrix[:, :2].T + matrix[:, 2], transform.to_output(points))


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_image_content_lands_where_points_map(transform):
    # Area-preserving resampling of a smooth blob: its centroid moves like a point (a half-pixel
    # convention error would show as 0.5 px).
    for x, y in [(150, 120), (201, 97)]:
        out = transform.apply(dot_image(x, y))
        assert out.shape == (transform.output_size[1], transform.output_size[0], 3)
        assert np.allclose(centroid(out), transform.to_output([x, y]), atol=0.1)


def test_letterbox_sizes_and_padding():
    t = CropTransform.letterbox((640, 480), 256)
    assert t.output_size == (256, 192) and t.scale == pytest.approx(0.4)
    t = CropTransform.letterbox((1920, 1080), 256)
    assert t.output_size == (256, 160)  # 144 rows of image padded to 160
    out = t.apply(np.full((1080, 1920, 3), 200, dtype=np.uint8))
    assert np.all(out[:143] == 200) and np.all(out[145:] == 0)
    # The image's outer edges map to the output's: corner pixel centres scale about the edges.
    assert np.allclose(t.to_output([[-0.5, -0.5], [1919.5, 1079.5]]), [[-0.5, -0.5], [255.5, 143.5]])


def test_box_crop_centres_box_and_keeps_aspect():
    t = CropTransform.from_box([100, 50, 200, 250], (256, 256), padding=1.25)
    assert np.allclose(t.to_output([150, 150]), [127.5, 127.5])
    # The tall box (200 px) plus 25 % context fills the 256 px output.
    assert t.scale == pytest.approx(256 / 250)
    assert np.allclose(t.to_output([[150, 50], [150, 250]])[:, 1], [127.5 - 102.4, 127.5 + 102.4])


def test_crop_outside_image_is_black():
    image = np.full((100, 100, 3), 255, dtype=np.uint8)
    out = CropTransform.from_box([60, 60, 140, 140], (64, 64), padding=1.0).apply(image)
    assert out[5, 5].tolist() == [255, 255, 255] and out[60, 60].tolist() == [0, 0, 0]
    # Image borders are not darkened by the black outside.
    assert out[:31, :31].min() == 255  # the image edge 99.5 maps to (99.5 - 100) * 0.8 + 31.5 = 31.1
    far = CropTransform.from_box([1000, 1000, 1100, 1100], (64, 64)).apply(image)
    assert far.shape == (64, 64, 3) and far.max() == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="positive width"):
        CropTransform.from_box([10, 10, 10, 50])
    with pytest.raises(ValueError, match="multiple of 32"):
        CropTransform.letterbox((640, 480), 250)
    with pytest.raises(ValueError, match="must be"):
        CropTransform.from_box([0, 0, 10, 10]).apply(np.zeros((10, 10), dtype=np.uint8))
