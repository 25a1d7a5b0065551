"""Find the digits of a handwritten number in an image, in reading order, as MNIST-style crops.

    work image -> ink map -> mask -> remove ruled lines, paper edges, specks -> components
    -> merge the pieces of one digit -> split touching digits -> text lines -> 28x28 crops

Everything runs on a copy shrunk to WORK_SIZE; boxes are mapped back to the original pixels.
Sizes are relative to the typical digit height found in the image, so the scale does not matter.
"""

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from digitrec.vision.components import digit_like, keep_strokes, measure, typical_height
from digitrec.vision.preprocess import (
    _PEAK_SMOOTHING,
    DIGIT_BOX,
    FRAME,
    MIN_PEAK,
    THRESHOLD_RANGE,
    EdgeMaps,
    _as_float,
    _otsu,
    center_by_mass,
    edge_maps,
    fit_box,
    ink_levels,
)

# Longer side of the working copy: ink_map's filters cost time in proportion to the pixels, and
# a 12-MP photo at this size still gives a digit spanning 3% of the frame about 24 px.
WORK_SIZE = 800
# Ruled lines: found as runs at least this share of the image's longer side (short enough to
# survive a slope of a few degrees on a thin line), then kept as rules only if longer than
# RULE_LENGTH digit heights and RULE_ASPECT times their thickness; a digit's own strokes,
# even a thin-pen "1", are at most about one digit height long.
RULE_RUN = 1 / 40
# Slopes (degrees) straightened before looking for runs. Only 0: on synthetic photos, shearing
# by +-4 degrees as well found nothing that stroke_like's tests for thin straight pieces did not
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
# BORDER_DIGITS digit heights, is the paper's edge or the table around it, never a digit.
BORDER_SPAN = 0.5
BORDER_DIGITS = 2.0
# Specks: components whose longer side is under this share of the typical digit height.
SPECK_SIZE = 0.15
# A digit is at least this tall: in working pixels, and as a share of the shorter image side.
MIN_DIGIT_PX = 8
MIN_DIGIT_OF_IMAGE = 0.015
# Pieces of one digit (a 5's detached bar, a broken 7, dots of a faint stroke) share columns and
# are stacked: the narrower one's width overlaps the other by MERGE_OVERLAP and by MERGE_MIN_X
# digit heights (a neighbour leaning over by a few px does not), one piece is shorter than
# MERGE_PART digit heights, the gap is under MERGE_GAP and the union under MERGE_HEIGHT.
MERGE_OVERLAP = 0.5
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
# MNIST digits are 0.4-0.9 as wide as tall; wider than SPLIT_ASPECT is several touching digits.
# Their count is width / (height x typical aspect), the aspect taken from the image's other
# digits within ASPECT_RANGE; cuts go to the least ink within SPLIT_WINDOW of a digit width.
SPLIT_ASPECT = 1.15
ASPECT_RANGE = (0.5, 0.8)
SPLIT_WINDOW = 0.35
# Boxes on one text line overlap vertically by this share of the shorter one.
LINE_OVERLAP = 0.4

_EIGHT = np.ones((3, 3), dtype=bool)
# Box colours by text line, so that a wrong line grouping shows.
_COLOURS = ((230, 30, 30), (30, 120, 230), (20, 160, 60), (200, 120, 0))


@dataclass(frozen=True)
class DigitCrop:
    box: tuple[int, int, int, int]  # x, y, w, h in original image pixels
    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST-style
    line: int  # 0-based text line index


@dataclass(frozen=True)
class _Blob:
    """A digit candidate: components `ids` of the label image, within box (y0, x0, y1, x1)."""

    ids: tuple[int, ...]
    box: tuple[int, int, int, int]

    @property
    def height(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def width(self) -> int:
        return self.box[3] - self.box[1]


def segment_digits(
    gray: np.ndarray, *, stages: dict[str, np.ndarray] | None = None, work_size: int = WORK_SIZE
) -> list[DigitCrop]:
    """The digits in `gray` (H, W), lines top to bottom, each line left to right."""
    small, scale = work_image(np.asarray(gray), work_size)
    ink, contrast = ink_levels(small)
    maps = edge_maps(ink)
    min_height = max(MIN_DIGIT_PX, MIN_DIGIT_OF_IMAGE * min(ink.shape))
    mask, rules, height = clean_mask(threshold_ink(ink), ink, maps, min_height)
    labels = keep_strokes(_label(mask), ink, maps, contrast, height, min_height)
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
    """Float greyscale shrunk so its longer side is at most `size`, and the (y, x) scale back."""
    arr = np.asarray(gray)
    if arr.ndim != 2 or not (arr.dtype == np.uint8 or arr.dtype.kind == "f"):
        arr = _as_float(arr)  # RGB, 16-bit and other integers: the general, slower path
    if min(arr.shape) < 1:
        raise ValueError(f"expected a non-empty image, got shape {arr.shape}")
    factor = min(1.0, size / max(arr.shape))
    shape = (max(1, round(arr.shape[0] * factor)), max(1, round(arr.shape[1] * factor)))
    if shape != arr.shape:
        # Shrink first, convert after: a full-size float copy of a 12-MP photo costs 20-50 ms.
        kind = arr if arr.dtype == np.uint8 else arr.astype(np.float32, copy=False)
        arr = np.asarray(Image.fromarray(kind).resize(shape[::-1], Image.Resampling.BOX))
    return _as_float(arr), (gray.shape[0] / shape[0], gray.shape[1] / shape[1])


def threshold_ink(ink: np.ndarray) -> np.ndarray:
    """Ink above Otsu's threshold (clamped as in preprocess); nothing if no ink stands out."""
    if ink.size == 0 or ndimage.gaussian_filter(ink, _PEAK_SMOOTHING).max() < MIN_PEAK:
        return np.zeros(ink.shape, dtype=bool)
    return ink > float(np.clip(_otsu(ink), *THRESHOLD_RANGE))


def clean_mask(
    mask: np.ndarray, ink: np.ndarray, maps: EdgeMaps, min_height: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Mask without ruled lines and paper edges, the removed rule pixels, and the typical digit
    height (measured on the digit-like components only)."""
    candidates = _rule_candidates(mask, max(5, round(max(mask.shape) * RULE_RUN)))
    # Rules are judged against the digit height, measured without them. Start from all long
    # thin pieces removed, then give back those too short for rules (a thin-pen 1 or 7's bar),
    # which can only make the height grow, until nothing changes. Each piece left is measured as
    # part of its whole component, so that a digit whose side was taken for a candidate still
    # counts at its full height, and digits joined by a rule at theirs.
    whole = _label(mask)
    rules = candidates
    while True:
        rest = mask.copy()
        for _, pixels in rules:
            rest[pixels] = False
        labels = np.where(_drop_border(rest, np.inf), whole, 0)
        height = typical_height(labels, digit_like(measure(ink, labels, maps), min_height))
        longer = [c for c in rules if c[0] >= RULE_LENGTH * height]
        if len(longer) == len(rules):
            break
        rules = longer
    removed = np.zeros_like(mask)
    for _, pixels in rules:
        removed[pixels] = True
    return _drop_border(mask & ~removed, height), removed, height


def _rule_candidates(mask: np.ndarray, run: int) -> list[tuple[int, tuple[np.ndarray, ...]]]:
    """Long thin pieces, near-horizontal and near-vertical: (length, (rows, cols) of pixels).

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
                found.append((length, (xs, ys) if across else (ys, xs)))
    return found


def _rule_bands(mask: np.ndarray, run: int) -> list[tuple[int, tuple[slice, slice], np.ndarray]]:
    """Long thin horizontal pieces: (length, window, band of the line's pixels in the window)."""
    labels, _ = ndimage.label(_runs(mask, run), structure=_EIGHT)
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
        sides.append(ndimage.binary_dilation(near, iterations=RULE_CROSSING))
    return sides[0] & sides[1]


def _drop_border(mask: np.ndarray, height: float) -> np.ndarray:
    """Without components that touch the image edge and are far too big for a digit."""
    labels = _label(mask)
    size = mask.shape
    drop = np.zeros(labels.max() + 1, dtype=bool)
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        extent = [s.stop - s.start for s in box]
        edge = any(s.start == 0 or s.stop == n for s, n in zip(box, size, strict=True))
        span = max(e / n for e, n in zip(extent, size, strict=True))
        drop[index] = edge and (span >= BORDER_SPAN or max(extent) >= BORDER_DIGITS * height)
    return mask & ~drop[labels]


def find_blobs(labels: np.ndarray, min_height: float) -> list[_Blob]:
    """Digit candidates from the components: specks dropped, pieces merged, touching split."""
    slices = enumerate(ndimage.find_objects(labels), start=1)
    parts = [_Blob((i,), (r.start, c.start, r.stop, c.stop)) for i, (r, c) in slices]
    height = typical_height(labels)
    parts = [p for p in parts if max(p.height, p.width) >= SPECK_SIZE * height]
    if len(parts) > MAX_PIECES:
        parts = sorted(parts, key=lambda p: p.height * p.width, reverse=True)[:MAX_PIECES]
    blobs = merge_pieces(parts, height)
    tall = [b.height for b in blobs if b.height >= 0.5 * height]
    # An upper quantile: a number's digits are about as tall as its tallest, and a short wide
    # digit must not make a wide one look like two.
    height = float(np.percentile(tall, 75)) if tall else height
    blobs = [b for b in blobs if b.height >= max(min_height, FLAT * height)]
    upright = [b.width / b.height for b in blobs if b.width <= SPLIT_ASPECT * height]
    aspect = float(np.clip(np.median(upright) if upright else 0.65, *ASPECT_RANGE))
    return [part for blob in blobs for part in split_wide(blob, labels, aspect, height)]


def merge_pieces(parts: list[_Blob], height: float) -> list[_Blob]:
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
        merged = _Blob(a.ids + b.ids, tuple(int(v) for v in union))
        parts = [p for k, p in enumerate(parts) if k not in (i, j)] + [merged]
    return parts


def split_wide(blob: _Blob, labels: np.ndarray, aspect: float, height: float) -> list[_Blob]:
    """A blob too wide for one digit, cut into digits at the columns of least ink.

    Wide relative to the typical digit height too: a short, wide 2 or 0 is one digit.
    """
    tall = max(blob.height, height)
    if blob.width <= SPLIT_ASPECT * tall:
        return [blob]
    count = max(2, round(blob.width / (tall * aspect)))
    own = _own_pixels(labels, blob)
    profile = ndimage.uniform_filter1d(own.sum(axis=0).astype(float), 3)
    step = blob.width / count
    cuts = [0]
    for expected in step * np.arange(1, count):
        lo, hi = int(expected - SPLIT_WINDOW * step), int(expected + SPLIT_WINDOW * step) + 1
        x = np.arange(max(lo, cuts[-1] + 1), min(hi, blob.width))
        # The least ink; among equals, the cut nearest to where a digit should end.
        cuts.append(int(x[np.argmin(profile[x] + 1e-3 * np.abs(x - expected))]))
    cuts.append(blob.width)
    parts = []
    for start, stop in pairwise(cuts):
        rows = np.flatnonzero(own[:, start:stop].any(axis=1))
        cols = np.flatnonzero(own[:, start:stop].any(axis=0))
        if rows.size:
            y0, x0 = blob.box[0], blob.box[1] + start
            box = (y0 + rows[0], x0 + cols[0], y0 + rows[-1] + 1, x0 + cols[-1] + 1)
            parts.append(_Blob(blob.ids, tuple(int(v) for v in box)))
    return parts


def reading_order(blobs: list[_Blob]) -> list[list[int]]:
    """Indices grouped into text lines, top to bottom, each left to right.

    Built left to right, each blob joining the line whose last blob it overlaps most in
    height, so that a line may slope.
    """
    lines: list[list[int]] = []
    for i in sorted(range(len(blobs)), key=lambda k: blobs[k].box[1] + blobs[k].box[3]):
        y0, _, y1, _ = blobs[i].box
        best, best_overlap = None, LINE_OVERLAP
        for members in lines:
            ly0, _, ly1, _ = blobs[members[-1]].box
            overlap = (min(y1, ly1) - max(y0, ly0)) / min(y1 - y0, ly1 - ly0)
            if overlap >= best_overlap:
                best, best_overlap = members, overlap
        if best is None:
            lines.append([i])
        else:
            best.append(i)
    return sorted(lines, key=lambda m: np.mean([blobs[k].box[0] + blobs[k].box[2] for k in m]))


def digit_image(ink: np.ndarray, labels: np.ndarray, blob: _Blob, rules: np.ndarray) -> np.ndarray:
    """The blob's own ink (grey levels, not a neighbour's nor a rule's) as a 28x28 MNIST digit."""
    y0, x0, y1, x1 = blob.box
    window = (slice(max(0, y0 - 1), y1 + 1), slice(max(0, x0 - 1), x1 + 1))
    own = np.zeros(ink[window].shape, dtype=bool)
    top, left = y0 - window[0].start, x0 - window[1].start
    own[top : top + blob.height, left : left + blob.width] = _own_pixels(labels, blob)
    # One pixel of the anti-aliased fringe that the threshold cut off.
    support = ndimage.binary_dilation(own, structure=_EIGHT) & ~rules[window]
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    crop = np.where(support, ink[window], 0.0)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    digit = fit_box(crop, DIGIT_BOX)
    # As in normalize_digit: MNIST digits all reach full intensity.
    digit /= max(float(digit.max()), 1e-6)
    return center_by_mass(digit, FRAME)


def render_boxes(small: np.ndarray, placed: list[tuple[_Blob, int]]) -> np.ndarray:
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


def _own_pixels(labels: np.ndarray, blob: _Blob) -> np.ndarray:
    y0, x0, y1, x1 = blob.box
    return np.isin(labels[y0:y1, x0:x1], blob.ids)


def _original_box(box: tuple[int, int, int, int], scale: tuple[float, float]) -> tuple[int, ...]:
    y0, x0, y1, x1 = box
    x, y = round(x0 * scale[1]), round(y0 * scale[0])
    return x, y, round(x1 * scale[1]) - x, round(y1 * scale[0]) - y


def _label(mask: np.ndarray) -> np.ndarray:
    return ndimage.label(mask, structure=_EIGHT)[0]
