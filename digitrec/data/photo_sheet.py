"""The sheet of a synthetic photo (digitrec.data.synthetic_photos), drawn flat in its own pixels:
plain, lined or squared paper or a chalkboard, the digits written on it in pen, pencil or chalk,
and dust specks. digitrec.data.photo_camera then puts it in the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

if TYPE_CHECKING:  # only for annotations: synthetic_photos imports this module
    from digitrec.data.synthetic_photos import GlyphSource

INK_LEVEL = 0.25  # coverage above which a pixel counts as a digit's ink for its box
Ink = tuple[tuple[int, ...], float, bool]  # colour, opacity, grainy


# resize serves the glyphs (synthetic_photos) and the camera (photo_camera) too: both import
# this module, so it lives here and imports stay one-way.
def resize(array: np.ndarray, width: float, height: float) -> np.ndarray:
    size = (max(1, round(width)), max(1, round(height)))
    return np.asarray(Image.fromarray(array, "F").resize(size, Image.Resampling.BICUBIC))


def _smooth_noise(rng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: a coarse random grid upscaled smoothly."""
    grid = rng.standard_normal((cells, max(2, cells * w // max(h, 1))), dtype=np.float32)
    return resize(grid, w, h)


@dataclass
class Sheet:
    image: Image.Image  # RGB
    board: bool


def make_paper(rng: np.random.Generator, w: int, h: int) -> Sheet:
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


def pick_ink(rng: np.random.Generator, board: bool) -> Ink:
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


def write_digits(
    rng, sheet: Sheet, digits: str, glyphs: GlyphSource, margin: float, ink: Ink
) -> list:
    """Draw the digits with `ink` (from `pick_ink`); return for each the corner points of its ink
    rows (for its box)."""
    w, h = sheet.image.size
    color, opacity, grainy = ink
    shapes = [glyphs.glyph(rng, int(d), 0.2 * h) for d in digits]
    places = _layout(rng, [m.shape[1] / m.shape[0] for m in shapes], w, h, margin)
    cover = np.zeros((h, w), np.float32)
    outlines = []
    for mask, (x, y, height) in zip(shapes, places, strict=True):
        mask = resize(mask, mask.shape[1] * height / mask.shape[0], height)
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
            mask = resize(mask, max(1.0, mw * fit - 1), max(1.0, mh * fit - 1))
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


def add_specks(rng: np.random.Generator, sheet: Sheet) -> None:
    """A few dust specks, far smaller than any digit."""
    w, h = sheet.image.size
    draw = ImageDraw.Draw(sheet.image)
    shade = int(rng.uniform(150, 230) if sheet.board else rng.uniform(40, 150))
    for _ in range(rng.integers(1, 7)):
        x, y, r = rng.uniform(2, w - 2), rng.uniform(2, h - 2), rng.uniform(0.4, 1.5)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(shade,) * 3)
