"""Photo-like images of handwritten digits, generated deterministically from a seed, to measure
how well digitrec reads real photos.

Glyphs are MNIST *test* digits (the models never train on them) and, when installed,
handwriting-style fonts. The MNIST test set is split by index so that tuning and evaluation
can use different writers' digits: `MNIST_PARTS["tune"]` is indices 0-4999, `"eval"` is
5000-9999 (the default) and `"all"` is everything. Fonts are shared by every part. The part
`"train"` draws MNIST *training* digits instead, only those that training keeps after carving
out its validation set (seed 0, 5,000 digits): photos of them are training data
(digitrec.data.photo_crops), never a measurement.

A scene is a sheet (plain, lined or squared paper, or a chalkboard with light chalk) with ink
digits, sometimes lying slightly rotated on a table, seen through a mild perspective, with a
lighting gradient, a soft shadow, blur, sensor noise and JPEG artefacts. `text` is the digits in
reading order; a two-line number concatenates its lines top to bottom without a separator.
`boxes` are the tight (x, y, w, h) boxes of each digit's ink in the final image.
"""

from __future__ import annotations

import glob
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

from digitrec.data.datasets import load_splits, load_test_set

KINDS = ("single", "number", "blank")
MNIST_PARTS = {"tune": slice(0, 5000), "eval": slice(5000, 10000), "all": slice(0, 10000)}
# Training digits for photos to train on: the training split of `load_splits("mnist")` with its
# default validation carving, so no validation or test digit reaches a model through a photo.
TRAIN_PART = "train"
# That carving, (val_size, seed): a run that carves its validation set otherwise would find some
# of these digits in it.
TRAIN_HOLDOUT = (5000, 0)
FONT_GLOBS = (
    "/usr/share/fonts/truetype/fifthhorseman/dkg*.ttf",
    "/usr/share/fonts/truetype/breip/*.ttf",
    "/usr/share/fonts/truetype/femkeklaver/*.ttf",
    "/usr/share/fonts/opentype/bwht/*.otf",
    "/usr/share/fonts/opentype/comic-neue/*.otf",
    "/usr/share/fonts/opentype/dancingscript/*.otf",
    "/usr/share/fonts/truetype/humor-sans/*.ttf",
)
FONT_SHARE = 0.3  # fraction of glyphs drawn from fonts when fonts are used
INK_LEVEL = 0.25  # coverage above which a pixel counts as a digit's ink for its box
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SyntheticPhoto:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    text: str  # the digits written, "" for a blank page
    boxes: list[Box]  # x, y, w, h of each digit in the image, reading order
    kind: str  # "single", "number", "blank"


class GlyphSource:
    """Digit shapes as float coverage masks (ink 1.0), tightly cropped."""

    def __init__(self, *, mnist_part: str = "eval", use_fonts: bool = True) -> None:
        if mnist_part == TRAIN_PART:
            val_size, seed = TRAIN_HOLDOUT
            digits = load_splits("mnist", val_size=val_size, seed=seed).train
        elif mnist_part in MNIST_PARTS:
            digits = load_test_set("mnist").subset(MNIST_PARTS[mnist_part])
        else:
            known = ", ".join([*MNIST_PARTS, TRAIN_PART])
            raise ValueError(f"mnist_part must be one of {known}, not {mnist_part!r}")
        self.by_digit = [digits.images[digits.labels == d] for d in range(10)]
        self.fonts = [path for path in find_fonts() if not _hollow(path)] if use_fonts else []

    def glyph(self, rng: np.random.Generator, digit: int, height: float) -> np.ndarray:
        from_font = bool(self.fonts) and rng.random() < FONT_SHARE
        if from_font:
            mask = _font_glyph(self.fonts[rng.integers(len(self.fonts))], digit)
        else:
            pool = self.by_digit[digit]
            mask = _crop(pool[rng.integers(len(pool))].astype(np.float32) / 255.0)
            # Upscale smoothly before changing thickness so a one-pixel step stays slight.
            scale = float(np.clip(height / mask.shape[0], 3, 10))
            mask = _resize(mask, mask.shape[1] * scale, mask.shape[0] * scale)
        # Thicker or thinner by up to a third of an MNIST pixel (a digit is ~20 of them tall);
        # fonts come in light and bold already, and eroding their thin strokes would erase them.
        step = round(rng.uniform(0, 0.35) * mask.shape[0] / 20)
        # Real pens range wider than MNIST's: a felt marker draws strokes about twice as thick, a
        # fine ballpoint on a large digit about half as thick.
        pen = rng.choice(3, p=[0.7, 0.15, 0.15])  # as written, marker, fine pen
        if pen == 1:
            step = round(rng.uniform(0.5, 1.0) * mask.shape[0] / 20)
        elif pen == 2 and not from_font:
            step = round(rng.uniform(0.3, 0.6) * mask.shape[0] / 20)
        if step > 0 and (pen > 0 or rng.random() < 0.6):
            thicker = pen == 1 or (pen == 0 and (from_font or rng.random() < 0.6))
            mask = (ndimage.grey_dilation if thicker else ndimage.grey_erosion)(mask, (step, step))
        return mask


def find_fonts() -> list[str]:
    return sorted(path for pattern in FONT_GLOBS for path in glob.glob(pattern))


def _hollow(path: str) -> bool:
    """Outline fonts (femkeklaver) draw a digit's edges, not a pen's stroke: their "1", with
    the small gaps in its sketchy outline closed and filled in, has far more ink than drawn."""
    ink = np.pad(_font_glyph(path, 1) > 0.5, 5)
    filled = ndimage.binary_fill_holes(ndimage.binary_closing(ink, iterations=4))
    return filled.sum() > 1.5 * ink.sum()


@cache
def _font_glyph(path: str, digit: int) -> np.ndarray:
    font = ImageFont.truetype(path, 96)
    canvas = Image.new("L", (160, 200), 0)
    ImageDraw.Draw(canvas).text((30, 30), str(digit), fill=255, font=font)
    return _crop(np.asarray(canvas, np.float32) / 255.0)


def _crop(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask > 0.1)
    return np.pad(mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1], 1)


def _resize(array: np.ndarray, width: float, height: float) -> np.ndarray:
    size = (max(1, round(width)), max(1, round(height)))
    return np.asarray(Image.fromarray(array, "F").resize(size, Image.Resampling.BICUBIC))


def _smooth_noise(rng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: a coarse random grid upscaled smoothly."""
    grid = rng.standard_normal((cells, max(2, cells * w // max(h, 1))), dtype=np.float32)
    return _resize(grid, w, h)


# --- the sheet: paper or board, with ink -------------------------------------------------------


@dataclass
class Sheet:
    image: Image.Image  # RGB
    board: bool


def _paper(rng: np.random.Generator, w: int, h: int) -> Sheet:
    style = rng.choice(["plain", "lined", "squared", "board"], p=[0.45, 0.25, 0.15, 0.15])
    board = style == "board"
    if board:
        base = rng.choice([[40, 62, 50], [38, 40, 44], [28, 48, 40]]) * rng.uniform(0.8, 1.3)
        # Wiped chalk leaves large pale smudges on a board.
        lum = 1 + 0.08 * np.abs(_smooth_noise(rng, w, h, 3))
    else:
        white = rng.uniform(236, 252)
        base = white - np.array([0, rng.uniform(0, 6), rng.uniform(2, 18)])
        lum = 1 + 0.015 * _smooth_noise(rng, w, h, 8)
    lum += (rng.random((h, w), dtype=np.float32) - 0.5) * rng.uniform(0.02, 0.06)  # grain
    rgb = np.clip(lum[..., None] * base.astype(np.float32), 0, 255).astype(np.uint8)
    image = Image.fromarray(rgb)
    layer = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(layer)
    for _ in range(int(w * h / 4000 * rng.uniform(0.02, 0.1))):  # paper fibres
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        dx, dy = rng.normal(0, 6, 2)
        draw.line([(x, y), (x + dx, y + dy), (x + 2 * dx + rng.normal(0, 3), y + 2 * dy)], 40)
    if style in ("lined", "squared"):
        _rule(rng, draw, w, h, style == "squared", int(rng.uniform(80, 180)))
    color = [200, 200, 200] if board else rng.choice([[90, 130, 200], [120, 120, 130]])
    image.paste(tuple(int(c) for c in color), mask=layer)
    return Sheet(image, board)


def _rule(rng, draw: ImageDraw.ImageDraw, w: int, h: int, grid: bool, alpha: int) -> None:
    """Faint notebook lines; a squared page also gets vertical ones."""
    step = max(6.0, rng.uniform(0.02, 0.05) * h if grid else rng.uniform(0.03, 0.08) * h)
    width = max(1, round(h / 900))
    for y in np.arange(rng.uniform(0, step), h, step):
        draw.line([(0, y), (w, y + rng.normal(0, 1))], alpha, width)
    for x in np.arange(rng.uniform(0, step), w if grid else 0, step):
        draw.line([(x, 0), (x, h)], alpha, width)


def _ink(rng: np.random.Generator, board: bool) -> tuple[tuple[int, ...], float, bool]:
    """(colour, opacity, grainy) of the pen, pencil or chalk."""
    if board:
        color = rng.choice([[235, 235, 228], [240, 228, 160]])
        return tuple(int(c) for c in color), rng.uniform(0.7, 0.95), True
    pick = rng.choice(4, p=[0.4, 0.35, 0.18, 0.07])  # black, blue, pencil, red
    color = np.array([[25, 25, 30], [25, 50, 150], [80, 80, 85], [185, 35, 40]][pick])
    color = np.clip(color + rng.normal(0, 8, 3), 0, 255)
    opacity = rng.uniform(0.65, 0.85) if pick == 2 else rng.uniform(0.85, 1.0)
    return tuple(int(c) for c in color), opacity, pick == 2


def _layout(rng, widths: list[float], w: int, h: int, margin: float) -> list:
    """(x, baseline y, height) of each digit, in reading order; `widths` are relative to the
    height. Long numbers are sometimes written on two lines."""
    count = len(widths)
    lines = 2 if count >= 4 and rng.random() < 0.15 else 1
    cut = count - count // 2 if lines == 2 else count
    rows = [widths[:cut], widths[cut:]][:lines]
    gap = rng.uniform(-0.06, 0.5)  # from touching to wide apart
    # Digit height from ~4% to ~60% of the sheet, shrunk until every line fits, never tiny.
    height = float(np.exp(rng.uniform(np.log(0.04), np.log(0.6 if count == 1 else 0.35)))) * h
    room_w, room_h = w * (1 - 2 * margin), h * (1 - 2 * margin)
    longest = max(sum(row) + gap * (len(row) - 1) for row in rows)
    height = max(14.0, min(height, room_w / (longest + 0.2), room_h / (1.7 * lines)))
    line_gap = height * rng.uniform(1.3, 1.7)
    top = h * margin + height
    y0 = top + rng.uniform(0, max(0.0, room_h - line_gap * (lines - 1) - height))
    slope = np.tan(np.radians(rng.normal(0, 2)))
    places = []
    for line, row in enumerate(rows):
        x = w * margin + rng.uniform(0, max(0.0, room_w - height * (sum(row) + gap * len(row))))
        for width in row:
            size = height * rng.uniform(0.92, 1.08)
            y = y0 + line * line_gap + (x - w / 2) * slope + rng.normal(0, 0.04 * height)
            places.append((x, y, size))
            x += size * (width + gap) + rng.normal(0, 0.03 * height)
    return places


def _write(rng, sheet: Sheet, digits: str, glyphs: GlyphSource, margin: float) -> list:
    """Draw the digits; return for each the corner points of its ink rows (for its box)."""
    w, h = sheet.image.size
    color, opacity, grainy = _ink(rng, sheet.board)
    shapes = [glyphs.glyph(rng, int(d), 0.2 * h) for d in digits]
    places = _layout(rng, [m.shape[1] / m.shape[0] for m in shapes], w, h, margin)
    cover = np.zeros((h, w), np.float32)
    outlines = []
    for mask, (x, y, height) in zip(shapes, places, strict=True):
        mask = _resize(mask, mask.shape[1] * height / mask.shape[0], height)
        # Pens leave crisp edges: sharpen the soft ramp of the glyph, relative to its peak so
        # that strokes thinner than a pixel after shrinking stay visible, as a pen's would.
        peak = max(float(mask.max()), 1e-3)
        mask = np.clip((mask / peak - rng.uniform(0.3, 0.55)) / rng.uniform(0.15, 0.35), 0, 1)
        # Handwriting leans (slant, a shear) as well as being turned a little.
        mask = _slant(mask, rng.normal(0, 0.15))
        angle = rng.normal(0, 5)
        mask = np.asarray(Image.fromarray(mask, "F").rotate(angle, expand=True))
        mh, mw = mask.shape
        if mw > w or mh > h:  # slant and turn can widen a big lone digit past a narrow sheet
            fit = min(w / mw, h / mh)
            mask = _resize(mask, max(1.0, mw * fit - 1), max(1.0, mh * fit - 1))
            mh, mw = mask.shape
        x0, y0 = int(np.clip(x, 0, w - mw)), int(np.clip(y - mh, 0, h - mh))
        area = cover[y0 : y0 + mh, x0 : x0 + mw]
        np.maximum(area, mask * rng.uniform(0.85, 1.0), out=area)
        outlines.append(_row_ends(mask > INK_LEVEL) + np.array([x0, y0]))
    if grainy:  # pencil and chalk skip over the paper's grain
        cover *= np.clip(rng.uniform(0.3, 1.4, cover.shape), 0, 1).astype(np.float32)
    alpha = Image.fromarray((cover * (255 * opacity)).astype(np.uint8))
    sheet.image.paste(color, mask=alpha)
    return outlines


def _slant(mask: np.ndarray, shear: float) -> np.ndarray:
    """The glyph leaning right (shear > 0: the top moves right by `shear` times the height)."""
    h, w = mask.shape
    extra = abs(shear) * h
    size = (w + int(np.ceil(extra)), h)
    # Output (x, y) samples input (x + shear * (y - h) + offset, y).
    offset = 0.0 if shear >= 0 else -extra
    data = (1.0, shear, -shear * h + offset, 0.0, 1.0, 0.0)
    image = Image.fromarray(mask, "F")
    return np.asarray(
        image.transform(size, Image.Transform.AFFINE, data, Image.Resampling.BILINEAR)
    )


def _row_ends(ink: np.ndarray) -> np.ndarray:
    """Corners of the first and last ink pixel of each row: their convex hull is the ink's, so
    they carry a tight box through any perspective transform."""
    rows = np.nonzero(ink.any(axis=1))[0]
    left = ink[rows].argmax(axis=1)
    right = ink.shape[1] - ink[rows, ::-1].argmax(axis=1)
    xs = np.concatenate([left, left, right, right])
    ys = np.concatenate([rows, rows + 1, rows, rows + 1])
    return np.stack([xs, ys], axis=1).astype(np.float64)


def _specks(rng: np.random.Generator, sheet: Sheet) -> None:
    """A few dust specks, far smaller than any digit."""
    w, h = sheet.image.size
    draw = ImageDraw.Draw(sheet.image)
    shade = int(rng.uniform(150, 230) if sheet.board else rng.uniform(40, 150))
    for _ in range(rng.integers(1, 7)):
        x, y, r = rng.uniform(2, w - 2), rng.uniform(2, h - 2), rng.uniform(0.4, 1.5)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(shade,) * 3)


# --- the photo: sheet in the frame, light, optics, sensor, JPEG --------------------------------


def _image_size(rng: np.random.Generator) -> tuple[int, int]:
    """Mostly modest photos for speed, some up to 2000x1500."""
    ranges = [(200, 640), (640, 1200), (1200, 2000)]
    longest = rng.uniform(*ranges[rng.choice(3, p=[0.65, 0.28, 0.07])])
    shortest = max(200.0, longest / rng.choice([1.0, 4 / 3, 3 / 2, 16 / 9]))
    size = (round(longest), round(shortest))
    return size if rng.random() < 0.5 else size[::-1]


def _sheet_quad(rng: np.random.Generator, w: int, h: int, border: bool) -> np.ndarray:
    """Where the sheet's corners (tl, tr, br, bl) land in the photo."""
    angle = np.radians(rng.normal(0, 3 if border else 0.8))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    if border:  # the whole sheet lies on a table, slightly rotated
        # A real sheet's shape (A4, letter, a square note, an index card), mostly turned the way
        # the photo is, filling 60-90% of the frame; not a strip of any aspect.
        aspect = rng.choice([1.414, 1.294, 1.0, 1.5])
        landscape = (w >= h) == (rng.random() < 0.8)
        ratio = aspect if landscape else 1 / aspect  # width over height
        fill = rng.uniform(0.3, 0.45)
        half_w = min(w * fill, h * fill * ratio)
        half = np.array([half_w, half_w / ratio])
    else:  # the sheet fills the frame: push its corners out so no edge shows
        half = np.array([w, h]) * (0.5 + abs(angle) * max(w / h, h / w) + rng.uniform(0.02, 0.05))
    corners = (np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half) @ rotate.T
    # Perspective: each corner moves a little, outwards only when the sheet fills the frame.
    jitter = rng.uniform(-0.025, 0.025, (4, 2)) * min(w, h)
    corners += jitter if border else np.sign(corners) * np.abs(jitter)
    center = np.array([w, h]) / 2
    if border:  # slide it off-centre as far as the frame allows
        room = np.maximum(center - np.abs(corners).max(axis=0) - 2, 0)
        center += rng.uniform(-1, 1, 2) * room
    return corners + center


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(np.array(rows, float), dst.reshape(-1).astype(float))
    return np.append(solution, 1.0).reshape(3, 3)


def _table(rng: np.random.Generator, w: int, h: int, shade: np.ndarray) -> Image.Image:
    """A desk (wood, grey, dark or white) with grain along one axis, darkened by `shade`."""
    pick = rng.integers(4)
    base = np.array([[150, 105, 65], [120, 120, 125], [55, 48, 42], [205, 203, 196]][pick])
    grain = 0.07 if pick == 0 else 0.015  # only wood shows strong grain
    lum = 1 + grain * _resize(rng.standard_normal((48, 3), dtype=np.float32), w, h)
    lum *= 1 - 0.35 / 255 * shade
    rgb = lum[..., None] * (base * rng.uniform(0.85, 1.15)).astype(np.float32)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _warp(rng, sheet: Image.Image, matrix: np.ndarray, w: int, h: int, border: bool):
    """The sheet seen by the camera, lying on a table when `border`."""
    inverse = np.linalg.inv(matrix)
    data = tuple((inverse / inverse[2, 2]).reshape(-1)[:8])
    fill = sheet.getpixel((sheet.width // 2, sheet.height // 2))
    perspective = Image.Transform.PERSPECTIVE
    warped = sheet.transform((w, h), perspective, data, Image.Resampling.BILINEAR, fillcolor=fill)
    if not border:
        return warped
    cover = Image.new("L", sheet.size, 255).transform((w, h), perspective, data)
    # The sheet casts a soft shadow on the table, offset away from the light.
    dx, dy = rng.integers(1, 4, 2) * max(1, min(w, h) // 300)
    shade = cover.filter(ImageFilter.GaussianBlur(max(2, min(w, h) / 80)))
    shade = shade.transform((w, h), Image.Transform.AFFINE, (1, 0, -dx, 0, 1, -dy))
    return Image.composite(warped, _table(rng, w, h, np.asarray(shade, np.float32)), cover)


def _light(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Brightness (h, w, 1): a gradient, vignetting and sometimes a hand's soft shadow."""
    lw, lh = max(8, w // 8), max(8, h // 8)
    ys, xs = np.mgrid[0:lh, 0:lw].astype(np.float32)
    xs, ys = xs / lw - 0.5, ys / lh - 0.5
    phi = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0, 0.3) * (np.cos(phi) * xs + np.sin(phi) * ys)
    light *= 1 - rng.uniform(0, 0.25) * (xs**2 + ys**2)
    if rng.random() < 0.4:
        # A blob entering from the left edge, then flipped or transposed onto a random side.
        edge = np.sort(rng.uniform(-0.3, 1.3, 2))
        depth = rng.uniform(0.15, 0.6, 2)
        pts = np.array([[-0.5, edge[0]], [depth[0], edge[0]], [depth[1], edge[1]], [-0.5, edge[1]]])
        pts = [pts, pts * [-1, 1] + [1, 0], pts[:, ::-1], pts[:, ::-1] * [1, -1] + [0, 1]][
            rng.integers(4)
        ]
        shadow = Image.new("L", (lw, lh), 0)
        ImageDraw.Draw(shadow).polygon([(x * lw, y * lh) for x, y in pts], 255)
        soft = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(0.04, 0.12) * min(lw, lh)))
        light *= 1 - rng.uniform(0.15, 0.45) / 255 * np.asarray(soft, np.float32)
    return _resize(light.astype(np.float32), w, h)[..., None]


def _camera(rng: np.random.Generator, photo: Image.Image) -> np.ndarray:
    w, h = photo.size
    scale = max(1.0, max(w, h) / 800)
    tint = rng.uniform(0.96, 1.03, 3).astype(np.float32) * rng.uniform(0.85, 1.1)
    image = np.multiply(np.asarray(photo), tint, dtype=np.float32)
    image *= _light(rng, w, h)
    image += (rng.random(image.shape, dtype=np.float32) - 0.5) * rng.uniform(3, 18)  # sensor
    pixels = np.clip(image, 0, 255, out=image).astype(np.uint8)
    if rng.random() < 0.2:  # hand shake: a short straight smear
        length = int(rng.integers(2, 4 + 3 * scale))
        pixels = ndimage.uniform_filter1d(pixels, length, axis=int(rng.integers(2)))
    photo = Image.fromarray(pixels)
    sigma = rng.uniform(0, 1.1) * scale
    if sigma > 0.3:  # defocus
        photo = photo.filter(ImageFilter.GaussianBlur(sigma))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=int(rng.integers(40, 96)))
    return np.asarray(Image.open(buffer).convert("RGB"))


def _box(matrix: np.ndarray, outline: np.ndarray, w: int, h: int) -> Box:
    mapped = np.c_[outline, np.ones(len(outline))] @ matrix.T
    points = mapped[:, :2] / mapped[:, 2:]
    x0, y0 = np.floor(points.min(axis=0)).astype(int).clip(0, [w - 1, h - 1])
    x1, y1 = np.ceil(points.max(axis=0)).astype(int).clip(0, [w, h])
    return int(x0), int(y0), int(max(1, x1 - x0)), int(max(1, y1 - y0))


def make_photo(
    rng: np.random.Generator, kind: str, glyphs: GlyphSource, *, size: tuple[int, int] | None = None
) -> SyntheticPhoto:
    """One photo of `kind` ("single", "number" or "blank"); `size` is (width, height)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    w, h = size or _image_size(rng)
    count = {"single": 1, "number": int(rng.integers(2, 9)), "blank": 0}[kind]
    text = "".join(str(d) for d in rng.integers(0, 10, count))
    border = rng.random() < 0.35
    quad = _sheet_quad(rng, w, h, border)
    sheet_w = round(np.hypot(*(quad[1] - quad[0])))
    sheet_h = round(np.hypot(*(quad[3] - quad[0])))
    sheet = _paper(rng, sheet_w, sheet_h)
    # Without a table the sheet's edges are outside the frame: keep the digits well inside.
    outlines = _write(rng, sheet, text, glyphs, 0.06 if border else 0.13) if text else []
    if kind == "blank" or rng.random() < 0.15:
        _specks(rng, sheet)
    corners = np.array([[0, 0], [sheet_w, 0], [sheet_w, sheet_h], [0, sheet_h]], float)
    matrix = _homography(corners, quad)
    image = _camera(rng, _warp(rng, sheet.image, matrix, w, h, border))
    return SyntheticPhoto(image, text, [_box(matrix, o, w, h) for o in outlines], kind)


def make_set(
    count: int, seed: int, kinds: Sequence[str] = KINDS, glyphs: GlyphSource | None = None
) -> Iterator[SyntheticPhoto]:
    """`count` photos, kinds taken in turn, glyphs by default from `GlyphSource()` (MNIST "eval"
    part and fonts). Photo i depends only on (seed, i), so any one can be regenerated alone. An
    iterator: a thousand photos would not fit in memory at once."""
    glyphs = glyphs or GlyphSource()
    for index in range(count):
        yield make_photo(np.random.default_rng([seed, index]), kinds[index % len(kinds)], glyphs)
