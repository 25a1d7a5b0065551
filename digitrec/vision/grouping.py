"""From the components of the ink mask to digit candidates: specks dropped, the pieces of one
digit merged, touching digits split (lines.py then groups them into text lines).

Sizes are relative to the typical digit height, so the scale of the image does not matter.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
from scipy import ndimage

from digitrec.vision import filters
from digitrec.vision.components import typical_height
from digitrec.vision.outsized import outsized_strokes

# Specks: components whose longer side is under this share of the typical digit height.
SPECK_SIZE = 0.15
# Pieces of one digit (a 5's detached bar, a broken 7, dots of a faint stroke) share columns and
# are stacked: the narrower one's width overlaps the other by MERGE_OVERLAP and by MERGE_MIN_X
# digit heights (a neighbour leaning over by a few px does not), one piece is shorter than
# MERGE_PART digit heights, the gap is under MERGE_GAP and the union under MERGE_HEIGHT.
# A slanted digit's detached stroke (a 6's stem leaning right, a 3's faint top) shares few of
# its columns: on synthetic photos (tune half, 1,800 numbers) MERGE_OVERLAP 0.15 read 1,574
# exactly instead of 1,564 with 0.5 (11 right, 1 wrong), 0 as 0.15; single digits and blank
# pages as before (one of 1,000 singles lost).
MERGE_OVERLAP = 0.15
MERGE_MIN_X = 0.1
MERGE_PART = 0.75
MERGE_GAP = 0.35
MERGE_HEIGHT = 1.5
# Merging compares every pair of pieces, repeatedly: on a page of texture or noise that is
# cubic in the piece count. No number has more than this many pieces; beyond it only the
# largest are kept, so a hostile or pathological image cannot take minutes.
MAX_PIECES = 120
# After merging, anything flatter than this share of the digit height is a dash or underline.
FLAT = 0.3
# But a flat piece wider than tall, at least a digit's least height wide, within BAR_GAP of the
# digit height of a taller one and level with its top (its middle in the top BAR_TOP of it) is
# kept: a 5's or a 7's bar written apart from its stem, read with it (vision.joins,
# vision.one_digit). On synthetic photos (tune half; measured before the wider-than-tall test)
# 1,621 of 1,800 numbers read exactly instead of 1,619, single digits one more of 1,400 and
# one more of 400 cropped to the digit (none lost), blank pages as before. Kept
# anywhere beside a digit, not only at its top, 6 more numbers read (an 8's stroke cut off by a
# ruled line), but scikit-image's photos of an astronaut and of a cat read as 142 and 599,
# their fragments joined into surer digits; so did the cat's with the wider-than-tall test
# alone (an astronaut's 13x8 piece was one).
BAR_GAP = 0.1
BAR_TOP = 1 / 3
# Told there is one digit, nothing beside it is another digit's: a bar up to this far from it
# is kept (a 5's bar written well apart, which read as a 3 without it). On synthetic photos
# (tune half) single digits read 3,908 instead of 3,906 of 4,000 (three 5s right, one lost),
# and 975 of 1,000 cropped to the digit as before; of 1,600 blank pages read with `single`,
# 1,500 instead of 1,502 gave no digit (two of dense texture, where the bars changed which
# blobs made the "digit").
BAR_GAP_ONE_DIGIT = 0.3
# MNIST digits are 0.4-0.9 as wide as tall; wider than SPLIT_ASPECT is several touching digits.
# Their count is width / (height x typical aspect), the aspect taken from the image's other
# digits within ASPECT_RANGE; cuts go to the least ink within SPLIT_WINDOW of a digit width.
SPLIT_ASPECT = 1.15
# A blob wider than TRY_SPLIT (as SPLIT_ASPECT) may be two touching digits, a narrow 1 or 7
# against its neighbour, or one wide digit: it is cut in two tentatively (Blob.halves), and the
# reader reads it both ways and keeps the likelier (vision.joins, digitrec.gate). On synthetic
# photos (tune half, 1,000 numbers) 0.7 and 0.9 read as well as 0.8; without the tentative
# cuts, 18 fewer numbers were read right.
TRY_SPLIT = 0.8
ASPECT_RANGE = (0.5, 0.8)
SPLIT_WINDOW = 0.35
# Touching digits are cut along the column of least ink, or along a path of least ink from top
# to bottom when that crosses at most CUT_SHARE of the column's ink and CUT_GAIN px less, and
# leaves ink over CUT_TALL of the blob's height on either side (a path slipping through the
# gaps of one digit would carve off a sliver of it). The path pays CUT_DRIFT (in ink pixels)
# per column it moves sideways and CUT_CENTRE per column away from the even step: among paths
# crossing as much ink, the straightest nearest to where a digit should end. On pairs of MNIST
# test digits pushed together until they touch (300 each, 40-90 px tall), the path read
# 184 pairs instead of 166 upright, 127 instead of 108 slanted by 25-50%; synthetic photos of
# numbers (tune half, 1,100) read 2 more.
CUT_SHARE = 0.5
CUT_GAIN = 2
CUT_TALL = 0.6
CUT_DRIFT = 0.2
CUT_CENTRE = 1e-3


def upper_quartile(heights: Iterable[float]) -> float:
    """The upper quartile of candidates' heights (as np.percentile(heights, 75)): the digits'
    height, which the short pieces of a broken digit do not lower. Plain Python: it is taken for
    every line and piece of every image, where np.percentile's overhead (about 40 us a call)
    was nearly all of its cost."""
    ordered = sorted(heights)
    if not ordered:
        raise ValueError("no heights")
    position = 0.75 * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return float(ordered[below] + (ordered[above] - ordered[below]) * (position - below))


@dataclass(frozen=True)
class Blob:
    """A digit candidate: components `ids` of the label image, within box (y0, x0, y1, x1)."""

    ids: tuple[int, ...]
    box: tuple[int, int, int, int]
    # Pieces tentatively cut from one blob share a group number; None for any other blob.
    group: int | None = None
    # A blob that may be two digits: its halves, laid out in lines as the whole blob.
    halves: tuple["Blob", ...] | None = None

    @property
    def height(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def width(self) -> int:
        return self.box[3] - self.box[1]


def find_blobs(
    labels: np.ndarray, min_height: float, *, tentative: bool = True, one_digit: bool = False
) -> tuple[list[Blob], np.ndarray]:
    """Digit candidates from the components: specks dropped, pieces merged, touching split,
    and (`tentative`) those that may be two digits offered in halves too (TRY_SPLIT); and a
    copy of `labels` in which the parts of a cut blob are labelled apart (see cut). Told there
    is `one_digit`, a bar further from it is kept (BAR_GAP_ONE_DIGIT)."""
    labels = labels.copy()
    slices = enumerate(ndimage.find_objects(labels), start=1)
    parts = [Blob((i,), (r.start, c.start, r.stop, c.stop)) for i, (r, c) in slices]
    # A pen lying on the page is no digit, nor the measure of the digits' height.
    outsized = outsized_strokes(labels, np.array([p.box for p in parts]), min_height)
    parts = [p for p, drop in zip(parts, outsized, strict=True) if not drop]
    height = typical_height(labels, ~outsized)
    parts = [p for p in parts if max(p.height, p.width) >= SPECK_SIZE * height]
    if len(parts) > MAX_PIECES:
        parts = sorted(parts, key=lambda p: p.height * p.width, reverse=True)[:MAX_PIECES]
    blobs = merge_pieces(parts, height)
    tall = [b.height for b in blobs if b.height >= 0.5 * height]
    # An upper quantile: a number's digits are about as tall as its tallest, and a short wide
    # digit must not make a wide one look like two.
    height = upper_quartile(tall) if tall else height
    tall_enough = [b.height >= max(min_height, FLAT * height) for b in blobs]
    gap = (BAR_GAP_ONE_DIGIT if one_digit else BAR_GAP) * height
    kept = _with_bars(blobs, tall_enough, gap, min_height)
    blobs = [b for b, keep in zip(blobs, kept, strict=True) if keep]
    upright = [b.width / b.height for b in blobs if b.width <= SPLIT_ASPECT * height]
    aspect = float(np.clip(np.median(upright) if upright else 0.65, *ASPECT_RANGE))
    parts = []
    for number, blob in enumerate(blobs):
        tall = max(blob.height, height)
        if tentative and TRY_SPLIT * tall < blob.width <= SPLIT_ASPECT * tall:
            halves = cut(blob, labels, 2)
            if len(halves) > 1:
                ids = tuple(dict.fromkeys(i for h in halves for i in h.ids))
                halves = tuple(replace(h, group=number) for h in halves)
                blob = replace(blob, ids=ids, halves=halves)
            parts.append(blob)
        else:
            parts += split_wide(blob, labels, aspect, height)
    return parts, labels


def _with_bars(blobs: list[Blob], kept: list[bool], gap: float, width: float) -> list[bool]:
    """`kept`, and the flat blobs at least `width` wide, and wider than tall, within `gap` of a
    kept one (their boxes' distance along the axis where they lie further apart) and level
    with its top (BAR_TOP)."""
    tall = [blob.box for blob, keep in zip(blobs, kept, strict=True) if keep]

    def near(box: tuple[int, int, int, int]) -> bool:
        middle = (box[0] + box[2]) / 2
        return any(
            max(box[0] - t[2], t[0] - box[2], box[1] - t[3], t[1] - box[3]) <= gap
            and middle <= t[0] + BAR_TOP * (t[2] - t[0])
            for t in tall
        )

    return [
        keep or (blob.width >= max(width, blob.height + 1) and near(blob.box))
        for blob, keep in zip(blobs, kept, strict=True)
    ]


def tentative_halves(placed: list[tuple[Blob, int]]) -> list[tuple[Blob, int]]:
    """The blobs placed on their lines, each one with tentative halves replaced by them."""
    return [(part, line) for blob, line in placed for part in (blob.halves or (blob,))]


def merge_pieces(parts: list[Blob], height: float) -> list[Blob]:
    """Merge stacked pieces of one digit, the most overlapping pair first, until none is left."""
    parts = list(parts)
    while len(parts) > 1:
        box = np.array([p.box for p in parts], dtype=float).T
        (y0, x0, y1, x1), (h, w) = box[:, :, None], (box[2] - box[0], box[3] - box[1])
        overlap = np.minimum(x1, x1.T) - np.maximum(x0, x0.T)
        narrower = np.minimum(w[:, None], w[None])
        ok = (
            (overlap >= MERGE_OVERLAP * narrower)
            & (overlap >= MERGE_MIN_X * height)
            & (np.minimum(h[:, None], h[None]) < MERGE_PART * height)
            & (np.maximum(y0, y0.T) - np.minimum(y1, y1.T) <= MERGE_GAP * height)
            & (np.maximum(y1, y1.T) - np.minimum(y0, y0.T) <= MERGE_HEIGHT * height)
        )
        np.fill_diagonal(ok, False)
        if not ok.any():
            break
        i, j = np.unravel_index(np.argmax(np.where(ok, overlap / narrower, -1.0)), ok.shape)
        a, b = parts[i], parts[j]
        union = (*np.minimum(a.box[:2], b.box[:2]), *np.maximum(a.box[2:], b.box[2:]))
        merged = Blob(a.ids + b.ids, tuple(int(v) for v in union))
        parts = [p for k, p in enumerate(parts) if k not in (i, j)] + [merged]
    return parts


def split_wide(blob: Blob, labels: np.ndarray, aspect: float, height: float) -> list[Blob]:
    """A blob too wide for one digit, cut into digits at the columns of least ink.

    Wide relative to the typical digit height too: a short, wide 2 or 0 is one digit.
    """
    tall = max(blob.height, height)
    if blob.width <= SPLIT_ASPECT * tall:
        return [blob]
    return cut(blob, labels, max(2, round(blob.width / (tall * aspect))))


def cut(blob: Blob, labels: np.ndarray, count: int) -> list[Blob]:
    """The blob cut into `count` digits near even steps, each cut along the column of least ink
    or a path of less ink (see CUT_SHARE), so that a 1 leaning against its neighbour is cut
    along its slant. The pixels of every part after the first get a new label in `labels` (in
    place), so that each part owns exactly its pixels, whichever way it was cut."""
    own = own_pixels(labels, blob)
    height, width = own.shape
    profile = ndimage.uniform_filter1d(own.sum(axis=0).astype(float), 3)
    step = width / count
    rows = np.arange(height)
    bounds = [np.zeros(height, int)]  # per row, the first column of each part
    for expected in step * np.arange(1, count):
        lo, hi = int(expected - SPLIT_WINDOW * step), int(expected + SPLIT_WINDOW * step) + 1
        x = np.arange(max(lo, int(bounds[-1].max()) + 1), min(hi, width))
        if not x.size:
            continue
        # The least ink; among equals, the cut nearest to where a digit should end.
        column = int(x[np.argmin(profile[x] + CUT_CENTRE * np.abs(x - expected))])
        bound = np.full(height, column)
        path = _least_ink_path(own, max(lo, 1), min(hi, width - 1), expected, bounds[-1])
        if path is not None and _parts_tall(own, bounds[-1], path):
            crossed, across = own[rows, path].sum(), own[:, column].sum()
            if crossed <= min(across - CUT_GAIN, CUT_SHARE * across):
                bound = path
        bounds.append(bound)
    bounds.append(np.full(height, width))
    y0, x0 = blob.box[:2]
    window = labels[y0 : blob.box[2], x0 : blob.box[3]]
    parts = []
    next_id = int(labels.max()) + 1
    for number, (start, stop) in enumerate(pairwise(bounds)):
        mine = _between(own, start, stop)
        rows, cols = np.flatnonzero(mine.any(axis=1)), np.flatnonzero(mine.any(axis=0))
        if not rows.size:
            continue
        ids = blob.ids
        if number > 0:
            window[mine] = next_id
            ids, next_id = (next_id,), next_id + 1
        box = (y0 + rows[0], x0 + cols[0], y0 + rows[-1] + 1, x0 + cols[-1] + 1)
        parts.append(Blob(ids, tuple(int(v) for v in box)))
    return parts


def _between(own: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """The pixels of `own` from column start[row] up to (not including) stop[row] in each row."""
    columns = np.arange(own.shape[1])[None, :]
    return own & (columns >= start[:, None]) & (columns < stop[:, None])


def _parts_tall(own: np.ndarray, start: np.ndarray, path: np.ndarray) -> bool:
    """Whether the ink left and right of `path` (from `start`) each span CUT_TALL of the rows."""
    end = np.full_like(path, own.shape[1])
    spans = []
    for part in (_between(own, start, path), _between(own, path, end)):
        rows = np.flatnonzero(part.any(axis=1))
        spans.append(rows[-1] - rows[0] + 1 if rows.size else 0)
    return min(spans) >= CUT_TALL * own.shape[0]


def _least_ink_path(
    own: np.ndarray, lo: int, hi: int, expected: float, after: np.ndarray
) -> np.ndarray | None:
    """Per row, the column (in lo..hi-1, right of `after`) of a top-to-bottom path crossing the
    least ink, moving at most one column per row; None if no such path."""
    if hi <= lo:  # a blob a column or two wide: no room for a path inside it
        return None
    height = own.shape[0]
    span = np.arange(lo, hi)
    blocked = span[None, :] <= after[:, None]
    cost_map = own[:, lo:hi] + CUT_CENTRE * np.abs(span - expected)[None, :]
    cost_map = np.where(blocked, np.inf, cost_map)
    # Per row, the cost of arriving from the left, from above and from the right; buffers made
    # once, as this loop runs for every row of every cut.
    options = np.full((3, hi - lo), np.inf)
    columns = np.arange(hi - lo)
    total = cost_map[0].copy()
    moves = np.zeros((height, hi - lo), int)
    for row in range(1, height):
        np.add(total[:-1], CUT_DRIFT, out=options[0, 1:])
        options[1] = total
        np.add(total[1:], CUT_DRIFT, out=options[2, :-1])
        choice = options.argmin(axis=0)
        moves[row] = choice - 1
        total = options[choice, columns] + cost_map[row]
    if not np.isfinite(total.min()):
        return None
    path = np.empty(height, int)
    path[-1] = int(total.argmin())
    for row in range(height - 1, 0, -1):
        path[row - 1] = path[row] + moves[row, path[row]]
    return path + lo


def own_pixels(labels: np.ndarray, blob: Blob) -> np.ndarray:
    y0, x0, y1, x1 = blob.box
    return np.isin(labels[y0:y1, x0:x1], blob.ids)


def own_ink(
    ink: np.ndarray, labels: np.ndarray, blob: Blob, rules: np.ndarray, fringe: int
) -> tuple[np.ndarray, np.ndarray]:
    """The blob's own ink (grey levels, not a neighbour's nor a rule's) and one pixel of the
    anti-aliased fringe the threshold cut off, in its box grown by `fringe` px each way (cut
    to the image), zero elsewhere; and the mask of those pixels."""
    y0, x0, y1, x1 = blob.box
    window = (slice(max(0, y0 - fringe), y1 + fringe), slice(max(0, x0 - fringe), x1 + fringe))
    own = np.zeros(ink[window].shape, dtype=bool)
    top, left = y0 - window[0].start, x0 - window[1].start
    own[top : top + blob.height, left : left + blob.width] = own_pixels(labels, blob)
    support = filters.dilate(own, square=True) & ~rules[window]
    return np.where(support, ink[window], 0.0), support
