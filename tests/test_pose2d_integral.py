"""The paper's integral-regression ResNet: soft-argmax, shapes, loss, ONNX export, top-down mapping."""
import numpy as np
import pytest
import torch

from poselifter_core.pose2d.export import export_integral_resnet_model
from poselifter_core.pose2d.integral_estimator import IntegralPoseEstimator
from poselifter_core.pose2d.integral_resnet import (
    IntegralResNet,
    IntegralResNetConfig,
    cells_to_pixels,
    gaussian_heatmaps,
    integral_loss,
    load_checkpoint,
    pixels_to_cells,
    save_checkpoint,
    soft_argmax,
)
from poselifter_core.pose2d.topdown import TopDownEstimator
from poselifter_core.skeleton import COCO17, Skeleton

TINY = dict(depth=10, base_width=8, deconv_channels=16, input_size=64)


def test_soft_argmax_is_exact_on_synthetic_heatmaps():
    # Input pixels of a 256 crop, at least 6 sigma (48 px) inside so the Gaussians are not clipped.
    points = np.array([[100.3, 57.8], [60.0, 200.25], [127.5, 127.5]])
    heatmaps = torch.from_numpy(gaussian_heatmaps(points, size=64, stride=4, sigma=2.0)).double()
    coords = cells_to_pixels(soft_argmax(heatmaps[None]), 4)[0].numpy()
    assert np.allclose(coords, points, atol=1e-5)
    # Asymmetric but known distribution: mass 0.25 at cell (1, 0) and 0.75 at (3, 2).
    grid = torch.zeros(1, 1, 4, 4)
    grid[0, 0, 0, 1], grid[0, 0, 2, 3] = 0.25, 0.75
    assert soft_argmax(grid)[0, 0].tolist() == pytest.approx([2.5, 1.5])


def test_cell_pixel_conversions():
    assert cells_to_pixels(np.array([0.0, 63.0]), 4).tolist() == [1.5, 253.5]
    assert pixels_to_cells(cells_to_pixels(np.array([7.3]), 4), 4) == pytest.approx(7.3)


@pytest.mark.parametrize("depth", [18, 50])
def test_shapes_for_basic_and_bottleneck(depth):
    model = IntegralResNet(IntegralResNetConfig(depth=depth, base_width=4, deconv_channels=8, input_size=64, num_joints=17)).eval()
    heatmaps, coords = model(torch.randn(2, 3, 64, 64))
    assert heatmaps.shape == (2, 17, 16, 16) and coords.shape == (2, 17, 2)
    assert torch.all((coords >= -0.5) & (coords <= 63.5))


def test_paper_network_size():
    # 256x256 in -> 17x64x64 heatmaps, as in section 4.1.
    model = IntegralResNet(IntegralResNetConfig(depth=50, input_size=256)).eval()
    with torch.no_grad():
        heatmaps, _ = model(torch.zeros(1, 3, 256, 256))
    assert heatmaps.shape == (1, 17, 64, 64)


def test_loss_is_zero_at_target_and_ignores_unlabelled():
    points = np.array([[10.0, 20.0], [30.0, 40.0]])
    target = torch.from_numpy(gaussian_heatmaps(points, 16, 4, 2.0))[None]
    coords = torch.from_numpy(points).float()[None]
    visible = torch.tensor([[True, False]])
    loss, parts = integral_loss(target, coords, target, coords, visible)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)
    wrong = coords.clone()
    wrong[0, 1] += 100  # unlabelled joint: no effect
    assert float(integral_loss(target, wrong, target, coords, visible)[0]) == pytest.approx(0.0, abs=1e-6)
    wrong[0, 0] += torch.tensor([3.0, 4.0])
    assert integral_loss(target, wrong, target, coords, visible)[1]["coord_l1"] == pytest.approx(7.0)


def test_onnx_export_matches_torch(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    model = IntegralResNet(IntegralResNetConfig(**TINY)).eval()
    path = tmp_path / "pose2d.onnx"
    export_integral_resnet_model(model, COCO17, path)
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        heatmaps, coords = model(images)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out_heatmaps, out_coords = session.run(None, {"images": images.numpy()})
    assert np.allclose(out_heatmaps, heatmaps.numpy(), atol=1e-5)
    assert np.allclose(out_coords, coords.numpy(), atol=1e-3)


def test_checkpoint_round_trip_and_estimator(tmp_path):
    model = IntegralResNet(IntegralResNetConfig(**TINY)).eval()
    save_checkpoint(tmp_path / "c.pt", model, COCO17)
    loaded, skeleton, _ = load_checkpoint(tmp_path / "c.pt")
    assert skeleton == COCO17
    image = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    estimator = IntegralPoseEstimator.from_checkpoint(tmp_path / "c.pt")
    (person,) = estimator.estimate(image, np.array([[40, 20, 100, 110]]))
    assert person.keypoints.shape == (17, 2) and np.all((person.scores >= 0) & (person.scores <= 1))
    with pytest.raises(ValueError, match="top-down"):
        estimator.estimate(image)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "absent.pt")
    with pytest.raises(ValueError, match="joints"):
        IntegralPoseEstimator.from_model(loaded, Skeleton("one", ("a",), (-1,), ()))


class CentreEstimator(TopDownEstimator):
    """Puts every joint at the crop centre: its image answer must be the box centre."""

    def __init__(self):
        super().__init__(COCO17, (192, 256), padding=1.25)

    def predict_crops(self, crops):
        n = len(crops)
        centre = np.array([(192 - 1) / 2, (256 - 1) / 2])
        return np.broadcast_to(centre, (n, 17, 2)).copy(), np.ones((n, 17)), np.ones(n)


def test_top_down_maps_crop_points_back_to_the_image():
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    boxes = np.array([[10, 20, 110, 220], [300, 250, 420, 330]])  # the second sticks out
    people = CentreEstimator().estimate(image, boxes)
    assert np.allclose(people[0].keypoints, (60, 120)) and np.allclose(people[1].keypoints, (360, 290))


def test_bad_config():
    with pytest.raises(ValueError, match="depth"):
        IntegralResNetConfig(depth=20)
    with pytest.raises(ValueError, match="multiple of 32"):
        IntegralResNetConfig(input_size=100)
