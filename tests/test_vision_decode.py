"""decode_image / read_image_file / to_gray on images generated in memory with Pillow."""

import io
import os
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from digitrec.errors import ImageError
from digitrec.vision.decode import (
    DEFAULT_MAX_PIXELS,
    decode_image,
    image_suffixes,
    read_image_file,
    to_gray,
)

RED, BLACK, WHITE = (255, 0, 0), (0, 0, 0), (255, 255, 255)


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _pattern() -> Image.Image:
    """32x24 RGB: white, a black block top-left, a red block bottom-right."""
    image = Image.new("RGB", (32, 24), WHITE)
    image.paste(BLACK, (0, 0, 16, 12))
    image.paste(RED, (16, 12, 32, 24))
    return image


def _expected() -> np.ndarray:
    return np.asarray(_pattern(), dtype=np.float32) / 255


def _unit(rgb: np.ndarray) -> np.ndarray:
    """The decoded RGB in [0, 1]: 8-bit images come back as stored, in uint8."""
    assert rgb.dtype == np.uint8
    return rgb.astype(np.float32) / 255


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming any size, with almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _assert_image_error(data: bytes, *words: str, **kwargs) -> str:
    with pytest.raises(ImageError) as caught:
        decode_image(data, source="upload.img", **kwargs)
    message = str(caught.value)
    assert message.startswith("upload.img: ")
    assert "\n" not in message
    for word in words:
        assert word in message
    return message


@pytest.mark.parametrize(
    ("fmt", "options", "tolerance"),
    [
        ("PNG", {}, 0.0),
        ("BMP", {}, 0.0),
        ("TIFF", {}, 0.0),
        ("WEBP", {"lossless": True}, 0.0),
        ("GIF", {}, 0.0),
        ("JPEG", {"quality": 95}, 0.06),
    ],
)
def test_formats_round_trip(fmt: str, options: dict, tolerance: float) -> None:
    rgb = _unit(decode_image(_encode(_pattern(), fmt, **options)))
    assert rgb.shape == (24, 32, 3)
    assert np.abs(rgb - _expected()).mean() <= tolerance + 1e-6


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_phone_formats_are_read(fmt: str) -> None:
    # HEIC is what an iPhone saves its photos as, AVIF what some Android phones do. Pillow
    # writes HEIF only once pillow-heif's plugin is registered, as decoding a first image does.
    decode_image(_encode(_pattern(), "PNG"))
    data = _encode(_pattern().resize((64, 48)), fmt, quality=95)
    rgb = _unit(decode_image(data))
    assert rgb.shape == (48, 64, 3)
    assert rgb[:20, :28].mean() < 0.1  # the black block, top-left
    assert rgb[28:, 36:, 0].mean() > 0.85 and rgb[28:, 36:, 1:].mean() < 0.15  # red
    _assert_image_error(data[: len(data) // 2], "upload.img")
    # Turned upright once: the phone's orientation tag (HEIF keeps it as a rotation of its own).
    stored = Image.new("RGB", (40, 20), WHITE)
    stored.paste(BLACK, (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    rgb = _unit(decode_image(_encode(stored, fmt, quality=95, exif=exif.tobytes())))
    assert rgb.shape == (40, 20, 3)
    assert rgb[:10, -10:].mean() < 0.1 and rgb[:10, :10].mean() > 0.9


def test_jpeg_exif_orientation_is_applied() -> None:
    stored = Image.new("RGB", (40, 20), WHITE)
    stored.paste(BLACK, (0, 0, 10, 10))  # block at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    rgb = _unit(decode_image(_encode(stored, "JPEG", quality=95, exif=exif.tobytes())))
    assert rgb.shape == (40, 20, 3)
    assert rgb[:10, -10:].mean() < 0.1  # the block is now top-right
    assert rgb[:10, :10].mean() > 0.9


def test_gif_gives_first_frame() -> None:
    frames = [Image.new("L", (16, 16), 0), Image.new("L", (16, 16), 255)]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert decode_image(data).max() == 0.0


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_gray_keeps_full_range(fmt: str) -> None:
    values = np.array([[0, 1000, 40000, 65535]], dtype=np.uint16).repeat(4, axis=0)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    rgb = decode_image(_encode(image, fmt))
    assert rgb.shape == (4, 4, 3)
    assert rgb.dtype == np.float32  # 8 bits would lose its levels
    np.testing.assert_allclose(rgb[0, :, 0], values[0] / 65535, atol=1e-6)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_transparency_becomes_white(fmt: str) -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 0, 0, 0] + [0] * 762)  # both entries black
    image.paste(1, (0, 0, 8, 4))
    rgb = _unit(decode_image(_encode(image, fmt, transparency=0)))
    assert rgb[:4].max() == 0.0  # opaque black ink stays black
    assert rgb[4:].min() == 1.0  # transparent black is paper


def test_palette_without_transparency() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    np.testing.assert_array_equal(decode_image(_encode(image, "PNG"))[0, 0], [255, 0, 0])


def test_rgba_transparency_is_composed_on_white() -> None:
    image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 4, 8))
    image.paste((0, 0, 0, 128), (4, 0, 6, 8))
    rgb = _unit(decode_image(_encode(image, "PNG")))
    assert rgb[:, :4].max() == 0.0
    np.testing.assert_allclose(rgb[:, 4:6], 1 - 128 / 255, atol=1 / 255)
    assert rgb[:, 6:].min() == 1.0


def test_la_transparency_is_composed_on_white() -> None:
    image = Image.new("LA", (4, 4), (0, 0))
    image.paste((0, 255), (0, 0, 2, 4))
    rgb = _unit(decode_image(_encode(image, "PNG")))
    assert rgb[:, :2].max() == 0.0 and rgb[:, 2:].min() == 1.0


def test_cmyk_jpeg() -> None:
    image = Image.new("CMYK", (16, 16), (0, 0, 0, 0))  # no ink: white
    image.paste((0, 0, 0, 255), (0, 0, 8, 16))  # full black
    rgb = _unit(decode_image(_encode(image, "JPEG", quality=95)))
    assert rgb[:, :6].max() < 0.1
    assert rgb[:, 10:].min() > 0.9


@pytest.mark.parametrize("mode", ["1", "L"])
def test_bilevel_and_gray(mode: str) -> None:
    image = Image.new(mode, (8, 8), 0)
    image.paste(255 if mode == "L" else 1, (4, 0, 8, 8))
    rgb = _unit(decode_image(_encode(image, "PNG")))
    assert rgb[:, :4].max() == 0.0 and rgb[:, 4:].min() == 1.0


def test_empty_bytes() -> None:
    _assert_image_error(b"", "empty file")


@pytest.mark.parametrize(
    "data",
    [
        np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        b"Just some notes about digits.\nNot a picture at all.\n",
        _encode(Image.new("RGB", (8, 8)), "PPM"),  # a real image, not an accepted format
    ],
    ids=["random", "text", "ppm"],
)
def test_not_an_image(data: bytes) -> None:
    _assert_image_error(data, "not a supported image")


def test_truncated_png() -> None:
    noisy = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    data = _encode(Image.fromarray(noisy), "PNG")
    _assert_image_error(data[: len(data) // 2], "truncated")


def test_truncated_jpeg() -> None:
    noisy = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noisy), "JPEG")
    _assert_image_error(data[: int(len(data) * 0.7)], "truncated")


def test_too_many_pixels_for_a_small_limit() -> None:
    data = _encode(Image.new("L", (100, 60)), "PNG")
    _assert_image_error(data, "too large", "100x60", "6000", "5000", max_pixels=5000)
    assert decode_image(data, max_pixels=6000).shape == (60, 100, 3)


@pytest.mark.parametrize(
    ("width", "height"),
    [(8000, 8000), (10_000, 10_000), (100_000, 100_000), (2**31 - 1, 2**31 - 1)],
)
def test_crafted_header_with_huge_size_is_refused_before_decoding(width, height) -> None:
    # Below, at and far above Pillow's own bomb limits: all must be ours to refuse, at once.
    start = time.perf_counter()
    message = _assert_image_error(_png_header_only(width, height), "too large")
    assert str(DEFAULT_MAX_PIXELS) in message
    assert str(width * height) in message
    assert time.perf_counter() - start < 1.0


def test_pillow_global_limit_does_not_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow would warn about 1600
    assert decode_image(_encode(Image.new("L", (40, 40)), "PNG"), max_pixels=5000).shape == (
        40,
        40,
        3,
    )


def test_zero_size_image() -> None:
    _assert_image_error(_png_header_only(0, 10))


def test_read_image_file(tmp_path) -> None:
    path = tmp_path / "digit.png"
    path.write_bytes(_encode(_pattern(), "PNG"))
    np.testing.assert_array_equal(_unit(read_image_file(path)), _expected())
    np.testing.assert_array_equal(_unit(read_image_file(str(path))), _expected())


def _assert_file_error(path, *words: str) -> None:
    with pytest.raises(ImageError) as caught:
        read_image_file(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for word in words:
        assert word in message


def test_read_image_file_errors(tmp_path) -> None:
    _assert_file_error(tmp_path / "missing.png", "no such file")
    _assert_file_error(tmp_path, "directory")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    _assert_file_error(empty, "empty file")
    text = tmp_path / "notes.png"
    text.write_text("not an image\n")
    _assert_file_error(text, "not a supported image")
    big = tmp_path / "big.png"
    big.write_bytes(_encode(Image.new("L", (100, 100)), "PNG"))
    with pytest.raises(ImageError, match="too large"):
        read_image_file(big, max_pixels=100)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_read_image_file_refuses_a_pipe(tmp_path) -> None:
    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)
    _assert_file_error(pipe, "not a regular file")


def test_to_gray_uses_601_weights() -> None:
    rgb = np.zeros((2, 3, 3), dtype=np.float32)
    rgb[0, 0] = (1, 0, 0)
    rgb[0, 1] = (0, 1, 0)
    rgb[0, 2] = (0, 0, 1)
    rgb[1] = 1.0
    gray = to_gray(rgb)
    assert gray.shape == (2, 3) and gray.dtype == np.float32
    np.testing.assert_allclose(gray, [[0.299, 0.587, 0.114], [1.0, 1.0, 1.0]], atol=1e-6)


def test_to_gray_passes_2d_through_and_scales_uint8() -> None:
    gray = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    assert to_gray(gray) is gray
    np.testing.assert_allclose(to_gray(np.full((2, 2, 3), 255, np.uint8)), 1.0)
    with pytest.raises(ImageError):
        to_gray(np.zeros((2, 2, 2)))


def test_image_suffixes_are_those_of_the_formats_read() -> None:
    suffixes = image_suffixes()
    # A phone's photos and the common formats are found in a folder...
    assert {".png", ".jpg", ".jpeg", ".tif", ".webp", ".gif", ".bmp", ".heic", ".avif"} <= suffixes
    # ...and files of formats decode_image refuses are not.
    assert not suffixes & {".eps", ".pdf", ".psd", ".ico", ".txt", ".svg"}
