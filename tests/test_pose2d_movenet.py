"""MoveNet on a real photo with a known answer, on crops, on tiled frames; through the backend
interface (same output as a plain ONNX Runtime session); bad input and bad model files."""
import numpy as np
import onnxruntime as ort
import pytest
from skimage.data import astronaut  # NASA portrait of Eileen Collins, public domain

from poselifter_core.benchmark.pose2d_latency import tiled_frame
from poselifter_core.pose2d.base import Person2D, check_boxes, check_image
from poselifter_core.pose2d.movenet import DEFAULT_MODEL_PATH, MoveNet
from poselifter_core.pose2d.transforms import CropTransform
from poselifter_core.runtime import BackendError
from poselifter_core.runtime.engine_cache import engine_key
from poselifter_core.skeleton import COCO17

# Hand-labelled on the 512x512 photo (x, y pixels): she faces the camera, so her left side is
# on the image's right.
FACE = {"nose": (222, 124), "left_eye": (245, 101), "right_eye": (202, 100)}
PERSON_BOX = (20, 10, 380, 511)


@pytest.fixture(scope="module")
def movenet():
    return MoveNet()


def kp(person: Person2D, name: str) -> np.ndarray:
    return person.keypoints[COCO17.index(name)]


def check_astronaut(person: Person2D) -> None:
    for name, point in FACE.items():
        assert np.linalg.norm(kp(person, name) - point) < 10, name
        assert person.scores[COCO17.index(name)] > 0.4
    left, right = kp(person, "left_shoulder"), kp(person, "right_shoulder")
    assert 270 < left[0] < 340 and 80 < right[0] < 140  # shoulders on the correct sides
    assert 200 < left[1] < 290 and 200 < right[1] < 290  # below the chin, above the chest
    x1, y1, x2, y2 = person.box
    assert x1 < 60 and y1 < 40 and 330 < x2 and 480 < y2


def test_shipped_model_and_notice_exist():
    assert DEFAULT_MODEL_PATH.is_file()
    folder = DEFAULT_MODEL_PATH.parent
    assert "Apache" in (folder / "NOTICE.md").read_text() and (folder / "LICENSE-APACHE-2.0.txt").is_file()


def test_bottom_up_on_photo(movenet):
    people = movenet.estimate(astronaut())
    assert len(people) == 1
    check_astronaut(people[0])


def test_letterboxed_non_square_photo(movenet):
    # The same photo on a wide canvas, shifted: letterbox padding must not move keypoints.
    canvas = np.full((512, 900, 3), 127, dtype=np.uint8)
    canvas[:, 300:812] = astronaut()
    (person,) = movenet.estimate(canvas)
    nose = kp(person, "nose") - (300, 0)
    assert np.linalg.norm(nose - FACE["nose"]) < 10


def test_on_crop_mode(movenet):
    image = astronaut()
    people = movenet.estimate(image, np.array([PERSON_BOX]))
    assert len(people) == 1 and np.allclose(people[0].box, PERSON_BOX)
    check_astronaut(people[0])
    # A box on empty background: the person is reported not found, not invented.
    blank = np.full((512, 512, 3), 127, dtype=np.uint8)
    (missing,) = movenet.estimate(blank, np.array([[100, 100, 300, 400]]))
    assert missing.score == 0 and np.all(missing.scores == 0) and np.all(np.isnan(missing.keypoints))
    assert not missing.valid(0.1).any()


def test_three_people_in_tiled_frame(movenet):
    frame = tiled_frame(astronaut(), 3)  # three 213 px copies side by side in 640x480
    people = movenet.estimate(frame)
    assert len(people) == 3
    noses = sorted(kp(p, "nose")[0] for p in people)
    for col, x in enumerate(noses):
        assert abs(x - (col * 213 + 222 * 213 / 512)) < 8


def test_bad_images_are_rejected(movenet):
    with pytest.raises(ValueError, match="grey"):
        movenet.estimate(np.zeros((48, 64), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        movenet.estimate(np.zeros((48, 64, 3), dtype=np.uint16))
    with pytest.raises(ValueError, match="empty"):
        movenet.estimate(np.zeros((0, 64, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="RGB"):
        movenet.estimate(np.zeros((48, 64, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="numpy"):
        check_image([[0, 0, 0]])


def test_bad_boxes_are_rejected(movenet):
    image = np.zeros((48, 64, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="zero or negative area"):
        movenet.estimate(image, np.array([[10, 10, 10, 30]]))
    with pytest.raises(ValueError, match="outside"):
        movenet.estimate(image, np.array([[100, 10, 120, 30]]))
    with pytest.raises(ValueError, match=r"\(K, 4\)"):
        check_boxes(np.zeros((2, 3)), image.shape)
    with pytest.raises(ValueError, match="NaN"):
        check_boxes([[0, 0, np.nan, 5]], image.shape)
    assert movenet.estimate(image, np.zeros((0, 4))) == []
    # A box partly outside the image is fine: the crop pads.
    assert len(movenet.estimate(image, np.array([[-20, -20, 30, 30]]))) == 1


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no ONNX model file"):
        MoveNet(model_path=tmp_path / "absent.onnx")
    with pytest.raises(ValueError, match="multiples of 32"):
        MoveNet(long_side=250)


def test_backend_gives_the_plain_session_answer(movenet):
    """The backend (uint8 input declared by the model, outputs as produced) changes nothing: the
    raw output and the decoded keypoints equal those of a plain ONNX Runtime session, the way
    MoveNet ran before the backend interface."""
    assert movenet.backend.name == "onnxruntime-cpu"
    assert movenet.backend.signature.input_dtypes == ("uint8",)
    image = astronaut()
    transform = CropTransform.letterbox((image.shape[1], image.shape[0]), movenet.long_side)
    network_input = transform.apply(image)
    session = ort.InferenceSession(str(DEFAULT_MODEL_PATH), providers=["CPUExecutionProvider"])
    plain = session.run(None, {session.get_inputs()[0].name: network_input[None]})[0][0]
    through_backend = movenet.run(network_input)
    assert through_backend.dtype == np.float32
    np.testing.assert_allclose(through_backend, plain, atol=1e-5)
    expected = movenet.decode(plain, transform)[0]
    (person,) = movenet.estimate(image)
    best = int(np.argmax(plain[:, 55]))
    np.testing.assert_allclose(person.keypoints, expected[best], atol=1e-3)


def test_backend_setting_and_bad_model_files(tmp_path):
    assert MoveNet(backend="onnxruntime-cpu", num_threads=1).backend.name == "onnxruntime-cpu"
    with pytest.raises(BackendError, match="MoveNet: backend 'torch' cannot run: .*needs the PyTorch model"):
        MoveNet(backend="torch")
    # TensorRT's engine profile spans the batch axis only; MoveNet's image size varies, so it is refused
    # (before TensorRT itself is needed) and auto moves on to ONNX Runtime.
    with pytest.raises(BackendError, match="only the batch axis"):
        engine_key(DEFAULT_MODEL_PATH, "fp16", 8, None, "10.3.0", "any GPU", (8, 9))
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(DEFAULT_MODEL_PATH.read_bytes()[:100_000])  # truncated download
    with pytest.raises(BackendError, match="MoveNet: .*not a loadable ONNX model"):
        MoveNet(corrupt)
    with pytest.raises(BackendError, match="MoveNet: backend 'onnxruntime-cpu' cannot run: .*not a loadable ONNX model"):
        MoveNet(corrupt, backend="onnxruntime-cpu")
