"""Find the digits of a handwritten number in an image, in reading order, as MNIST-style crops.

    work image -> clean (a drawing, a clean scan: clean.py, straight to the mask) or
    the sheet (sheet.py) -> ink map, its background window fitted to the pen's
    stroke width -> mask -> ruled lines and paper edges out (rules.py) -> pen strokes kept
    (components.py) -> specks out, pieces of one digit merged, touching digits split, text
    lines (grouping.py) -> 28x28 crops

Everything runs on a copy shrunk to WORK_SIZE; boxes are mapped back to the original pixels.
Sizes are relative to the typical digit height found in the image, so the scale does not matter.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from digitrec.vision.clean import clean_ink
from digitrec.vision.components import STROKE_OF_HEIGHT, keep_strokes, measure
from digitrec.vision.grouping import Blob, find_blobs, own_pixels, reading_order
from digitrec.vision.preprocess import (
    _BACKGROUND_WINDOW,
    _PEAK_SMOOTHING,
    DIGIT_BOX,
    FRAME,
    MIN_EDGE_SHARPNESS,
    MIN_PEAK,
    THRESHOLD_RANGE,
    _as_float,
    _otsu,
    _shrink,
    center_by_mass,
    edge_maps,
    fit_box,
    ink_levels,
)
from digitrec.vision.rules import clean_mask, label
from digitrec.vision.sheet import fill_outside, find_sheet

# Longer side of the working copy: ink_map's filters cost time in proportion to the pixels, and
# a 12-MP photo at this size still gives a digit spanning 3% of the frame about 24 px.
WORK_SIZE = 800
# The background window (see preprocess.ink_levels) is this many typical stroke widths, and
# at least MIN_WINDOW px: wide enough for a junction of strokes or a bold blot, narrow enough
# to take out shadows and the paper's mottling.
STROKE_WINDOW = 5.0
MIN_WINDOW = 15
# Digits this small (px tall in the working copy) are read again from the original around
# them, about ZOOM_TO px tall, with ZOOM_MARGIN digit heights of room around.
ZOOM_BELOW = 24
ZOOM_TO = 48
ZOOM_MARGIN = 2.0
# Lines longer than LINE_STROKES stroke widths are no writing (a digit is about 7-15 strokes
# tall, its straight strokes shorter still), within LINE_SLOPE degrees of the image axes.
LINE_STROKES = 30.0
LINE_SLOPE = 6.0
# A line is thinner across than this many stroke widths (thicker ones are left to rules.py).
LINE_THIN = 1.0
# Ink map level below which a long line is no line (paper grain, noise).
LINE_LEVEL = 0.05
# A component spanning this share of the image both across and down is a page's lattice.
LATTICE_SPAN = 0.5
# Its lines are this share of the image's longer side at least; a number's digits are shorter.
LATTICE_LINE = 1 / 8
# Images up to this size (longer side, px) that look clean take the fast path (clean.py): a
# drawing sent by the page, a cropped scan. Bigger ones are photos of a page, where the fast
# path read no better on synthetic photos than the full pipeline tuned for them.
CLEAN_MAX_SIDE = 512
# A digit is at least this tall: in working pixels, and as a share of the shorter image side.
MIN_DIGIT_PX = 8
MIN_DIGIT_OF_IMAGE = 0.015

_EIGHT = np.ones((3, 3), dtype=bool)
# Box colours by text line, so that a wrong line grouping shows.
_COLOURS = ((230, 30, 30), (30, 120, 230), (20, 160, 60), (200, 120, 0))


@dataclass(frozen=True)
class DigitCrop:
    box: tuple[int, int, int, int]  # x, y, w, h in original image pixels
    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST-style
    line: int  # 0-based text line index


def segment_digits(
    gray: np.ndarray,
    *,
    stages: dict[str, np.ndarray] | None = None,
    work_size: int = WORK_SIZE,
    zoom: bool = True,
) -> list[DigitCrop]:
    """The digits in `gray` (H, W), lines top to bottom, each line left to right.

    Digits found under ZOOM_BELOW px tall in the working copy, when the image itself has more
    pixels, are looked for again in the part of the image around them, at a resolution where
    they are about ZOOM_TO px tall (`zoom`).
    """
    crops = _segment(gray, stages, work_size)
    scale = max(np.shape(gray)[:2]) / work_size
    if not zoom or not crops or scale <= 1.0:
        return crops
    height = float(np.median([c.box[3] for c in crops]))  # original pixels
    if height / scale >= ZOOM_BELOW:
        return crops
    margin = round(ZOOM_MARGIN * height)
    x0 = max(0, min(c.box[0] for c in crops) - margin)
    y0 = max(0, min(c.box[1] for c in crops) - margin)
    x1 = max(c.box[0] + c.box[2] for c in crops) + margin
    y1 = max(c.box[1] + c.box[3] for c in crops) + margin
    region = np.asarray(gray)[y0:y1, x0:x1]
    size = min(max(region.shape[:2]), round(max(region.shape[:2]) * ZOOM_TO / height))
    again = _segment(region, None, max(size, 16))
    if not again:
        return crops
    return [
        DigitCrop((c.box[0] + x0, c.box[1] + y0, c.box[2], c.box[3]), c.image, c.line)
        for c in again
    ]


def _segment(
    gray: np.ndarray, stages: dict[str, np.ndarray] | None, work_size: int
) -> list[DigitCrop]:
    small, scale = work_image(np.asarray(gray), work_size)
    min_height = max(MIN_DIGIT_PX, MIN_DIGIT_OF_IMAGE * min(small.shape))
    clean = clean_ink(small) if max(np.shape(gray)[:2]) <= CLEAN_MAX_SIDE else None
    if clean is not None:  # a drawing or clean scan: nothing for the photo steps to take out
        ink, mask = clean
        rules, labels = np.zeros_like(mask), label(mask)
    else:
        ink, contrast = page_ink(small, min_height)
        maps = edge_maps(ink)
        mask, rules, height = clean_mask(threshold_ink(ink), ink, maps, min_height)
        labels = keep_strokes(label(mask), ink, maps, contrast, height, min_height)
    blobs = find_blobs(labels, min_height)
    placed = [
        (blobs[i], line) for line, members in enumerate(reading_order(blobs)) for i in members
    ]
    if stages is not None:
        stages.update(ink=ink, mask=mask, boxes=render_boxes(small, placed))
    return [
        DigitCrop(_original_box(blob.box, scale), digit_image(ink, labels, blob, rules), line)
        for blob, line in placed
    ]


def work_image(gray: np.ndarray, size: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Float greyscale shrunk so its longer side is at most `size`, and the (y, x) scale back.
    `gray` may also be RGB uint8, shrunk before its luminance is taken."""
    arr_shape = np.shape(gray)
    arr = np.asarray(gray)
    rgb = arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8
    if not rgb and (arr.ndim != 2 or not (arr.dtype == np.uint8 or arr.dtype.kind == "f")):
        arr = _as_float(arr)  # 16-bit, other integers, odd channels: the general, slower path
    if min(arr.shape[:2]) < 1:
        raise ValueError(f"expected a non-empty image, got shape {arr.shape}")
    factor = min(1.0, size / max(arr.shape[:2]))
    shape = (max(1, round(arr.shape[0] * factor)), max(1, round(arr.shape[1] * factor)))
    if shape != arr.shape[:2]:
        # Shrink first, convert after: a full-size float copy of a 12-MP photo costs 20-50 ms,
        # its luminance over 100 ms. Averaging then weighting the channels is the same sum.
        kind = arr if arr.dtype == np.uint8 else arr.astype(np.float32, copy=False)
        arr = np.asarray(Image.fromarray(kind).resize(shape[::-1], Image.Resampling.BOX))
    return _as_float(arr), (arr_shape[0] / shape[0], arr_shape[1] / shape[1])


def page_ink(small: np.ndarray, min_height: float) -> tuple[np.ndarray, float]:
    """ink_levels of the work image, inside the sheet if one is found, with a background window
    fitted to the pen's stroke width (see stroke_width)."""
    sheet = find_sheet(small)
    # Inside the sheet only: the table around it would swamp the ink statistics.
    source = small if sheet is None else fill_outside(small, sheet)
    # The stroke width is estimated on a copy of half the size, at a quarter of the cost.
    longest = max(source.shape)
    half = _shrink(source, longest // 2) if longest >= 4 * MIN_WINDOW else source
    factor = source.shape[0] / half.shape[0]
    first, contrast = ink_levels(half)
    stroke = stroke_width(first, min_height / factor)
    window = round(STROKE_WINDOW * stroke * factor) if stroke else 0
    if window and window < _BACKGROUND_WINDOW * max(small.shape):
        ink, contrast = ink_levels(source, max(window, MIN_WINDOW))
    else:
        ink, contrast = ink_levels(source)
    if sheet is not None:
        ink[~sheet] = 0.0
    if stroke:
        ink = without_long_lines(ink, LINE_STROKES * stroke * factor, stroke * factor)
    return ink, contrast


def without_long_lines(ink: np.ndarray, length: float, stroke: float | None = None) -> np.ndarray:
    """The ink map less the near-horizontal and near-vertical lines longer than `length` px:
    ruled and squared paper, the paper's edge. A line's level is the least ink along it (a grey
    opening by a line), taken after widening the ink across the line by the drift of a slope of
    LINE_SLOPE degrees, so that a slightly rotated page's lines count too.

    Knowing the pen's `stroke` width, only the line itself is taken off, not its whole widened
    band: the ink thin across the band (a grey top-hat of LINE_THIN strokes), near the line's
    course through the band (see _line_course). A digit's stroke crossing the line, long across
    it, stays whole, and so does one lying along it a little above or below. A stroke is never
    as long as `length`."""
    size = round(length)
    if size < 3 or size >= max(ink.shape):
        return ink
    drift = max(1, round(size * np.tan(np.radians(LINE_SLOPE)) / 2))
    removed = np.zeros_like(ink)
    for axis in (0, 1):
        # Work on horizontal lines; vertical ones are the horizontal lines of the transpose.
        source = ink.T if axis == 0 else ink
        level = ndimage.grey_opening(
            ndimage.grey_dilation(source, size=(2 * drift + 1, 1)), size=(1, size)
        )
        if not level.any():
            continue
        if stroke:
            thin = max(3, round(LINE_THIN * stroke))
            across = source - ndimage.grey_opening(source, size=(thin, 1))
            band = level > LINE_LEVEL  # not > 0: a noisy page's faint grain would join them all
            level = np.where(_line_course(across, band, size, thin / 2 + 1), level, 0.0)
            level = np.minimum(level, across)
        np.maximum(removed, level.T if axis == 0 else level, out=removed)
    return np.clip(ink - np.minimum(removed, ink), 0.0, 1.0)


def _line_course(across: np.ndarray, band: np.ndarray, size: int, half: float) -> np.ndarray:
    """The pixels within `half` px of each horizontal band's line: per column the row of its
    thinnest-across ink, smoothed by a running median over half a line length, so that the few
    columns where a digit's bar outshines the line do not bend it."""
    labels, _ = ndimage.label(band)
    course = np.zeros(band.shape, dtype=bool)
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        inside = labels[rows, cols] == index
        values = np.where(inside, across[rows, cols], 0.0)
        peak, strength = values.argmax(axis=0), values.max(axis=0)
        seen = strength > 0.5 * float(np.median(strength[strength > 0])) if strength.any() else []
        if np.count_nonzero(seen) < 2:
            continue
        x = np.arange(values.shape[1])
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


def threshold_ink(ink: np.ndarray) -> np.ndarray:
    """Ink above Otsu's threshold (clamped as in preprocess); nothing if no ink stands out."""
    if ink.size == 0 or ndimage.gaussian_filter(ink, _PEAK_SMOOTHING).max() < MIN_PEAK:
        return np.zeros(ink.shape, dtype=bool)
    return ink > float(np.clip(_otsu(ink), *THRESHOLD_RANGE))


def digit_image(ink: np.ndarray, labels: np.ndarray, blob: Blob, rules: np.ndarray) -> np.ndarray:
    """The blob's own ink (grey levels, not a neighbour's nor a rule's) as a 28x28 MNIST digit."""
    y0, x0, y1, x1 = blob.box
    window = (slice(max(0, y0 - 1), y1 + 1), slice(max(0, x0 - 1), x1 + 1))
    own = np.zeros(ink[window].shape, dtype=bool)
    top, left = y0 - window[0].start, x0 - window[1].start
    own[top : top + blob.height, left : left + blob.width] = own_pixels(labels, blob)
    # One pixel of the anti-aliased fringe that the threshold cut off.
    support = ndimage.binary_dilation(own, structure=_EIGHT) & ~rules[window]
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    crop = np.where(support, ink[window], 0.0)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    digit = fit_box(crop, DIGIT_BOX)
    # As in normalize_digit: MNIST digits all reach full intensity.
    digit /= max(float(digit.max()), 1e-6)
    return center_by_mass(digit, FRAME)


def render_boxes(small: np.ndarray, placed: list[tuple[Blob, int]]) -> np.ndarray:
    """RGB uint8 working image with each digit's box, numbered in reading order."""
    grey = (np.clip(small, 0.0, 1.0) * 255).astype(np.uint8)
    image = Image.fromarray(np.repeat(grey[:, :, None], 3, axis=2))
    draw = ImageDraw.Draw(image)
    for number, (blob, line) in enumerate(placed):
        y0, x0, y1, x1 = blob.box
        colour = _COLOURS[line % len(_COLOURS)]
        draw.rectangle((x0 - 1, y0 - 1, x1, y1), outline=colour, width=2)
        draw.text((x0, max(0, y0 - 12)), str(number), fill=colour)
    return np.asarray(image)


def _original_box(box: tuple[int, int, int, int], scale: tuple[float, float]) -> tuple[int, ...]:
    y0, x0, y1, x1 = box
    x, y = round(x0 * scale[1]), round(y0 * scale[0])
    return x, y, round(x1 * scale[1]) - x, round(y1 * scale[0]) - y
