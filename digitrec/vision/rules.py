"""Ruled lines, form boxes and paper edges in an ink mask: found and taken out before the
digits are.

A notebook's rules and the edge of the paper (or the table beyond it) pass the ink threshold as
long thin pieces, or as large pieces touching the image border. Lengths are judged against the
typical digit height, measured without them. The boxes of a form, each about a digit tall, are
too short for rules: they are known by their straight sides instead (box_lines).
"""

from typing import NamedTuple

import numpy as np
from scipy import ndimage

from digitrec.vision import filters
from digitrec.vision.components import digit_like, measure, typical_height
from digitrec.vision.preprocess import EdgeMaps

# Ruled lines: found as runs at least this share of the image's longer side (short enough to
# survive a slope of a few degrees on a thin line), then kept as rules only if longer than
# RULE_LENGTH digit heights and RULE_ASPECT times their thickness; a digit's own strokes,
# even a thin-pen "1", are at most about one digit height long.
RULE_RUN = 1 / 40
# Slopes (degrees) straightened before looking for runs. Only 0: on synthetic photos, shearing
# by +-4 degrees as well found nothing that the stroke tests for thin straight pieces did not
# already drop, at a third more time; a steeper rule is caught by those tests.
RULE_ANGLES = (0.0,)
RULE_LENGTH = 1.8
RULE_ASPECT = 12.0
# A rule is about as thick all along: its thinnest tenth is at least this share of its median
# thickness. The wedge of dark table in the corner of a tilted sheet is not.
RULE_EVEN = 0.5
# Ink just above and below a removed rule, within this many px sideways, is a crossing stroke.
RULE_CROSSING = 2
# A component touching the image edge and spanning this share of the image, or longer than
# BORDER_DIGITS digit heights, is the paper's edge or the table around it, never a digit...
BORDER_SPAN = 0.5
BORDER_DIGITS = 2.0
# ...if it lies along the edge: more than BORDER_CONTACT of its longer side's length of it on
# the image's outermost pixels. A digit photographed close, a stroke's end cut by the frame,
# touches it over a stroke's width. On synthetic photos (tune half) numbers cropped to their
# digits read exactly 505 -> 512 of 600; single digits 2,930 of 3,000 as before (a bold 8 whose
# tail ran off the photo, dropped before, read; a tiny 3 on ruled paper did not); blank pages
# and uncropped numbers the same. 0.1: 508 of those numbers; 0.35: an uncropped one fewer.
BORDER_CONTACT = 0.2
# The boxes of a form: a piece at least MIN_BOX_SIDE px both ways whose rows and columns
# BOX_LINE full run along all four sides, within a BOX_EDGE-th of its size from them.
MIN_BOX_SIDE = 12
BOX_LINE = 0.9
BOX_EDGE = 8
# A component this much of whose pixels are rule candidates was taken for them whole.
CANDIDATES_ONLY = 0.9
# A rule has company (the other lines of ruled or squared paper) or runs on across much of the
# image. A line with neither, under LONE_SPAN of the image along it, in a component no wider
# than DIGIT_ASPECT times its height, is a stroke of a digit that fills the photo (a close-up
# "1", a 9's tail), however short the rest of the digit measures without it. The paper's edge
# turning a corner, or a shadow's, is wider.
LONE_SPAN = 0.5
DIGIT_ASPECT = 1.2
# Longer for the image than that, it is still a stroke where it is under LONE_PART of its
# component's pixels: a 9 filling a close-up photo whose tail, with the side of the loop it
# runs on from, spans more than half of it. The paper's edge is most of its piece. On
# synthetic photos (tune half) single digits 2,931 -> 2,932 of 3,000 (that 9), the rest as
# before; the edge of a blank page that read as a "1" without this test made 0.55 of its piece,
# the 9's tail 0.38.
LONE_PART = 0.45
# A piece of the mask that this many rule candidates run through is a lattice: the lines of
# ruled or squared paper joined in one piece, with the digits on them (see _measured_as). With
# that and without the bits a rule leaves along it, on synthetic photos (tune half): blank
# pages 2,388 -> 2,389 of 2,400 (4 grids read as rows of digits fixed; 3 pages lost, an edge
# or a grid's bit read as "1"; 2,387 without the lattice rule), single digits 975 -> 976 of
# 1,000, numbers 1,619 -> 1,620 of 1,800.
LATTICE_LINES = 3


def clean_mask(
    mask: np.ndarray, ink: np.ndarray, maps: EdgeMaps, min_height: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Mask without ruled lines and paper edges, the removed rule pixels, and the typical digit
    height (measured on the digit-like components only)."""
    candidates = _rule_candidates(mask, max(5, round(max(mask.shape) * RULE_RUN)))
    # Rules are judged against the digit height, measured without them. Start from all long
    # thin pieces removed, then give back those too short for rules (a thin-pen 1 or 7's bar),
    # which can only make the height grow, until nothing changes. What is left is measured as
    # part of its whole component (see _measured_as), so that a digit whose side was taken for a
    # candidate still counts at its full height, and digits joined by a rule at theirs.
    whole = label(mask)
    boxes = ndimage.find_objects(whole)
    lattice = _lattices(whole, candidates)
    rules = candidates
    while True:
        rest = mask.copy()
        for rule in rules:
            rest[rule.pixels] = False
        labels = _measured_as(whole, _drop_border(rest, np.inf), lattice, min_height)
        digits = digit_like(measure(ink, labels, maps), min_height)
        if not digits.any():
            # Nothing digit-like is left: the digit may have been taken for candidates whole (a
            # lone "1", a bold digit of long straight strokes). Measure the components that
            # (almost) only candidates made, as they are.
            gone = np.bincount(whole[mask & ~rest], minlength=whole.max() + 1)
            size = np.bincount(whole.ravel(), minlength=whole.max() + 1)
            taken = gone >= CANDIDATES_ONLY * np.maximum(size, 1)
            whole_taken = np.where(_drop_border(mask, np.inf) & taken[whole], whole, 0)
            taken_digits = digit_like(measure(ink, whole_taken, maps), min_height)
            if taken_digits.any():  # else measure what is left, as before
                labels, digits = whole_taken, taken_digits
        height = typical_height(labels, digits)
        longer = [c for c in rules if c.length >= RULE_LENGTH * height]
        vertical = sum(c.vertical for c in longer)
        running = {True: vertical, False: len(longer) - vertical}  # how many run each way
        longer = [c for c in longer if not _digit_stroke(c, running[c.vertical], whole, boxes)]
        if len(longer) == len(rules):
            break
        rules = longer
    removed = np.zeros_like(mask)
    for rule in rules:
        removed[rule.pixels] = True
    removed |= box_lines(label(mask & ~removed))
    return _drop_border(mask & ~removed, height), removed, height


def _lattices(whole: np.ndarray, candidates: list["Candidate"]) -> np.ndarray:
    """The pixels of the pieces of `whole` that LATTICE_LINES rule candidates or more run
    through."""
    through = [np.unique(whole[candidate.pixels]) for candidate in candidates]
    counts = np.bincount(np.concatenate([[0], *through]).astype(int), minlength=whole.max() + 1)
    return (counts >= LATTICE_LINES)[whole]


def _measured_as(
    whole: np.ndarray, rest: np.ndarray, lattice: np.ndarray, min_height: float
) -> np.ndarray:
    """Labels to measure what is left of the mask (`rest`) by, for the digit height.

    Each piece of `whole` counts at the extent of what is left of it: a digit whose side was
    taken for a candidate still counts at its full height. But not the bits of it under half the
    least digit height both ways: a rule found only in part leaves such bits all along it (where
    lines cross it, where its threshold broke), and by them it counted as tall as it is long,
    too tall for a rule. A lattice's (see _lattices) pieces count each on its own: what was left
    of its lines, strewn over the whole sheet, made the digits on it as tall as the sheet.
    """
    rest = filters.extent(rest) >= min_height / 2
    labels = np.where(rest, whole, 0)
    in_lattice = rest & lattice
    if in_lattice.any():
        labels = np.where(in_lattice, label(in_lattice) + whole.max(), labels)
    return labels


class Candidate(NamedTuple):
    """A long thin piece: its length, its pixels (rows, cols), whether it runs down the image
    (else across) and the image's extent that way."""

    length: int
    pixels: tuple[np.ndarray, ...]
    vertical: bool
    span: int


def _rule_candidates(mask: np.ndarray, run: int) -> list[Candidate]:
    """Long thin pieces, near-horizontal and near-vertical.

    Each slope in RULE_ANGLES is straightened by shearing the mask (whole-pixel shifts of each
    column) before looking for horizontal runs, so that the thin rules of a slightly rotated
    sheet still show long runs.
    """
    found = []
    for across in (False, True):
        oriented = mask.T if across else mask
        rows, cols = oriented.shape
        for angle in RULE_ANGLES:
            shift = np.round(np.tan(np.radians(angle)) * (np.arange(cols) - cols / 2)).astype(int)
            source = np.arange(rows)[:, None] + shift
            inside = (source >= 0) & (source < rows)
            sheared = inside & oriented[np.clip(source, 0, rows - 1), np.arange(cols)]
            for length, window, band in _rule_bands(sheared, run):
                ys, xs = np.nonzero(band)
                xs = xs + window[1].start
                ys = ys + window[0].start + shift[xs]
                keep = (ys >= 0) & (ys < rows)
                ys, xs = ys[keep], xs[keep]
                pixels = (xs, ys) if across else (ys, xs)
                found.append(Candidate(length, pixels, across, cols))
    return found


def _digit_stroke(
    line: Candidate, parallel: int, whole: np.ndarray, boxes: list[tuple[slice, slice]]
) -> bool:
    """Whether `line`, one of `parallel` lines running its way, is a lone line, short for the
    image or a minor part of its piece, in a digit-shaped component of `whole` (see LONE_SPAN
    and LONE_PART)."""
    # Ruled or squared paper's lines are many.
    if parallel > 1 or line.pixels[0].size == 0:
        return False
    index = int(np.bincount(whole[line.pixels]).argmax())
    rows, cols = boxes[index - 1]
    if line.length >= LONE_SPAN * line.span:
        part = line.pixels[0].size / np.count_nonzero(whole[rows, cols] == index)
        if part >= LONE_PART:
            return False
    return cols.stop - cols.start <= DIGIT_ASPECT * (rows.stop - rows.start)


def _rule_bands(mask: np.ndarray, run: int) -> list[tuple[int, tuple[slice, slice], np.ndarray]]:
    """Long thin horizontal pieces: (length, window, band of the line's pixels in the window)."""
    labels, _ = filters.label(_runs(mask, run))
    found = []
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        piece = labels[rows, cols] == index
        counts = piece.sum(axis=0)
        spread = counts[counts > 0]
        thickness = float(np.median(spread))
        length = cols.stop - cols.start
        if length < RULE_ASPECT * thickness or np.percentile(spread, 10) < RULE_EVEN * thickness:
            continue
        # The line's centre per column; a running median follows a slope or a slight curve
        # but not the bumps where digit strokes join it.
        ys = np.arange(rows.start, rows.stop)[:, None]
        centre = (piece * ys).sum(axis=0) / np.maximum(counts, 1)
        filled = np.interp(np.arange(length), np.flatnonzero(counts), centre[counts > 0])
        centre = ndimage.median_filter(filled, size=max(3, run), mode="nearest")
        half = thickness / 2 + 1
        top = max(0, int(rows.start - half))
        window = (slice(top, min(mask.shape[0], int(rows.stop + half) + 1)), cols)
        y = np.arange(window[0].start, window[0].stop)[:, None]
        band = mask[window] & (np.abs(y - centre) <= half)
        band[:, _crossings(mask, centre, half, cols)] = False
        found.append((length, window, band))
    return found


def _runs(mask: np.ndarray, run: int) -> np.ndarray:
    """The pixels of horizontal runs at least `run` long: a binary opening by a 1 x run line,
    from running sums, which costs the same for any length."""
    rows = mask.shape[0]
    total = np.concatenate(
        [np.zeros((rows, 1), np.int32), np.cumsum(mask, axis=1, dtype=np.int32)], 1
    )
    # A full window starts at x when the `run` pixels from x on are all set.
    starts = (total[:, run:] - total[:, :-run]) == run
    begun = np.concatenate(
        [np.zeros((rows, 1), np.int32), np.cumsum(starts, axis=1, dtype=np.int32)], 1
    )
    # Pixel x lies in a full window if one started within the `run` pixels up to it.
    width = mask.shape[1]
    x = np.arange(width)
    upto = np.minimum(x + 1, starts.shape[1])
    since = np.clip(x - run + 1, 0, starts.shape[1])
    return (begun[:, upto] - begun[:, since]) > 0


def _crossings(mask: np.ndarray, centre: np.ndarray, half: float, cols: slice) -> np.ndarray:
    """Columns where ink lies just above and just below the line: a stroke crossing it."""
    x = np.arange(cols.start, cols.stop)
    last = mask.shape[0] - 1
    sides = []
    for edge, step in ((np.floor(centre - half) - 1, -1), (np.ceil(centre + half) + 1, 1)):
        rows = edge.astype(int)
        near = mask[np.clip(rows, 0, last), x] | mask[np.clip(rows + step, 0, last), x]
        # Sideways slack: a slanted stroke leaves the line a little left or right of where it
        # entered.
        sides.append(filters.dilate(near, RULE_CROSSING))
    return sides[0] & sides[1]


def _drop_border(mask: np.ndarray, height: float) -> np.ndarray:
    """Without components that lie along the image edge and are far too big for a digit."""
    labels = label(mask)
    size = mask.shape
    frame = np.zeros(size, dtype=bool)
    frame[[0, -1], :] = frame[:, [0, -1]] = True
    contact = np.bincount(labels[frame], minlength=labels.max() + 1)
    drop = np.zeros(labels.max() + 1, dtype=bool)
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        extent = [s.stop - s.start for s in box]
        edge = contact[index] > BORDER_CONTACT * max(extent)
        span = max(e / n for e, n in zip(extent, size, strict=True))
        drop[index] = edge and (span >= BORDER_SPAN or max(extent) >= BORDER_DIGITS * height)
    return mask & ~drop[labels]


def box_lines(labels: np.ndarray) -> np.ndarray:
    """The pixels of boxes drawn around digits, as on a form: in each piece of the labelled
    mask (`label`) that outlines a rectangle (see _outlines_a_box), its straight lines across
    the whole of it, the box's sides and the walls between joined boxes, and the pixel either
    side of them (the anti-aliased fringe). What they enclose, and the strokes they cross,
    stay. Labels in, so that a caller with none of them to take out keeps its labelling."""
    lines = np.zeros(labels.shape, dtype=bool)
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        if min(rows.stop - rows.start, cols.stop - cols.start) < MIN_BOX_SIDE:
            continue
        piece = labels[rows, cols] == index
        full_rows = piece.mean(axis=1) >= BOX_LINE
        full_cols = piece.mean(axis=0) >= BOX_LINE
        if _outlines_a_box(full_rows, full_cols):
            straight = full_rows[:, None] | full_cols[None, :]
            lines[rows, cols] |= filters.dilate(straight, square=True) & piece
    return lines


def _outlines_a_box(full_rows: np.ndarray, full_cols: np.ndarray) -> bool:
    """Whether straight lines run along all four sides: full rows near the top and the bottom,
    full columns near the left and the right. A digit has at most one side so straight (the
    bar of a 7 or a 5)."""
    rows, cols = np.flatnonzero(full_rows), np.flatnonzero(full_cols)
    if not rows.size or not cols.size:
        return False
    near_rows = max(1, full_rows.size // BOX_EDGE)
    near_cols = max(1, full_cols.size // BOX_EDGE)
    return bool(
        rows[0] < near_rows
        and rows[-1] >= full_rows.size - near_rows
        and cols[0] < near_cols
        and cols[-1] >= full_cols.size - near_cols
    )


def label(mask: np.ndarray) -> np.ndarray:
    """Connected components of a mask, diagonal neighbours included."""
    return filters.label(mask)[0]
