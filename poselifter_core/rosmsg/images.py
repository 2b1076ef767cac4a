"""ROS ``sensor_msgs/Image`` and ``CompressedImage`` payloads <-> numpy, without cv_bridge or ROS.

The functions take the message's fields (not the message), so the ROS node, the bag processor
(rosbags) and tests share them without importing any ROS package. Every decoder returns what the
2D stage wants: a fresh, writable ``(H, W, 3)`` ``uint8`` RGB array (see
:func:`poselifter_core.pose2d.base.check_image`).

16-bit images (``mono16``, ``16UC1``) are reduced to 8 bits with ``>> 8`` (keep the high byte),
not a per-frame min-max stretch: the mapping is fixed, so brightness does not flicker from frame
to frame with the scene's extremes and a near-constant image does not have its noise blown up to
full contrast; it is also what cv_bridge does for mono16 -> mono8 (scale 1/256). The price: data
that uses only the low bits (12-bit sensors in a 16-bit container, depth in millimetres) comes out
dark; rescale such data before this call if the 2D stage needs it.

YUV 4:2:2 (``yuv422``/``uyvy`` and ``yuv422_yuy2``/``yuyv``) is converted with ITU-R BT.601
limited-range ("studio swing", Y in [16, 235], U and V in [16, 240]) coefficients, the range
cameras emit and the one OpenCV's ``COLOR_YUV2RGB_UYVY``/``_YUY2`` (hence cv_bridge) assumes.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..pose2d.base import check_image

#: Largest image decoded anywhere (node, bag, infer): 8192 x 8192. A bigger one, or a small file
#: that claims a huge size (a decompression bomb), is a ValueError, not gigabytes of memory.
MAX_IMAGE_PIXELS = 8192 * 8192


def check_pixel_count(width: int, height: int) -> None:
    """ValueError for an image larger than :data:`MAX_IMAGE_PIXELS`, before it is decoded."""
    if int(width) * int(height) > MAX_IMAGE_PIXELS:
        raise ValueError(f"image is {width}x{height} = {int(width) * int(height) / 1e6:.0f} megapixels, more than "
                         f"the {MAX_IMAGE_PIXELS / 1e6:.0f} allowed (a decompression bomb, or downscale it first)")


@dataclass(frozen=True)
class _Layout:
    """How one encoding stores a pixel: bytes per pixel and how to reach RGB."""

    bytes_per_pixel: int
    kind: str  # "rgb", "bgr", "rgba", "bgra", "mono8", "mono16", "uyvy", "yuyv"


_LAYOUTS: dict[str, _Layout] = {
    "rgb8": _Layout(3, "rgb"),
    "bgr8": _Layout(3, "bgr"),
    "8uc3": _Layout(3, "bgr"),  # OpenCV's channel order
    "rgba8": _Layout(4, "rgba"),
    "bgra8": _Layout(4, "bgra"),
    "mono8": _Layout(1, "mono8"),
    "mono16": _Layout(2, "mono16"),
    "16uc1": _Layout(2, "mono16"),
    "yuv422": _Layout(2, "uyvy"),  # ROS's name for UYVY: U0 Y0 V0 Y1
    "uyvy": _Layout(2, "uyvy"),
    "yuv422_yuy2": _Layout(2, "yuyv"),  # Y0 U0 Y1 V0
    "yuyv": _Layout(2, "yuyv"),
}

#: Encodings :func:`image_to_rgb` reads (ROS spells 8UC3 and 16UC1 in capitals; case is ignored).
SUPPORTED_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", "16UC1", "8UC3",
                       "yuv422", "uyvy", "yuv422_yuy2", "yuyv")
#: Encodings :func:`rgb_to_image_fields` writes.
PUBLISH_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8")

# BT.601 limited range: Y' is scaled by 255/219 after removing 16, chroma by 255/224 after
# removing 128; the chroma weights follow from Kr = 0.299, Kb = 0.114.
_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB
_Y_SCALE = 255.0 / 219.0
_C_SCALE = 255.0 / 224.0
_R_V = _C_SCALE * 2.0 * (1.0 - _KR)
_G_U = -_C_SCALE * 2.0 * (1.0 - _KB) * _KB / _KG
_G_V = -_C_SCALE * 2.0 * (1.0 - _KR) * _KR / _KG
_B_U = _C_SCALE * 2.0 * (1.0 - _KB)


def _layout(encoding: str) -> _Layout:
    if not isinstance(encoding, str) or encoding.lower() not in _LAYOUTS:
        raise ValueError(f"unsupported image encoding {encoding!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}")
    return _LAYOUTS[encoding.lower()]


def _as_bytes(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """The payload as a flat uint8 array (no copy); anything with the buffer protocol works,
    e.g. rclpy's ``array.array('B')`` or rosbags' numpy arrays."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise ValueError(f"image data array must be uint8 bytes, got {data.dtype}")
        return data.reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError as error:
        raise ValueError(f"image data must be bytes-like or a uint8 array, got {type(data).__name__}") from error


def _rows(flat: np.ndarray, height: int, width: int, step: int, bytes_per_pixel: int) -> np.ndarray:
    """``(H, W * bytes_per_pixel)`` view of the pixel bytes, row padding cut off."""
    for name, value in (("height", height), ("width", width), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if height <= 0 or width <= 0:
        raise ValueError(f"image is empty or malformed: height={height}, width={width}")
    check_pixel_count(width, height)
    row_bytes = width * bytes_per_pixel
    if step < row_bytes:
        raise ValueError(f"step {step} is smaller than width {width} x {bytes_per_pixel} bytes per pixel = {row_bytes}")
    if flat.size < step * height:
        raise ValueError(f"image data has {flat.size} bytes, need step {step} x height {height} = {step * height}")
    # Bytes past step * height are ignored (some drivers over-allocate).
    return flat[: step * height].reshape(height, step)[:, :row_bytes]


def _yuv422_to_rgb(rows: np.ndarray, height: int, width: int, order: str) -> np.ndarray:
    if width % 2:
        raise ValueError(f"YUV 4:2:2 needs an even width (two pixels share U and V), got {width}")
    quads = rows.reshape(height, width // 2, 4).astype(np.float32)
    if order == "uyvy":
        u, y0, v, y1 = (quads[..., i] for i in range(4))
    else:
        y0, u, y1, v = (quads[..., i] for i in range(4))
    y = np.stack([y0, y1], axis=-1).reshape(height, width)
    u = np.repeat(u - 128.0, 2, axis=1)
    v = np.repeat(v - 128.0, 2, axis=1)
    y = (y - 16.0) * _Y_SCALE
    rgb = np.stack([y + _R_V * v, y + _G_U * u + _G_V * v, y + _B_U * u], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def image_to_rgb(
    data: bytes | bytearray | memoryview | np.ndarray,
    height: int,
    width: int,
    encoding: str,
    step: int,
    is_bigendian: bool = False,
) -> np.ndarray:
    """Decode a ``sensor_msgs/Image`` payload into a new ``(H, W, 3)`` uint8 RGB array.

    The arguments are the message's fields. ``is_bigendian`` matters only for the 16-bit
    encodings (it says the byte order of each 16-bit value); alpha is dropped; grey is copied to
    all three channels. Raises ValueError naming the problem for an unknown encoding, a zero
    size, a step shorter than a row, data shorter than ``step * height`` or an odd YUV width.
    """
    layout = _layout(encoding)
    rows = _rows(_as_bytes(data), height, width, step, layout.bytes_per_pixel)
    kind = layout.kind
    if kind in ("uyvy", "yuyv"):
        return _yuv422_to_rgb(rows, height, width, kind)
    if kind == "mono16":
        values = np.ascontiguousarray(rows).view(">u2" if is_bigendian else "<u2")
        grey = (values >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if kind == "mono8":
        return np.repeat(rows[..., None], 3, axis=2)
    pixels = rows.reshape(height, width, layout.bytes_per_pixel)
    order = {"rgb": [0, 1, 2], "rgba": [0, 1, 2], "bgr": [2, 1, 0], "bgra": [2, 1, 0]}[kind]
    return np.ascontiguousarray(pixels[..., order])


def rgb_to_image_fields(rgb: np.ndarray, encoding: str = "rgb8") -> dict:
    """The fields of a ``sensor_msgs/Image`` holding ``rgb`` (``(H, W, 3)`` uint8 RGB).

    Returns ``height``, ``width``, ``encoding``, ``step``, ``is_bigendian`` (False) and ``data``
    (bytes, rows unpadded) for one of :data:`PUBLISH_ENCODINGS`; alpha is written as 255.
    """
    check_image(rgb)
    if not isinstance(encoding, str) or encoding.lower() not in PUBLISH_ENCODINGS:
        raise ValueError(f"cannot publish as encoding {encoding!r}; supported: {', '.join(PUBLISH_ENCODINGS)}")
    encoding = encoding.lower()
    pixels = rgb[..., ::-1] if encoding.startswith("bgr") else rgb
    if encoding.endswith("a8"):
        alpha = np.full(rgb.shape[:2] + (1,), 255, dtype=np.uint8)
        pixels = np.concatenate([pixels, alpha], axis=2)
    height, width, channels = pixels.shape
    return {
        "height": height,
        "width": width,
        "encoding": encoding,
        "step": width * channels,
        "is_bigendian": False,
        "data": np.ascontiguousarray(pixels).tobytes(),
    }


#: File signatures of the compressed formats a ``CompressedImage`` may hold.
_SIGNATURES = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}


def compressed_to_rgb(data: bytes | bytearray | memoryview | np.ndarray, format: str) -> np.ndarray:
    """Decode a ``sensor_msgs/CompressedImage`` (JPEG or PNG) into ``(H, W, 3)`` uint8 RGB.

    ``format`` is the message's field: plain ``"jpeg"``/``"png"`` or image_transport's
    ``"bgr8; jpeg compressed bgr8"`` style. The colour prefix does not change decoding: the file
    itself stores RGB (image_transport encodes through OpenCV, which writes true colours).
    16-bit PNGs are reduced with ``>> 8`` like :func:`image_to_rgb`. ``compressedDepth`` (a
    depth-specific header before the PNG) is rejected.
    """
    declared = format.lower() if isinstance(format, str) else ""
    if "compresseddepth" in declared:
        raise ValueError(f"compressedDepth images are not supported (format {format!r})")
    wanted = "PNG" if "png" in declared else "JPEG" if ("jpeg" in declared or "jpg" in declared) else None
    if wanted is None:
        raise ValueError(f"unsupported compressed image format {format!r}; supported: jpeg, png")
    payload = _as_bytes(data)
    if not payload.size:
        raise ValueError("compressed image data is empty")
    head = payload[:8].tobytes()
    actual = next((name for name, signature in _SIGNATURES.items() if head.startswith(signature)), None)
    if actual is not None and actual != wanted:
        raise ValueError(f"format says {wanted} but the data is {actual}")
    rgb = decode_to_rgb(payload)
    if rgb is None:
        raise ValueError(f"cannot decode the {wanted} image: not a valid {wanted} file")
    return rgb


def encoded_size(encoded: np.ndarray) -> tuple[int, int] | None:
    """``(width, height)`` from an image file's header (Pillow reads the header only), None when
    Pillow does not recognise it; ValueError for a header that claims a decompression bomb."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is lower
            with Image.open(io.BytesIO(encoded.tobytes())) as image:
                return image.size
    except Image.DecompressionBombError as error:
        raise ValueError(f"{error} (a decompression bomb)") from error
    except (OSError, SyntaxError, ValueError, EOFError):  # not an image Pillow knows: OpenCV decides
        return None


def decode_to_rgb(encoded: np.ndarray) -> np.ndarray | None:
    """An encoded image file's bytes (uint8 array) as ``(H, W, 3)`` uint8 RGB, or None when
    OpenCV cannot decode them; ValueError, before decoding, for a file whose header claims more
    than :data:`MAX_IMAGE_PIXELS` (a decompression bomb). Grey is copied to three channels, alpha dropped, 16 bits reduced
    with ``>> 8``; the EXIF orientation is ignored (pixels as stored)."""
    import cv2

    size = encoded_size(encoded)
    if size is not None:
        check_pixel_count(*size)
    decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if decoded is None or decoded.size == 0:
        return None
    if decoded.dtype == np.uint16:
        decoded = (decoded >> 8).astype(np.uint8)
    elif decoded.dtype != np.uint8:
        return None
    if decoded.ndim == 2 or decoded.shape[2] == 1:
        return cv2.cvtColor(decoded.reshape(decoded.shape[:2]), cv2.COLOR_GRAY2RGB)
    if decoded.shape[2] == 2:  # grey + alpha
        return cv2.cvtColor(np.ascontiguousarray(decoded[..., 0]), cv2.COLOR_GRAY2RGB)
    code = cv2.COLOR_BGRA2RGB if decoded.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(decoded, code)
