"""ROS image payloads <-> RGB arrays: known pixels per encoding, padding, round trips, errors."""
from __future__ import annotations

import array
import io

import numpy as np
import pytest
from PIL import Image

from poselifter_core.rosmsg.images import (
    PUBLISH_ENCODINGS,
    compressed_to_rgb,
    image_to_rgb,
    rgb_to_image_fields,
)

# A 2 x 2 RGB image with distinct channel values: red, green / blue, (10, 20, 30).
RGB = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], dtype=np.uint8)


def test_rgb8_known_pixels_and_fresh_writable_copy():
    data = bytes(RGB.reshape(-1))
    out = image_to_rgb(data, 2, 2, "rgb8", 6)
    np.testing.assert_array_equal(out, RGB)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3) and out.flags.writeable


@pytest.mark.parametrize("encoding", ["bgr8", "8UC3", "8uc3"])
def test_bgr_orders_are_swapped(encoding):
    data = bytes([30, 20, 10, 3, 2, 1])  # one row: (B, G, R) = (30, 20, 10), (3, 2, 1)
    np.testing.assert_array_equal(image_to_rgb(data, 1, 2, encoding, 6), [[[10, 20, 30], [1, 2, 3]]])


def test_rgba8_and_bgra8_drop_alpha():
    np.testing.assert_array_equal(image_to_rgb(bytes([1, 2, 3, 99]), 1, 1, "rgba8", 4), [[[1, 2, 3]]])
    np.testing.assert_array_equal(image_to_rgb(bytes([1, 2, 3, 99]), 1, 1, "bgra8", 4), [[[3, 2, 1]]])


def test_mono8_copies_grey_to_three_channels():
    out = image_to_rgb(bytes([0, 7, 200]), 1, 3, "mono8", 3)
    np.testing.assert_array_equal(out, [[[0, 0, 0], [7, 7, 7], [200, 200, 200]]])


@pytest.mark.parametrize("encoding", ["mono16", "16UC1"])
def test_16bit_keeps_the_high_byte_little_endian(encoding):
    values = np.array([[0, 255, 256, 0x1234, 65535]], dtype="<u2")
    out = image_to_rgb(values.tobytes(), 1, 5, encoding, 10)
    np.testing.assert_array_equal(out[..., 0], [[0, 0, 1, 0x12, 255]])
    assert np.all(out == out[..., :1])


def test_16bit_honours_is_bigendian():
    raw = bytes([0x12, 0x34, 0xFF, 0x00])  # big-endian 0x1234, 0xFF00; little-endian 0x3412, 0x00FF
    np.testing.assert_array_equal(image_to_rgb(raw, 1, 2, "mono16", 4, is_bigendian=True)[..., 0], [[0x12, 0xFF]])
    np.testing.assert_array_equal(image_to_rgb(raw, 1, 2, "mono16", 4, is_bigendian=False)[..., 0], [[0x34, 0x00]])


# BT.601 limited range: Y 16 is black, 235 white, 126 mid grey; (Y, U, V) = (81, 90, 240) is red.
YUV_PAIRS = [((16, 128, 128), (0, 0, 0)), ((235, 128, 128), (255, 255, 255)),
             ((126, 128, 128), (128, 128, 128)), ((81, 90, 240), (254, 0, 0))]


@pytest.mark.parametrize(("yuv", "rgb"), YUV_PAIRS)
@pytest.mark.parametrize("encoding", ["yuv422", "uyvy", "yuv422_yuy2", "yuyv"])
def test_yuv422_bt601_known_colours(encoding, yuv, rgb):
    y, u, v = yuv
    quad = [u, y, v, y] if encoding in ("yuv422", "uyvy") else [y, u, y, v]
    out = image_to_rgb(bytes(quad), 1, 2, encoding, 4)
    np.testing.assert_array_equal(out, [[rgb, rgb]])


def test_yuv422_pixels_share_chroma_but_keep_their_luma():
    # UYVY: U=128, Y0=16 (black), V=128, Y1=235 (white).
    out = image_to_rgb(bytes([128, 16, 128, 235]), 1, 2, "yuv422", 4)
    np.testing.assert_array_equal(out, [[[0, 0, 0], [255, 255, 255]]])


def test_padded_rows_are_cut():
    pad = [77, 77, 77, 77]
    data = bytes(list(RGB[0].reshape(-1)) + pad + list(RGB[1].reshape(-1)) + pad)
    np.testing.assert_array_equal(image_to_rgb(data, 2, 2, "rgb8", 10), RGB)


def test_padded_16bit_rows_with_odd_padding():
    # step 5 for a 2-pixel mono16 row: one pad byte, so the 16-bit values are not aligned in memory.
    data = bytes([0x00, 0x10, 0x00, 0x20, 9, 0x00, 0x30, 0x00, 0x40, 9])
    out = image_to_rgb(data, 2, 2, "mono16", 5)
    np.testing.assert_array_equal(out[..., 0], [[0x10, 0x20], [0x30, 0x40]])


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview, lambda b: array.array("B", b),
                                  lambda b: np.frombuffer(b, dtype=np.uint8)])
def test_payload_types(wrap):
    np.testing.assert_array_equal(image_to_rgb(wrap(bytes(RGB.reshape(-1))), 2, 2, "rgb8", 6), RGB)


@pytest.mark.parametrize("encoding", PUBLISH_ENCODINGS)
def test_round_trip_through_fields(encoding):
    fields = rgb_to_image_fields(RGB, encoding)
    channels = 4 if encoding.endswith("a8") else 3
    assert fields["height"] == 2 and fields["width"] == 2 and fields["encoding"] == encoding
    assert fields["step"] == 2 * channels and fields["is_bigendian"] is False
    assert isinstance(fields["data"], bytes) and len(fields["data"]) == 4 * channels
    np.testing.assert_array_equal(image_to_rgb(**fields), RGB)


def test_fields_bytes_are_as_ros_expects():
    fields = rgb_to_image_fields(RGB[:1, :1], "bgra8")
    assert fields["data"] == bytes([0, 0, 255, 255])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(encoding="rgb16"), "unsupported image encoding 'rgb16'"),
        (dict(encoding="bayer_rggb8"), "unsupported image encoding"),
        (dict(height=0), "empty"),
        (dict(width=0), "empty"),
        (dict(height=-1), "empty"),
        (dict(step=5), "step 5 is smaller than width 2 x 3"),
        (dict(data=bytes(11)), "11 bytes, need step 6 x height 2 = 12"),
        (dict(data=np.zeros(12, dtype=np.uint16)), "must be uint8"),
        (dict(data="not bytes"), "bytes-like"),
        (dict(height=2.0), "height must be an integer"),
        (dict(encoding="yuv422", width=3, step=6), "even width"),
    ],
)
def test_image_errors(kwargs, message):
    args = dict(data=bytes(12), height=2, width=2, encoding="rgb8", step=6) | kwargs
    with pytest.raises(ValueError, match=message):
        image_to_rgb(**args)


def test_publish_errors():
    with pytest.raises(ValueError, match="cannot publish as encoding 'mono8'"):
        rgb_to_image_fields(RGB, "mono8")
    with pytest.raises(ValueError, match="uint8"):
        rgb_to_image_fields(RGB.astype(np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        rgb_to_image_fields(RGB[..., 0])


def _encode(array_: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array_).save(buffer, format=fmt)
    return buffer.getvalue()


def test_png_is_lossless():
    png = _encode(RGB, "PNG")
    for fmt in ("png", "bgr8; png compressed bgr8"):
        np.testing.assert_array_equal(compressed_to_rgb(png, fmt), RGB)


def test_png_grey_and_16bit():
    grey = np.array([[0, 100]], dtype=np.uint8)
    np.testing.assert_array_equal(compressed_to_rgb(_encode(grey, "PNG"), "png")[..., 1], grey)
    deep = np.array([[0x0100, 0xFF00]], dtype=np.uint16)
    np.testing.assert_array_equal(compressed_to_rgb(_encode(deep, "PNG"), "png")[..., 2], [[1, 255]])


def test_jpeg_decodes_to_rgb_colours():
    flat = np.zeros((16, 16, 3), dtype=np.uint8)
    flat[...] = (200, 30, 40)
    out = compressed_to_rgb(_encode(flat, "JPEG"), "rgb8; jpeg compressed bgr8")
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - flat).max() <= 4  # lossy, but red stays red (no BGR swap)


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"", "png", "empty"),
        (b"not an image", "jpeg", "cannot decode the JPEG"),
        (None, "jpeg", "format says JPEG but the data is PNG"),
        (None, "16UC1; compressedDepth png", "compressedDepth"),
        (None, "tiff", "unsupported compressed image format 'tiff'"),
    ],
)
def test_compressed_errors(data, fmt, message):
    with pytest.raises(ValueError, match=message):
        compressed_to_rgb(_encode(RGB, "PNG") if data is None else data, fmt)
