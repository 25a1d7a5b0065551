"""Digit candidates grouped into text lines, in reading order: lines top to bottom, each left
to right, a line that slopes or climbs steeply kept whole, stray lines (a speck, a fragment of
the paper's edge beside a number) left out.

Sizes are relative to the digits' height, so the scale of the image does not matter.
"""

from dataclasses import replace
from itertools import pairwise

import numpy as np

from digitrec.vision.grouping import Blob, upper_quartile
from digitrec.vision.tilt import steady_slope

# Boxes on one text line overlap vertically by this share of the shorter one.
LINE_OVERLAP = 0.4
# A number on a slope steep enough to fall into text lines side by side (a staircase: no two
# sharing more than STAIR_OVERLAP digit heights of columns) is one line if its digit-sized blobs
# climb steadily along a straight line (tilt.steady_slope): levelled by that slope, the blobs
# are laid out again. On MNIST numbers of six digits rising or falling 25 degrees, 20 of 20
# read right instead of 10 (20 degrees: 17 instead of 12); synthetic photos (tune half: 1,800
# numbers, 1,000 single digits, 2,400 blank pages) read exactly as before. Without the steady
# steps, 3 numbers written on two level lines, the second beside the first and lower, were
# read as one rising line.
STAIR_OVERLAP = 0.25
# Pieces shorter than this share of the typical height do not lay out lines, only join them.
SHORT_PIECE = 0.5
# A text line whose tallest piece is under this share of the tallest line's digit height is no
# line of digits: a speck or fragment of the paper's edge beside a number is alone on its line.
STRAY_LINE = 0.5


def reading_order(blobs: list[Blob]) -> list[list[int]]:
    """Indices grouped into text lines, top to bottom, each left to right.

    The lines are laid by the digit-sized blobs: built left to right, each joining the line
    whose last blob it overlaps most in height, so that a line may slope. A short piece (a
    5's detached bar, a fragment of a broken stroke) then joins the line of the digit nearest
    to it that it overlaps: on a sloping line it may overlap the digit before it too little,
    and must not start a line of its own that the next digit would follow.

    A number written (or photographed) so steeply uphill or downhill that its digits barely
    overlap their neighbours' rows falls into lines side by side, a staircase: if its digits
    climb steadily along a straight line (tilt.steady_slope), the lines are laid again on the blobs
    levelled by its slope, and kept if that makes them one. Lines one above the other (a page
    of several) are no staircase.
    """
    if not blobs:
        return []
    height = upper_quartile(b.height for b in blobs)
    lines = _lines(blobs, height)
    if len(lines) < 2:
        return lines
    if not _staircase(blobs, lines, height):
        return lines
    tall = [b for b in blobs if b.height >= SHORT_PIECE * height]
    centres_y = [(b.box[0] + b.box[2]) / 2 for b in tall]
    slope = steady_slope(np.array([_centre_x(b) for b in tall]), np.array(centres_y), height)
    if slope is None:
        return lines
    tilted = _lines([_levelled(blob, -slope) for blob in blobs], height)
    return tilted if len(tilted) == 1 else lines


def _levelled(blob: Blob, slope: float) -> Blob:
    """The blob's box moved down by `slope` times its centre's column: on a line rising by
    `slope` px per px to the right, the boxes come level."""
    shift = round(slope * _centre_x(blob))
    y0, x0, y1, x1 = blob.box
    return replace(blob, box=(y0 + shift, x0, y1 + shift, x1))


def _staircase(blobs: list[Blob], lines: list[list[int]], height: float) -> bool:
    """Whether the lines lie side by side: no two share more than STAIR_OVERLAP of the digits'
    `height` of columns."""
    spans = sorted(
        (min(blobs[k].box[1] for k in m), max(blobs[k].box[3] for k in m)) for m in lines
    )
    return all(b[0] - a[1] >= -STAIR_OVERLAP * height for a, b in pairwise(spans))


def _lines(blobs: list[Blob], height: float) -> list[list[int]]:
    """The blobs in text lines: the tall ones (SHORT_PIECE of the digits' `height` or more)
    chained, then each short one in the line it fits best, or in lines of their own."""
    tall = [i for i, b in enumerate(blobs) if b.height >= SHORT_PIECE * height]
    short = [i for i, b in enumerate(blobs) if b.height < SHORT_PIECE * height]
    lines = _chain(blobs, tall)
    alone = []
    for i in short:
        best = _best_line(blobs, i, lines, nearest=True)
        if best is None:
            alone.append(i)
        else:
            best.append(i)
            best.sort(key=lambda k: _centre_x(blobs[k]))
    lines += _chain(blobs, alone)
    return sorted(lines, key=lambda m: np.mean([blobs[k].box[0] + blobs[k].box[2] for k in m]))


def _chain(blobs: list[Blob], chosen: list[int]) -> list[list[int]]:
    """The `chosen` blobs in lines, left to right, each joining the line whose last blob it
    overlaps most in height (at least LINE_OVERLAP), or starting one."""
    lines: list[list[int]] = []
    for i in sorted(chosen, key=lambda k: _centre_x(blobs[k])):
        best = _best_line(blobs, i, lines, nearest=False)
        if best is None:
            lines.append([i])
        else:
            best.append(i)
    return lines


def _best_line(
    blobs: list[Blob], i: int, lines: list[list[int]], *, nearest: bool
) -> list[int] | None:
    """The line that blob i overlaps most in height (at least LINE_OVERLAP), compared with
    each line's last blob, or with its blob nearest to i across (`nearest`)."""
    centre = _centre_x(blobs[i])
    best, best_overlap = None, LINE_OVERLAP
    for members in lines:
        if nearest:
            other = min(members, key=lambda k: abs(_centre_x(blobs[k]) - centre))
        else:
            other = members[-1]
        overlap = _height_overlap(blobs[i], blobs[other])
        if overlap >= best_overlap:
            best, best_overlap = members, overlap
    return best


def _centre_x(blob: Blob) -> float:
    return (blob.box[1] + blob.box[3]) / 2


def _height_overlap(a: Blob, b: Blob) -> float:
    """The rows two blobs share, as a share of the shorter one's height."""
    shared = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    return shared / max(1, min(a.height, b.height))


def without_stray_lines(blobs: list[Blob], lines: list[list[int]]) -> list[list[int]]:
    """The lines (see reading_order) less those far shorter than the tallest (STRAY_LINE)."""
    if len(lines) < 2:
        return lines
    tallest = [max(blobs[i].height for i in members) for members in lines]
    digit = max(upper_quartile(blobs[i].height for i in m) for m in lines)
    return [m for m, top in zip(lines, tallest, strict=True) if top >= STRAY_LINE * digit]
