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

The sheet and its ink are drawn by digitrec.data.photo_sheet, the photo of it (framing, light,
optics, sensor, JPEG, boxes) by digitrec.data.photo_camera; this module holds the glyphs and
puts a scene together.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from digitrec.data.datasets import load_splits, load_test_set
from digitrec.data.photo_camera import (
    Box,
    homography,
    image_size,
    photo_box,
    sheet_quad,
    through_camera,
    warp_sheet,
)
from digitrec.data.photo_sheet import (
    INK_LEVEL,
    add_specks,
    make_paper,
    pick_ink,
    resize,
    write_digits,
)

# The public API, including the names that now live in photo_sheet and photo_camera.
__all__ = [
    "FONT_GLOBS",
    "FONT_SHARE",
    "INK_LEVEL",
    "KINDS",
    "MNIST_PARTS",
    "TRAIN_FONT_FAMILIES",
    "TRAIN_HOLDOUT",
    "TRAIN_PART",
    "Box",
    "GlyphSource",
    "SyntheticPhoto",
    "find_fonts",
    "make_photo",
    "make_set",
    "usable_fonts",
]

KINDS = ("single", "number", "blank")
MNIST_PARTS = {"tune": slice(0, 5000), "eval": slice(5000, 10000), "all": slice(0, 10000)}
# Training digits for photos to train on: the training split of `load_splits("mnist")` with its
# default validation carving, so no validation or test digit reaches a model through a photo.
TRAIN_PART = "train"
# That carving, (val_size, seed): a run that carves its validation set otherwise would find some
# of these digits in it.
TRAIN_HOLDOUT = (5000, 0)
FONT_GLOBS = (
    # Families the tune and eval photos draw on.
    "/usr/share/fonts/truetype/fifthhorseman/dkg*.ttf",
    "/usr/share/fonts/truetype/breip/*.ttf",
    "/usr/share/fonts/truetype/femkeklaver/*.ttf",
    "/usr/share/fonts/opentype/dancingscript/*.otf",
    # Families photos to train on draw on (TRAIN_FONT_FAMILIES).
    "/usr/share/fonts/opentype/bwht/*.otf",
    "/usr/share/fonts/opentype/comic-neue/*.otf",
    "/usr/share/fonts/truetype/humor-sans/*.ttf",
)
FONT_SHARE = 0.3  # fraction of glyphs drawn from fonts when fonts are used
# The font families (a font's folder) that photos to train on draw from; tune and eval photos
# draw from the others, so that a benchmark's font glyphs are hands no model trained on, as
# its MNIST digits are writers none trained on. (Eleven more families from Debian, of print,
# script and brush hands, were tried on 2026-12-02: a model retrained on their photos read tune
# photos no better.)
TRAIN_FONT_FAMILIES = frozenset({"bwht", "comic-neue", "humor-sans"})


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
        self.fonts = usable_fonts(mnist_part) if use_fonts else []

    def glyph(self, rng: np.random.Generator, digit: int, height: float) -> np.ndarray:
        from_font = bool(self.fonts) and rng.random() < FONT_SHARE
        if from_font:
            mask = _font_glyph(self.fonts[rng.integers(len(self.fonts))], digit)
        else:
            pool = self.by_digit[digit]
            mask = _crop(pool[rng.integers(len(pool))].astype(np.float32) / 255.0)
            # Upscale smoothly before changing thickness so a one-pixel step stays slight.
            scale = float(np.clip(height / mask.shape[0], 3, 10))
            mask = resize(mask, mask.shape[1] * scale, mask.shape[0] * scale)
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


def find_fonts(part: str = "eval") -> list[str]:
    """The installed handwriting fonts for photos of `part`: those of TRAIN_FONT_FAMILIES for
    TRAIN_PART, the others for any other part."""
    found = sorted(path for pattern in FONT_GLOBS for path in glob.glob(pattern))
    training = part == TRAIN_PART
    return [path for path in found if (Path(path).parent.name in TRAIN_FONT_FAMILIES) == training]


def usable_fonts(part: str = "eval") -> list[str]:
    """find_fonts(part) less the fonts that cannot draw a pen's digits: those without their
    own ten digits, and outline fonts."""
    return [path for path in find_fonts(part) if _draws_digits(path) and not _hollow(path)]


def _draws_digits(path: str) -> bool:
    """Whether the font has its own glyph for every digit: a font without them draws the same
    placeholder box (or nothing) for each."""
    try:
        glyphs = [_font_glyph(path, digit) for digit in range(10)]
    except (OSError, ValueError):  # unreadable font file, or a digit that draws no ink
        return False
    return len({(g.shape, g.tobytes()) for g in glyphs}) == 10


def _hollow(path: str) -> bool:
    """Outline fonts (femkeklaver) draw a digit's edges, not a pen's stroke: their "1", with
    the small gaps in its sketchy outline closed and filled in, has far more ink than drawn."""
    ink = np.pad(_font_glyph(path, 1) > 0.5, 5)
    filled = ndimage.binary_fill_holes(ndimage.binary_closing(ink, iterations=4))
    return filled.sum() > 1.5 * ink.sum()


def _font_glyph(path: str, digit: int) -> np.ndarray:
    return font_mask(path, str(digit))


@cache
def font_mask(path: str, text: str) -> np.ndarray:
    """`text` (a character) drawn in the font at `path`, 96 pt, as a coverage mask (ink 1.0)
    cropped to its ink."""
    font = ImageFont.truetype(path, 96)
    canvas = Image.new("L", (200, 200), 0)  # room for a W beside the 30-px margin
    ImageDraw.Draw(canvas).text((30, 30), text, fill=255, font=font)
    return _crop(np.asarray(canvas, np.float32) / 255.0)


def _crop(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask > 0.1)
    return np.pad(mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1], 1)


def make_photo(
    rng: np.random.Generator, kind: str, glyphs: GlyphSource, *, size: tuple[int, int] | None = None
) -> SyntheticPhoto:
    """One photo of `kind` ("single", "number" or "blank"); `size` is (width, height)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    w, h = size or image_size(rng)
    count = {"single": 1, "number": int(rng.integers(2, 9)), "blank": 0}[kind]
    text = "".join(str(d) for d in rng.integers(0, 10, count))
    border = rng.random() < 0.35
    quad = sheet_quad(rng, w, h, border)
    sheet_w = round(np.hypot(*(quad[1] - quad[0])))
    sheet_h = round(np.hypot(*(quad[3] - quad[0])))
    sheet = make_paper(rng, sheet_w, sheet_h)
    outlines = []
    if text:
        # The pen is picked here rather than in write_digits so that a test can swap this module's
        # `pick_ink` for one that draws the same scene with invisible ink.
        pen = pick_ink(rng, sheet.board)
        # Without a table the sheet's edges are outside the frame: keep the digits well inside.
        outlines = write_digits(rng, sheet, text, glyphs, 0.06 if border else 0.13, pen)
    if kind == "blank" or rng.random() < 0.15:
        add_specks(rng, sheet)
    corners = np.array([[0, 0], [sheet_w, 0], [sheet_w, sheet_h], [0, sheet_h]], float)
    matrix = homography(corners, quad)
    image = through_camera(rng, warp_sheet(rng, sheet.image, matrix, w, h, border))
    return SyntheticPhoto(image, text, [photo_box(matrix, o, w, h) for o in outlines], kind)


def make_set(
    count: int, seed: int, kinds: Sequence[str] = KINDS, glyphs: GlyphSource | None = None
) -> Iterator[SyntheticPhoto]:
    """`count` photos, kinds taken in turn, glyphs by default from `GlyphSource()` (MNIST "eval"
    part and fonts). Photo i depends only on (seed, i), so any one can be regenerated alone. An
    iterator: a thousand photos would not fit in memory at once."""
    glyphs = glyphs or GlyphSource()
    for index in range(count):
        yield make_photo(np.random.default_rng([seed, index]), kinds[index % len(kinds)], glyphs)


def cropped_to_digits(photo: SyntheticPhoto, side_margin: float) -> SyntheticPhoto:
    """The photo as a user cuts it down to the digits they wrote: to the union of the digit
    boxes, with `side_margin` median digit heights of room left and right and none above or
    below, so that the tallest digits touch the top and bottom edges (a single digit, with
    `side_margin` 0, touches all four). A blank page has nothing to crop to: it is returned
    as it is."""
    if not photo.boxes:
        return photo
    height, width = photo.image.shape[:2]
    margin = round(side_margin * float(np.median([h for _, _, _, h in photo.boxes])))
    left = max(0, min(x for x, _, _, _ in photo.boxes) - margin)
    right = min(width, max(x + w for x, _, w, _ in photo.boxes) + margin)
    top = max(0, min(y for _, y, _, _ in photo.boxes))
    bottom = min(height, max(y + h for _, y, _, h in photo.boxes))
    boxes = [(x - left, y - top, w, h) for x, y, w, h in photo.boxes]
    image = photo.image[top:bottom, left:right].copy()
    return SyntheticPhoto(image, photo.text, boxes, photo.kind)
