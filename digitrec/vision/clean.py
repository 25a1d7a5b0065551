"""The fast path for clean images: a drawing, a screenshot, a clean scan, MNIST itself.

Such an image is ink on a flat background: no shadow, no lighting gradient, no paper texture,
no ruled lines. The photo pipeline (sheet detection, background estimation fitted to the
stroke width, line removal, stroke tests) costs tens of milliseconds even on a small image and
changes nothing there; a server reading digits drawn on its page spends most of its time in it.
clean_ink recognises the case from the pixel values alone and maps the ink directly; anything
it is not sure of (returns None) goes through the full pipeline.
"""

import numpy as np
from scipy import ndimage

from digitrec.vision import filters
from digitrec.vision.preprocess import _otsu
from digitrec.vision.rules import label

# The background (all pixels further than INK_MARGIN from the ink) must be flat: the range of
# its BACKGROUND_PERCENTILES under FLAT_RANGE (not its extremes: the soft fringe of a blurred or
# enlarged digit reaches further than the margin), and the ink must stand out of it by
# MIN_CONTRAST. A photo's paper varies by 10-30% across the frame; a drawing's or a scanner's
# white by a few %.
FLAT_RANGE = 0.08
MIN_CONTRAST = 0.4
# The margin is a share of the image's longer side, at least a pixel.
INK_MARGIN = 1 / 50
BACKGROUND_PERCENTILES = (5, 95)
# The background is most of the image, and the ink a real share of it, not a few hot pixels.
MIN_BACKGROUND = 0.5
MIN_INK = 0.002
# Strokes are thin: at most THICK_SHARE of the ink survives an erosion by a square of
# THICK_SIZE of the image's shorter side (a marker's stroke on a drawing is about 1/12 of it, more
# where strokes meet). A sheet of paper lying on a dark table is "ink" to the threshold and must
# go to the full pipeline, which finds sheets.
THICK_SIZE = 1 / 8
THICK_SHARE = 0.05
# Gaps up to this share of the shorter side are closed first: squared paper's lines cut a
# sheet into cells too small to survive the erosion, and a sheet of it on a dark table (a
# "bright ink" of half the photo) went the fast path. On synthetic photos (tune half) single
# digits read 2,931 instead of 2,930 of 3,000 and numbers 1,625 instead of 1,624 of 1,800,
# the rest as before. Not in images under 75 px, where it closed a small 6's loop.
CLOSE_GAPS = 1 / 50
# Nor does the ink run along the image's edge: a dark table framing a sheet that fills most of
# the photo does, over more than BORDER_INK of some side.
BORDER_INK = 0.2
# A component this long (share of the image's side) and at most LINE_WIDE of its length across
# is a ruled line or a frame edge, alone or with the digits it runs through (a number's digits
# rarely touch all along): the full pipeline removes those.
LINE_SPAN = 0.8
LINE_WIDE = 1 / 3
# Straight rules and frames fill FULL_ROW of a row or column (a digit never does); a grid or
# frame joined to the digits spans the image both ways but covers under LATTICE_FILL of it (a
# big drawn 0 covers ~0.4).
FULL_ROW = 0.9
LATTICE_FILL = 0.3
# The mask: a third of the way from the paper to the typical ink. Not half way: a fainter pen
# among bolder ones (or a light stroke of one digit) must keep its whole stroke.
MASK_LEVEL = 0.3


def clean_ink(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The ink map (float32, background 0, ink 1) of a clean image and its mask, or None if
    `gray` (float in [0, 1], (H, W)) does not look clean: then the full photo pipeline must
    read it."""
    if min(gray.shape) < 8:
        return None
    signal, ink, background = _split(gray)
    share = np.count_nonzero(ink) / ink.size
    if not MIN_INK <= share <= 1 - MIN_BACKGROUND:
        return None
    if background.size < MIN_BACKGROUND * signal.size:
        return None
    low, high = np.percentile(background, BACKGROUND_PERCENTILES)
    # The ink's own level: its upper part, as the strokes' cores are, not their soft fringes.
    level = float(np.percentile(signal[ink], 75))
    if high - low > FLAT_RANGE or level - high < MIN_CONTRAST:
        return None
    if _has_thick_ink(ink) or _runs_along_border(ink) or _has_long_line(ink):
        return None
    mapped = np.clip((signal - high) / (level - high), 0.0, 1.0).astype(np.float32)
    return mapped, mapped > MASK_LEVEL


def flat_paper(gray: np.ndarray) -> bool:
    """Whether what lies away from the ink of `gray` (float in [0, 1], (H, W)) is as flat as a
    clean image's background, however little of it there is: a drawing or a scan cropped
    tight to its ink, not a photo (clean_ink asks for more: a background around the ink)."""
    if min(gray.shape) < 8:
        return False
    _, _, background = _split(gray)
    if not background.size:
        return False
    low, high = np.percentile(background, BACKGROUND_PERCENTILES)
    return bool(high - low <= FLAT_RANGE)


def _split(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image as ink signal (ink high), its ink by Otsu's threshold, and the signal of the
    background further than INK_MARGIN from the ink."""
    # On a flat background the ink is the minority and pulls the mean its way from the median.
    signal = 1.0 - gray if np.mean(gray) < np.median(gray) else gray
    ink = signal > _otsu(signal)
    margin = max(1, round(INK_MARGIN * max(gray.shape)))
    # A dilation by a square, as a maximum filter on bytes: its cost does not grow with it.
    near_ink = filters.grow(ink, (2 * margin + 1, 2 * margin + 1))
    return signal, ink, signal[~near_ink]


def _has_thick_ink(ink: np.ndarray) -> bool:
    size = max(3, round(THICK_SIZE * min(ink.shape)) | 1)
    gap = round(CLOSE_GAPS * min(ink.shape)) | 1
    # Dilation and erosion by squares as maximum and minimum filters on bytes: their cost does
    # not grow with the size.
    closed = filters.shrink(filters.grow(ink, (gap, gap)), (gap, gap)) if gap > 1 else ink
    core = filters.shrink(closed, (size, size))
    return np.count_nonzero(core) > THICK_SHARE * np.count_nonzero(ink)


def _runs_along_border(ink: np.ndarray) -> bool:
    sides = (ink[0], ink[-1], ink[:, 0], ink[:, -1])
    return any(np.count_nonzero(side) > BORDER_INK * side.size for side in sides)


def _has_long_line(ink: np.ndarray) -> bool:
    """Ruled lines, a margin, a frame or a grid: the full pipeline takes those out."""
    if (ink.mean(axis=0) >= FULL_ROW).any() or (ink.mean(axis=1) >= FULL_ROW).any():
        return True  # a straight line along a whole row or column
    labels = label(ink)
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        height, width = rows.stop - rows.start, cols.stop - cols.start
        long, across = max(height, width), min(height, width)
        side = ink.shape[0] if height >= width else ink.shape[1]
        if long >= LINE_SPAN * side and across <= LINE_WIDE * long:
            return True  # a line, alone or with the digits it runs through
        spans = height >= LINE_SPAN * ink.shape[0] and width >= LINE_SPAN * ink.shape[1]
        if spans and np.count_nonzero(labels[rows, cols] == index) < LATTICE_FILL * long * across:
            return True  # thin ink spanning the image both ways: a lattice or a frame
    return False
