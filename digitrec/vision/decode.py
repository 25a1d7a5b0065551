"""Turn image bytes or files into RGB arrays, refusing anything broken or oversized.

Every bad-image condition becomes an ImageError with a one-line message naming the source;
no Pillow exception or OSError escapes. The pixel limit is checked on the header's size
before any pixel is decoded, so a tiny file claiming a huge canvas costs nothing.
"""

import io
import re
import stat
import warnings
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitrec.errors import ImageError

DEFAULT_MAX_PIXELS = 50_000_000

# Only formats people actually photograph or draw digits in; restricting Image.open also keeps
# exotic plugins (EPS runs Ghostscript, for one) away from untrusted bytes. The JPEG plugin also
# opens MPO, the multi-picture JPEG that many phone cameras write; HEIF is what iPhones save
# photos as (HEIC, read through pillow-heif), AVIF what some Android phones do.
FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF", "HEIF", "AVIF")
_UNSUPPORTED = "not a supported image (PNG, JPEG, BMP, TIFF, WEBP, GIF, HEIC/HEIF, AVIF)"

# Bytes per pixel beyond which a file cannot be a sane image of an allowed size (32-bit float
# RGBA TIFF is 16), plus room for metadata; stops us reading a huge file into memory.
_MAX_BYTES_PER_PIXEL = 16
_METADATA_ALLOWANCE = 64 * 2**20

_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
# ITU-R BT.601 luma weights, the classic choice for 8-bit photos and scans.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_ORIENTATION = 0x0112  # the EXIF tag
_PAPER = (255, 255, 255, 255)


def decode_image(
    data: bytes, *, source: str = "image", max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Decode image bytes to an RGB array (H, W, 3): uint8 as stored for 8-bit images, float32
    in [0, 1] for 16-bit and float ones, whose levels 8 bits would lose.

    Eight bits stay eight: a 12-MP photo is 36 MB so, 145 MB and 0.2-0.4 s more as floats, and
    everything downstream (to_gray, segmentation) takes either.
    EXIF orientation is applied, GIFs give their first frame, 16-bit greyscale keeps its full
    range and transparent areas are composed onto white paper.
    """
    if not data:
        raise ImageError(f"{source}: empty file")
    with warnings.catch_warnings():
        # Local to this block: Pillow's bomb warning becomes an exception only when our own limit
        # is at least as strict, so that Pillow's global limit never rejects what we allow.
        warnings.simplefilter(_bomb_action(max_pixels), Image.DecompressionBombWarning)
        try:
            image = _open(data, source)
            _check_size(image, source, max_pixels)
            image = _load_upright(image, source)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError(_bomb_message(source, exc, max_pixels)) from exc
    return _to_rgb(image, source)


def read_image_file(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read and decode an image file; see decode_image for the output."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise ImageError(f"{path}: no such file") from exc
    except OSError as exc:
        raise ImageError(f"{path}: cannot read file ({_reason(exc)})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{path}: is a directory, not an image file")
    if not stat.S_ISREG(info.st_mode):
        # Devices and pipes could block or never end.
        raise ImageError(f"{path}: not a regular file")
    limit = max_pixels * _MAX_BYTES_PER_PIXEL + _METADATA_ALLOWANCE
    if info.st_size > limit:
        raise ImageError(f"{path}: file too large ({info.st_size} bytes; limit is {limit})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read file ({_reason(exc)})") from exc
    return decode_image(data, source=str(path), max_pixels=max_pixels)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luminance (ITU-R 601) of an RGB array as float32 (H, W); a 2-D array passes through.

    Input is float in [0, 1] or uint8; uint8 is scaled by 1/255.
    """
    arr = np.asarray(rgb)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return arr.astype(np.float32, copy=False)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ImageError(f"array of shape {arr.shape} is not a greyscale or RGB image")
    return (arr.astype(np.float32, copy=False) @ _LUMA).astype(np.float32, copy=False)


def _bomb_action(max_pixels: int) -> str:
    pillow_limit = Image.MAX_IMAGE_PIXELS
    if pillow_limit is not None and max_pixels <= pillow_limit:
        return "error"
    return "ignore"


def _bomb_message(source: str, exc: BaseException, max_pixels: int) -> str:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{found.group(1)} pixels" if found else "too many pixels"
    return f"{source}: image too large ({size}; limit is {max_pixels} pixels)"


def _reason(exc: BaseException) -> str:
    """The exception's text on one short line (messages go to a terminal or an HTTP reply)."""
    text = " ".join(str(getattr(exc, "strerror", None) or exc).split())
    return (text or type(exc).__name__)[:200]


@cache
def _register_heif() -> None:
    """Teach Pillow to open HEIF (pillow-heif's plugin), once, when the first image is opened
    rather than on import. Its decoder applies the file's rotation itself and clears the EXIF
    orientation, so _load_upright does not turn the photo twice."""
    try:
        import pillow_heif
    except ImportError:  # an install without it reads every other format
        return
    pillow_heif.register_heif_opener()


@cache
def image_suffixes() -> frozenset[str]:
    """The file name suffixes of FORMATS as Pillow knows them (.jpg, .jpeg, .jfif, .heic, ...):
    how a folder's images are told from its other files."""
    _register_heif()
    return frozenset(
        suffix for suffix, name in Image.registered_extensions().items() if name in FORMATS
    )


def _open(data: bytes, source: str) -> Image.Image:
    """Identify the format and read the header only."""
    _register_heif()
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise ImageError(f"{source}: {_UNSUPPORTED}") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise
    except Exception as exc:
        # A recognised header that is malformed: plugins raise a zoo of exception types.
        raise ImageError(f"{source}: corrupt image header ({_reason(exc)})") from exc


def _check_size(image: Image.Image, source: str, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError(f"{source}: image has zero size ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(
            f"{source}: image too large ({width}x{height} = {width * height} pixels; "
            f"limit is {max_pixels} pixels)"
        )


def _load_upright(image: Image.Image, source: str) -> Image.Image:
    """Decode every pixel now, so truncation shows up here, then apply EXIF orientation."""
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise
    except Exception as exc:
        raise ImageError(f"{source}: corrupt or truncated image ({_reason(exc)})") from exc
    try:
        if image.getexif().get(_ORIENTATION, 1) == 1:
            return image  # upright already; exif_transpose would still copy every pixel
        return ImageOps.exif_transpose(image)
    except Exception:
        # A damaged EXIF block should not make otherwise good pixels unusable.
        return image


def _to_rgb(image: Image.Image, source: str) -> np.ndarray:
    mode = image.mode
    if mode in _SIXTEEN_BIT or mode in ("I", "F"):
        return np.repeat(_wide_gray(image)[:, :, np.newaxis], 3, axis=2)
    try:
        if mode in _ALPHA_MODES or "transparency" in image.info:
            # Transparent areas are blank paper, not black ink.
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, _PAPER), rgba)
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    except (ValueError, OSError) as exc:
        raise ImageError(f"{source}: unsupported colour mode {mode}") from exc


def _wide_gray(image: Image.Image) -> np.ndarray:
    """16/32-bit integer or float greyscale to [0, 1] without clipping at 255."""
    arr = np.asarray(image).astype(np.float64)
    arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
    peak = float(arr.max()) if arr.size else 0.0
    if image.mode == "F":
        # Float images carry no nominal range: take [0, 1] if they fit, else their own maximum.
        full = 1.0 if peak <= 1.0 else peak
    else:
        # Mode "I" usually holds 16-bit data widened to 32 bits; go beyond only if it must.
        full = 65535.0 if peak <= 65535.0 else peak
    return (arr / full).astype(np.float32)
