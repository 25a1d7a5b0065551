"""Marks that are not digits, drawn as 28x28 MNIST-style crops, beside digits drawn the same way:
the training data of the digitness check (digitrec.digitness).

A classifier of ten digits answers a digit for anything it is shown, and a scribble, a letter
or a doodle often gets a confident one. These are what a person writes or draws on paper that
is not a digit:

- scribbles: a pen wandering at random (straight or curved steps), a coil of loops run along a
  line (joined-up writing seen from afar), a patch scribbled out back and forth;
- letters of the handwriting fonts, less those a hand makes like a digit (O, I, S, Z, B, g, q
  and the like);
- doodles: a cross, a star, a hash, a box, a triangle, an arrow, a spiral, a wave.

Every mark, digit or not, goes the same way: a coverage mask, its pen made thicker or thinner,
shrunk to a random height (a small mark in a photo comes out blurred), blurred, then framed by
`vision.mnist_frame.mnist_digit` as the reader frames what it finds. The digits are those of
`GlyphSource` for `part`: MNIST training digits and the training font families for "train",
never the photo benchmark's.
"""

from __future__ import annotations

import glob
from collections.abc import Callable

import cv2
import numpy as np

from digitrec.data.synthetic_photos import TRAIN_PART, GlyphSource, font_mask, usable_fonts
from digitrec.vision.components import axis_variances
from digitrec.vision.mnist_frame import mnist_digit

# Letters whose handwritten shapes are not a digit's. Left out: O o Q D C c U (0), I l i j J T t
# r f (1, 7), S s (5), Z z (2), B (8), b G (6), g q a d e p P (9, 6), y Y A h u n k (4; the
# last five each a 4 of some MNIST writer).
LETTERS = "EFHKMNRVWXmvwx"
CANVAS = 96  # side of the square a scribble or doodle is drawn in, before framing
# Printed type, digits and letters alike, for this share of the marks: the same shapes in the
# same style on both sides teach the check a digit's shape, not a font's look.
PRINTED_FONTS = "/usr/share/fonts/truetype/dejavu/DejaVu*.ttf"
PRINTED_SHARE = 0.25
# MNIST's own training digits, as they come, for this share of the digits: the drawn ones are
# framed by this module, and MNIST's anti-aliasing is not quite its.
MNIST_AS_IS = 0.3
# A mark whose ink spreads this much less across than along frames as a 1 or a dash, whatever
# was drawn: never drawn as a non-digit (see bar_like).
BAR_SPREAD = 0.4
KINDS = ("scribble", "coil", "scribble-out", "letter", "doodle")


def scribble(rng: np.random.Generator) -> np.ndarray:
    """A pen wandering at random: 12-40 steps, straight or smoothed into curves. (Fewer steps
    draw a digit's shape too often.)"""
    steps = int(rng.integers(12, 41))
    points = np.cumsum(rng.normal(0, CANVAS / 6, (steps, 2)), axis=0)
    if rng.random() < 0.5:  # a hand's curves: each point the mean of its neighbours
        kernel = np.ones(3) / 3
        points = np.stack([np.convolve(points[:, k], kernel, mode="valid") for k in (0, 1)], 1)
    return _polyline(rng, points)


def coil(rng: np.random.Generator) -> np.ndarray:
    """Loops run along a line, 3-7 of them, apart enough that they do not pile into one ring (a
    0), as a hand scribbles joined-up writing."""
    loops = int(rng.integers(3, 8))
    t = np.linspace(0, 2 * np.pi * loops, 40 * loops)
    radius = rng.uniform(0.6, 1.4) * (1 + rng.normal(0, 0.15, t.size).cumsum() / np.sqrt(t.size))
    x = t * rng.uniform(0.25, 0.5) + radius * np.cos(t)
    y = radius * rng.uniform(0.8, 2.0) * np.sin(t)
    return _polyline(rng, _rotated(rng, np.stack([x, y], 1)))


def scribble_out(rng: np.random.Generator) -> np.ndarray:
    """A patch scribbled over back and forth, 6-14 strokes at least half as high as long, as a
    word is crossed out. (A flatter patch frames as a bar, a 1; fewer strokes draw a Z, a 2.)"""
    strokes = int(rng.integers(6, 15))
    x = np.where(np.arange(strokes) % 2 == 0, 0.0, 1.0) + rng.normal(0, 0.08, strokes)
    y = np.linspace(0, rng.uniform(0.5, 1.2), strokes) + rng.normal(0, 0.04, strokes)
    return _polyline(rng, _rotated(rng, np.stack([x, y], 1)))


def doodle(rng: np.random.Generator) -> np.ndarray:
    """A small drawing: a cross, a star, a hash, a box, a triangle, an arrow, a spiral or a wave."""
    shape = int(rng.integers(8))
    if shape == 0:  # x or +
        strokes = [[(-1, -1), (1, 1)], [(-1, 1), (1, -1)]]
    elif shape == 1:  # a five-pointed star drawn in one line
        angles = np.pi / 2 + np.arange(6) * 4 * np.pi / 5
        strokes = [list(zip(np.cos(angles), np.sin(angles), strict=True))]
    elif shape == 2:  # a hash
        strokes = [[(-0.4, -1), (-0.5, 1)], [(0.4, -1), (0.3, 1)]]
        strokes += [[(-1, -0.4), (1, -0.4)], [(-1, 0.4), (1, 0.4)]]
    elif shape == 3:  # a box
        strokes = [[(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]]
    elif shape == 4:  # a triangle
        strokes = [[(0, -1), (1, 0.8), (-1, 0.8), (0, -1)]]
    elif shape == 5:  # an arrow
        strokes = [[(-1, 0), (1, 0)], [(0.5, -0.5), (1, 0), (0.5, 0.5)]]
    elif shape == 6:  # a spiral of 2-4 turns
        t = np.linspace(0, 2 * np.pi * rng.uniform(2, 4), 200)
        strokes = [list(zip(t * np.cos(t), t * np.sin(t), strict=True))]
    else:  # a wave of 2-4 periods
        t = np.linspace(0, 2 * np.pi * rng.uniform(2, 4), 200)
        strokes = [list(zip(t, np.sin(t) * t[-1] * rng.uniform(0.1, 0.25), strict=True))]
    jitter = rng.uniform(0, 0.06)
    lines = [np.asarray(s, float) + rng.normal(0, jitter, np.shape(s)) for s in strokes]
    lines = [_rotated(rng, line, spread=np.pi) for line in lines]  # the same turn for all
    return _polylines(rng, lines)


def letter(rng: np.random.Generator, fonts: list[str]) -> np.ndarray | None:
    """One of LETTERS in one of `fonts`; None without fonts."""
    if not fonts:
        return None
    return font_mask(fonts[int(rng.integers(len(fonts)))], LETTERS[int(rng.integers(len(LETTERS)))])


def framed(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """A mark's coverage mask (ink 1) as the reader frames a mark found in a photo: its pen
    made thicker or thinner, shrunk to 10-80 px tall, blurred a little, cropped to its ink and
    framed MNIST-style (float32 (28, 28))."""
    mask = np.asarray(mask, np.float32)
    step = int(rng.integers(0, max(1, mask.shape[0] // 12)))
    if step > 0:
        grow = cv2.dilate if rng.random() < 0.6 else cv2.erode
        grown = grow(mask, np.ones((step, step), np.uint8))
        mask = grown if grown.max() > 0.5 else mask  # not a fine pen's strokes eroded away
    height = rng.uniform(10, 80)
    scale = min(1.0, height / max(mask.shape))
    if scale < 1.0:
        size = (max(1, round(mask.shape[1] * scale)), max(1, round(mask.shape[0] * scale)))
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.3, 1.0))
    rows, cols = np.nonzero(mask > 0.2)
    if rows.size == 0:
        rows, cols = np.nonzero(mask > 0)
    crop = mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return mnist_digit(crop / max(float(crop.max()), 1e-6))


def marks(count: int, seed: int, part: str = TRAIN_PART) -> tuple[np.ndarray, np.ndarray]:
    """`count` framed marks, half digits (label 1) and half not (label 0): (uint8 (N, 28, 28),
    ink bright, int64 (N,)). Mark i of a seed is the same whatever the count."""
    glyphs = GlyphSource(mnist_part=part)
    drawers = makers(usable_fonts(part))
    printed_fonts = sorted(glob.glob(PRINTED_FONTS))
    images = np.zeros((count, 28, 28), np.uint8)
    labels = np.zeros(count, np.int64)
    for i in range(count):
        rng = np.random.default_rng((seed, i))
        labels[i] = i % 2
        printed = bool(printed_fonts) and rng.random() < PRINTED_SHARE
        if labels[i] and printed:
            digit = str(int(rng.integers(10)))
            image = framed(
                rng, font_mask(printed_fonts[int(rng.integers(len(printed_fonts)))], digit)
            )
        elif labels[i] and rng.random() < MNIST_AS_IS:
            pool = glyphs.by_digit[int(rng.integers(10))]
            image = pool[int(rng.integers(len(pool)))].astype(np.float32) / 255.0
        elif labels[i]:
            mask = glyphs.glyph(rng, int(rng.integers(10)), rng.uniform(40, 90))
            image = framed(rng, mask)
        elif printed:
            image = framed(rng, letter(rng, printed_fonts))
        else:
            image = None
            while image is None or bar_like(image):
                mask = drawers[KINDS[int(rng.integers(len(KINDS)))]](rng)
                image = None if mask is None else framed(rng, mask)
        images[i] = np.round(image * 255).astype(np.uint8)
    return images, labels


def makers(fonts: list[str]) -> dict[str, Callable[[np.random.Generator], np.ndarray | None]]:
    """Each of KINDS' drawing function."""
    return {
        "scribble": scribble,
        "coil": coil,
        "scribble-out": scribble_out,
        "letter": lambda rng: letter(rng, fonts),
        "doodle": doodle,
    }


def bar_like(image: np.ndarray) -> bool:
    """Whether a framed mark is a bar, however turned (its ink's spread across under
    BAR_SPREAD of its spread along, in standard deviations): a 1 or a dash, whatever was
    drawn."""
    ink = (np.asarray(image) > 0.2).astype(np.int32)
    pixels = int(ink.sum())
    if pixels < 3:
        return True
    along, across, _, _ = axis_variances(ink, 1, np.array([pixels], float))
    return bool(np.sqrt(max(float(across[0]), 0) / max(float(along[0]), 1e-9)) < BAR_SPREAD)


def _rotated(rng: np.random.Generator, points: np.ndarray, spread: float = 0.6) -> np.ndarray:
    angle = rng.uniform(-spread, spread)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ turn.T


def _polyline(rng: np.random.Generator, points: np.ndarray) -> np.ndarray:
    return _polylines(rng, [points])


def _polylines(rng: np.random.Generator, lines: list[np.ndarray]) -> np.ndarray:
    """The lines scaled together into CANVAS, drawn anti-aliased with a random pen, as a
    coverage mask."""
    every = np.concatenate(lines)
    low, span = every.min(axis=0), np.maximum(np.ptp(every, axis=0), 1e-6)
    pen = int(rng.integers(2, 9))
    scale = (CANVAS - 2 * pen) / span.max()
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    shift = 16  # sub-pixel bits of cv2's fixed-point coordinates
    for line in lines:
        xy = np.round(((line - low) * scale + pen) * 2**shift).astype(np.int32)
        cv2.polylines(canvas, [xy], False, 255, pen, cv2.LINE_AA, shift)
    return canvas.astype(np.float32) / 255.0
