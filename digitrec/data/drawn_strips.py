"""Line strips drawn straight from MNIST training digits, without a photo: more training data for
the line reader (digitrec.line_reader) than photos can give in the time.

Strips cut from synthetic photos (data.line_strips) look the most like what the reader meets, but
the pipeline makes about nine a second per core. These are made thousands a second and show the
reader many more writers' digits, written close together, touching and overlapping as hurried
numbers are: each digit scaled to about the strip's digit height, thickened or thinned, slanted,
set beside the last at a gap from overlapping by a third to half a digit apart, a little up or
down, then the whole softened and its faint fringe cut away, as segmentation keeps only a
blob's own ink.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitrec.data.datasets import DigitSet
from digitrec.vision.strips import STRIP_DIGIT, STRIP_HEIGHT, STRIP_PAD

MAX_DIGITS = 8
GAPS = (-0.35, 0.5)  # gap to the previous digit, in digit heights (negative: overlap)


def _ink_crop(image: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(image.max(axis=1) > 0)
    cols = np.flatnonzero(image.max(axis=0) > 0)
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _glyph(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit as float ink about STRIP_DIGIT px tall, a little slanted and its stroke
    a little thicker or thinner."""
    glyph = _ink_crop(image).astype(np.float32) / 255.0
    height = STRIP_DIGIT * rng.uniform(0.85, 1.15)
    scale = height / glyph.shape[0]
    size = (max(1, round(glyph.shape[1] * scale)), max(1, round(height)))
    glyph = cv2.resize(glyph, size, interpolation=cv2.INTER_LINEAR)
    shear = rng.normal(0, 0.12)
    pad = int(np.ceil(abs(shear) * glyph.shape[0])) + 1
    glyph = np.pad(glyph, ((0, 0), (pad, pad)))
    matrix = np.float32([[1, shear, -shear * glyph.shape[0] / 2], [0, 1, 0]])
    glyph = cv2.warpAffine(glyph, matrix, (glyph.shape[1], glyph.shape[0]))
    pen = rng.random()
    if pen < 0.2:
        glyph = cv2.dilate(glyph, np.ones((2, 2), np.uint8))
    elif pen < 0.35:
        glyph = cv2.erode(glyph, np.ones((2, 1), np.uint8))
    cols = np.flatnonzero(glyph.max(axis=0) > 0.05)
    return glyph[:, cols[0] : cols[-1] + 1] if len(cols) else glyph


def drawn_strip(digits: DigitSet, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A strip of 1 to MAX_DIGITS random digits of `digits`, and its text."""
    count = int(rng.integers(1, MAX_DIGITS + 1))
    picks = rng.integers(0, len(digits), count)
    glyphs = [_glyph(digits.images[k], rng) for k in picks]
    text = "".join(digits.classes[digits.labels[k]] for k in picks)
    starts, cursor = [], float(STRIP_PAD)
    for k, glyph in enumerate(glyphs):
        if k:
            cursor += rng.uniform(*GAPS) * STRIP_DIGIT
            # No digit may hide more than half of the last: it would not be readable.
            cursor = max(cursor, starts[-1] + 0.5 * glyphs[k - 1].shape[1])
        starts.append(cursor)
        cursor += glyph.shape[1]
    width = int(np.ceil(cursor)) + STRIP_PAD
    strip = np.zeros((STRIP_HEIGHT, width), np.float32)
    for glyph, start in zip(glyphs, starts, strict=True):
        height = min(glyph.shape[0], STRIP_HEIGHT)
        top = int(
            np.clip(
                round((STRIP_HEIGHT - height) / 2 + rng.normal(0, 1.5)), 0, STRIP_HEIGHT - height
            )
        )
        left = round(start)
        area = strip[top : top + height, left : left + glyph.shape[1]]
        np.maximum(area, glyph[:height, : area.shape[1]], out=area)
    blur = rng.uniform(0, 0.9)
    if blur > 0.3:
        strip = cv2.GaussianBlur(strip, (0, 0), blur)
    strip[strip < rng.uniform(0.05, 0.3) * strip.max()] = 0.0
    return strip / max(float(strip.max()), 1e-6), text
