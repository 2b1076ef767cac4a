"""A user's ONNX keypoint model described by YAML: heatmap and coordinate outputs, errors."""
import warnings

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from poselifter_core.pose2d.export import export_integral_resnet_model
from poselifter_core.pose2d.integral_estimator import IntegralPoseEstimator
from poselifter_core.pose2d.integral_resnet import IntegralResNet, IntegralResNetConfig
from poselifter_core.pose2d.onnx_keypoints import OnnxKeypointModel, OnnxKeypointSpec, decode_heatmaps_argmax
from poselifter_core.skeleton import COCO17, Skeleton

BOX = np.array([[30, 20, 110, 140]])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = IntegralResNet(IntegralResNetConfig(depth=10, base_width=8, deconv_channels=16, input_size=64)).eval()
    folder = tmp_path_factory.mktemp("onnx")
    export_integral_resnet_model(model, COCO17, folder / "tiny.onnx")
    return model, folder


def write_spec(folder, name, output):
    spec = {"model": "tiny.onnx", "skeleton": "coco17", "input": {"width": 64, "height": 64}, "output": output}
    (folder / name).write_text(yaml.safe_dump(spec))
    return folder / name


def test_matches_the_torch_estimator(exported):
    model, folder = exported
    image = np.random.default_rng(1).integers(0, 255, (160, 200, 3), dtype=np.uint8)
    (reference,) = IntegralPoseEstimator.from_model(model, COCO17).estimate(image, BOX)
    # Output 1 holds coordinates in input pixels; output 0 heatmaps, decoded by soft-argmax.
    by_coords = OnnxKeypointModel.from_yaml(write_spec(folder, "c.yaml", {"index": 1, "kind": "coordinates"}))
    (person,) = by_coords.estimate(image, BOX)
    assert np.allclose(person.keypoints, reference.keypoints, atol=1e-3)
    assert np.all(person.scores == 1.0)  # no score column: documented as 1
    by_heatmaps = OnnxKeypointModel.from_yaml(write_spec(folder, "h.yaml", {"kind": "heatmaps", "decode": "soft_argmax"}))
    (person,) = by_heatmaps.estimate(image, BOX)
    assert np.allclose(person.keypoints, reference.keypoints, atol=1e-3)
    assert np.allclose(person.scores, reference.scores, atol=1e-5)


def test_argmax_decoding_known_answer():
    heatmaps = np.zeros((1, 2, 8, 8))
    heatmaps[0, 0, 3, 5] = 1.0
    heatmaps[0, 0, 3, 6] = 0.5  # right neighbour higher: +0.25 in x
    heatmaps[0, 1, 0, 0] = 0.7  # on the border: no refinement
    cells, peaks = decode_heatmaps_argmax(heatmaps)
    assert cells[0].tolist() == [[5.25, 3.0], [0.0, 0.0]] and peaks[0].tolist() == [1.0, 0.7]


class FixedCoordinates(nn.Module):
    """A 'model' answering normalised (y, x, score) rows whatever the image."""

    def __init__(self):
        super().__init__()
        self.register_buffer("rows", torch.tensor([[0.25, 0.5, 0.9]] * 17))

    def forward(self, images):
        return self.rows.expand(images.shape[0], 17, 3) + 0 * images.float().mean()


def test_normalized_yx_coordinates_with_scores(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter
        torch.onnx.export(FixedCoordinates(), (torch.zeros(1, 64, 32, 3, dtype=torch.uint8),),
                          str(tmp_path / "tiny.onnx"), input_names=["x"], dynamic_axes={"x": {0: "n"}}, dynamo=False)
    spec = {"model": "tiny.onnx", "crop_padding": 1.0,
            "input": {"width": 32, "height": 64, "layout": "nhwc", "dtype": "uint8"},
            "output": {"kind": "coordinates", "units": "normalized", "order": "yx"}}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(spec))
    model = OnnxKeypointModel.from_yaml(tmp_path / "m.yaml")
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    (person,) = model.estimate(image, np.array([[10, 20, 30, 60]]))  # 20x40 box -> 32x64 crop
    # x = 0.5 * 32 - 0.5 = 15.5 crop px -> box centre x 20; y = 0.25 * 64 - 0.5 = 15.5 -> 30
    assert np.allclose(person.keypoints, (20, 30)) and np.allclose(person.scores, 0.9)
    assert model.backend.signature.input_dtypes == ("uint8",)  # declared by the model, read by the backend
    spec["input"]["dtype"] = "float32"  # normalised floats cannot go into a uint8 input: said at load time
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="input.dtype is float32 but the model's input 'x' is uint8"):
        OnnxKeypointModel.from_yaml(tmp_path / "f.yaml")


def test_bad_descriptions(exported, tmp_path):
    _, folder = exported
    with pytest.raises(ValueError, match="output.kind"):
        OnnxKeypointModel.from_yaml(write_spec(folder, "bad.yaml", {"kind": "boxes"}))
    with pytest.raises(ValueError, match="unknown setting"):
        OnnxKeypointModel.from_yaml(write_spec(folder, "typo.yaml", {"knd": "heatmaps"}))
    with pytest.raises(ValueError, match="output.index"):
        OnnxKeypointModel.from_yaml(write_spec(folder, "idx.yaml", {"index": 5}))
    (tmp_path / "missing.yaml").write_text(yaml.safe_dump({"model": "absent.onnx"}))
    with pytest.raises(FileNotFoundError, match="absent.onnx"):
        OnnxKeypointModel.from_yaml(tmp_path / "missing.yaml")
    with pytest.raises(FileNotFoundError):
        OnnxKeypointModel.from_yaml(tmp_path / "no_such.yaml")
    with pytest.raises(ValueError, match="name the ONNX file"):
        OnnxKeypointModel(OnnxKeypointSpec())
    # Wrong joint count for the declared skeleton is caught at the first run.
    model = OnnxKeypointModel.from_yaml(write_spec(folder, "h36.yaml", {"kind": "heatmaps"}))
    model.skeleton = Skeleton("two", ("a", "b"), (-1, 0), ())
    with pytest.raises(ValueError, match=r"\(N, 2, h, w\)"):
        model.estimate(np.zeros((50, 50, 3), dtype=np.uint8), np.array([[5, 5, 40, 40]]))
