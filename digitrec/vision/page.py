"""The ink map of a photographed page: inside the sheet of paper if one was found (sheet.py),
its background estimated with a window fitted to the pen's stroke width, ruled and squared
lines taken out.

    page_ink -> (sheet.fill_outside) -> stroke_width -> preprocess.ink_levels
    -> without_long_lines

preprocess.threshold_ink turns any ink map into the mask the components are found in.
"""

import numpy as np
from scipy import ndimage

from digitrec.vision import filters
from digitrec.vision.components import STROKE_OF_HEIGHT, measure
from digitrec.vision.preprocess import (
    _BACKGROUND_WINDOW,
    MIN_EDGE_SHARPNESS,
    _shrink,
    dark_ink,
    ink_levels,
    threshold_ink,
)
from digitrec.vision.rules import label
from digitrec.vision.sheet import fill_outside

# The background window (see preprocess.ink_levels) is this many typical stroke widths, and
# at least MIN_WINDOW px: wide enough for a junction of strokes or a bold blot, narrow enough
# to take out shadows and the paper's mottling.
STROKE_WINDOW = 5.0
MIN_WINDOW = 15
# If no stroke is found with the image-sized background window, it is looked for again with a
# window of this share of the image's longer side.
NARROW_WINDOW = 0.1
# A component filling more than SOLID_FILL of its box, thinner than SOLID_THICKNESS of its
# narrower side, is a patch (of shading), not a stroke.
SOLID_FILL = 0.6
SOLID_THICKNESS = 0.8
# Lines longer than LINE_STROKES stroke widths are no writing (a digit is about 7-15 strokes
# tall, its straight strokes shorter still), within LINE_SLOPE degrees of the image axes.
LINE_STROKES = 30.0
# ... and lines longer than LINE_OF_IMAGE of the image's longer side are none either, however
# thick the pen: a marker's 30 strokes can be longer than a close-up photo, whose squared
# paper's lines then all stayed, joining its digit into one lattice. On synthetic photos (tune
# half) 5 more of 2,000 single digits read right, numbers and blank pages as before; at 0.5,
# the long strokes of a digit filling the photo began to go. Where a sheet was found, of its
# extent along them instead (its height for a vertical line, its width for a horizontal one):
# the lines of a sheet filling part of the photo were shorter than the image's share and
# stayed, and a bold digit crossing them went with them. On synthetic photos (tune half;
# measured with grouping's bars kept anywhere beside a digit) single digits 1,949 of 2,000
# instead of 1,944, numbers 1,629 of 1,800 instead of 1,625, none right before read wrong;
# blank pages as before. Not where no sheet was found: a number cropped
# close would lose its digits' strokes as vertical lines (33 of 600 such numbers lost).
LINE_OF_IMAGE = 0.75
LINE_SLOPE = 6.0
# A line is thinner across than this many stroke widths (thicker ones are left to rules.py).
LINE_THIN = 1.0
# Ink map level below which a long line is no line (paper grain, noise).
LINE_LEVEL = 0.05
# A band of line candidates this many times taller than one line can drift holds several lines.
MANY_LINES = 3
# A component spanning this share of the image both across and down is a page's lattice.
LATTICE_SPAN = 0.5
# Its lines are this share of the image's longer side at least; a number's digits are shorter.
LATTICE_LINE = 1 / 8
# A pen's strokes on one page are about equally crisp; a component far softer-edged than the
# crispest (under this share of its sharpness) is shading, however sharp a shadow's edge looks
# on its own. Stricter than strokes.RELATIVE_SHARPNESS, which drops candidate digits: here
# only the pen's width is measured, from the crispest strokes.
PEN_SHARPNESS = 0.5


def page_ink(
    small: np.ndarray, min_height: float, *, sheet: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """ink_levels of the work image, inside the `sheet` (its mask, the shape of `small`) if one
    was found, with a background window fitted to the pen's stroke width (see stroke_width)."""
    # Inside the sheet only: the table around it would swamp the ink statistics.
    source = small if sheet is None else fill_outside(small, sheet)
    # The stroke width is estimated on a copy of half the size, at a quarter of the cost.
    longest = max(source.shape)
    half = _shrink(source, longest // 2) if longest >= 4 * MIN_WINDOW else source
    factor = source.shape[0] / half.shape[0]
    # One polarity for every copy: a narrow window must not see the page differently.
    dark = dark_ink(source)
    first, contrast = ink_levels(half, dark=dark)
    stroke = stroke_width(first, min_height / factor)
    if stroke is None:
        # Broad shading that the image-sized window keeps may have swallowed the writing: look
        # again with a window of a share of the image (too narrow for a digit filling it, which
        # the first look finds).
        window = max(MIN_WINDOW, round(NARROW_WINDOW * max(half.shape)))
        stroke = stroke_width(ink_levels(half, window, dark=dark)[0], min_height / factor)
    window = round(STROKE_WINDOW * stroke * factor) if stroke else 0
    if window and window < _BACKGROUND_WINDOW * max(small.shape):
        ink, contrast = ink_levels(source, max(window, MIN_WINDOW), dark=dark)
    else:
        ink, contrast = ink_levels(source, dark=dark)
    if sheet is not None:
        ink[~sheet] = 0.0
    if stroke:
        longest = LINE_STROKES * stroke * factor
        length: float | tuple[float, float] = min(longest, LINE_OF_IMAGE * max(ink.shape))
        if sheet is not None:
            height, width = _extent(sheet)
            length = (min(longest, LINE_OF_IMAGE * height), min(longest, LINE_OF_IMAGE * width))
        ink = without_long_lines(ink, length, stroke * factor)
    return ink, contrast


def _extent(mask: np.ndarray) -> tuple[int, int]:
    """The height and width of the mask's bounding box."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def without_long_lines(
    ink: np.ndarray, length: float | tuple[float, float], stroke: float | None = None
) -> np.ndarray:
    """The ink map less the near-horizontal and near-vertical lines longer than `length` px (or
    than its (vertical, horizontal) pair): ruled and squared paper, the paper's edge. A line's
    level is the least ink along it (a grey opening by a line), taken after widening the ink
    across the line by the drift of a slope of LINE_SLOPE degrees, so that a slightly rotated
    page's lines count too.

    Knowing the pen's `stroke` width, only the line itself is taken off, not its whole widened
    band: the ink thin across the band (a grey top-hat of LINE_THIN strokes), near the line's
    course through the band (see _line_course). A digit's stroke crossing the line, long across
    it, stays whole, and so does one lying along it a little above or below. A stroke is never
    as long as `length`."""
    lengths = length if isinstance(length, tuple) else (length, length)
    removed = np.zeros_like(ink)
    for axis in (0, 1):
        size = round(lengths[axis])
        if size < 3 or size >= max(ink.shape):
            continue
        drift = max(1, round(size * np.tan(np.radians(LINE_SLOPE)) / 2))
        # Work on horizontal lines; vertical ones are the horizontal lines of the transpose.
        source = np.ascontiguousarray(ink.T) if axis == 0 else ink  # once, not per filter
        level = filters.opening(filters.max_filter(source, (2 * drift + 1, 1)), (1, size))
        if not level.any():
            continue
        if stroke:
            thin = max(3, round(LINE_THIN * stroke))
            across = source - filters.opening(source, (thin, 1))
            band = level > LINE_LEVEL  # not > 0: a noisy page's faint grain would join them all
            course = _line_course(across, band, size, thin / 2 + 1, 2 * drift + 1)
            level = np.where(course, level, 0.0)
            level = np.minimum(level, across)
        np.maximum(removed, level.T if axis == 0 else level, out=removed)
    return np.clip(ink - np.minimum(removed, ink), 0.0, 1.0)


def _line_course(
    across: np.ndarray, band: np.ndarray, size: int, half: float, reach: int
) -> np.ndarray:
    """The pixels within `half` px of each horizontal band's line: per column the row of its
    thinnest-across ink, smoothed by a running median over half a line length, so that the few
    columns where a digit's bar outshines the line do not bend it.

    A band much taller than one line's `reach` (the rows a line may drift over) holds several
    lines closer together than that, as on finely squared paper: there every ridge of the
    thin-across ink in a column is a line's."""
    labels, _ = filters.label(band, eight=False)
    course = np.zeros(band.shape, dtype=bool)
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        inside = labels[rows, cols] == index
        values = np.where(inside, across[rows, cols], 0.0)
        strength = values.max(axis=0)
        floor = 0.5 * float(np.median(strength[strength > 0])) if strength.any() else 0.0
        if values.shape[0] > MANY_LINES * reach:
            ridge = (values >= filters.max_filter(values, (3, 1))) & (values > floor)
            course[rows, cols] |= inside & filters.grow(ridge, (2 * max(1, int(half)) + 1, 1))
            continue
        seen = strength > floor
        if np.count_nonzero(seen) < 2:
            continue
        x, peak = np.arange(values.shape[1]), values.argmax(axis=0)
        centre = np.interp(x, x[seen], peak[seen])
        centre = ndimage.median_filter(centre, size=max(3, size // 2), mode="nearest")
        y = np.arange(values.shape[0])[:, None]
        course[rows, cols] |= inside & (np.abs(y - centre) <= half)
    return course


def stroke_width(ink: np.ndarray, min_height: float) -> float | None:
    """The pen's typical stroke width in px: the ink-weighted median thickness of the crisp
    components tall enough for a digit (None if there is none). Shading is soft-edged, so it
    does not count, however strong the first, image-sized background window leaves it.

    Writing on squared paper is joined to the lattice, which does not count either; so if
    nothing is found, lines longer than LATTICE_LINE of the image are taken out and it is
    measured again. (Only to measure: a digit filling the image might lose its "1" that way.)
    """
    found = _stroke_width(ink, min_height)
    if found is None:
        found = _stroke_width(without_long_lines(ink, LATTICE_LINE * max(ink.shape)), min_height)
    return found


def _stroke_width(ink: np.ndarray, min_height: float) -> float | None:
    labels = label(threshold_ink(ink))
    parts = measure(ink, labels)
    crisp = (parts.sharpness >= MIN_EDGE_SHARPNESS) & (parts.height >= min_height)
    crisp &= parts.thickness <= STROKE_OF_HEIGHT * parts.height
    # A patch of shading fills most of its box and is much thinner than its narrower side; a
    # pen stroke leaves most of its box empty, or (a "1") is as thick as the box is narrow.
    fill = parts.area / np.maximum(parts.height * parts.width, 1)
    narrow = np.minimum(parts.height, parts.width)
    crisp &= (fill < SOLID_FILL) | (parts.thickness >= SOLID_THICKNESS * narrow)
    if crisp.any():
        crisp &= parts.sharpness >= PEN_SHARPNESS * parts.sharpness[crisp].max()
    # Nor does the lattice of squared paper, which spans the page both ways: a digit never does.
    crisp &= (parts.height < LATTICE_SPAN * ink.shape[0]) | (
        parts.width < LATTICE_SPAN * ink.shape[1]
    )
    if not crisp.any():
        return None
    thickness, weight = parts.thickness[crisp], parts.area[crisp]
    order = np.argsort(thickness)
    cumulative = np.cumsum(weight[order])
    return float(thickness[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
