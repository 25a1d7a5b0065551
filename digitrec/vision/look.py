"""One look at an image at one working size: its digit candidates as MNIST-style crops.

    work image -> ink map and mask: straight from a clean image (a drawing, a clean scan:
    clean.py), or for a photo the page's ink (page.py: inside the sheet, background fitted to
    the pen's stroke width, ruled lines out) -> mask -> rule pieces and paper edges out
    (rules.py) -> pen strokes kept (strokes.py) -> specks out, pieces of one digit merged,
    touching digits split (grouping.py) -> faint ink given back to its digits, lightly written
    digits beside them found (complete.py) -> text lines, stray short lines out (lines.py)
    -> 28x28 crops (pieces.py), and of neighbouring pieces that may be one digit (joins.py),
    for the reader to choose

Everything runs on a copy shrunk to the working size; boxes are mapped back to the original
pixels. Sizes are relative to the typical digit height found in the image, so the scale does
not matter. Which looks to take, and where, is segment.find_pieces'.
"""

import cv2
import numpy as np
from PIL import Image, ImageDraw

from digitrec.vision import filters
from digitrec.vision.clean import clean_ink, flat_paper
from digitrec.vision.complete import completed, faint_neighbours
from digitrec.vision.grouping import Blob, find_blobs, own_ink, tentative_halves, upper_quartile
from digitrec.vision.joins import join_candidates, whole_join
from digitrec.vision.lines import reading_order, without_stray_lines
from digitrec.vision.mnist_frame import FRAME, mnist_digit
from digitrec.vision.page import page_ink
from digitrec.vision.pieces import CropJoin, DigitCrop, Pieces
from digitrec.vision.preprocess import _as_float, edge_maps, ink_threshold, threshold_ink
from digitrec.vision.rules import box_lines, clean_mask, label
from digitrec.vision.sheet import find_sheet, kept_off_the_edge, resize_mask
from digitrec.vision.strips import line_strip
from digitrec.vision.strokes import MIN_INK_CONTRAST, keep_strokes

# Longer side of the working copy: ink_map's filters cost time in proportion to the pixels.
# Digits under segment.ZOOM_BELOW px here are read again at a larger scale, so a smaller copy
# loses nothing: on synthetic photos (tune half) 560 read as well as 800 (singles 88.5 vs
# 88.0%, numbers 64.5 vs 65.0%, 200 each), and 448 as well as 560 (300 singles, 300 numbers,
# 150 blanks: 276/210/146 vs 275/207/147 right; of 40 phone-size singles 37 vs 34), in 0.26 s
# instead of 0.42 s for a 12-MP photo; 384 began to lose singles.
WORK_SIZE = 448
# Images shrunk this many times or more (phone photos) are block-averaged by OpenCV first
# (see work_image).
BIG_SHRINK = 4
# Images up to this size (longer side, px) that look clean take the fast path (clean.py): a
# drawing sent by the page, a cropped scan of a number (a 640x192 one: 76 -> 15 ms). Bigger
# ones are photos of a page, where the fast path read no better on synthetic photos than the
# full pipeline tuned for them; up to 1024 px, synthetic photos read the same either way (none
# of them looks clean).
CLEAN_MAX_SIDE = 1024
# A digit is at least this tall: in working pixels, and as a share of the shorter image side.
MIN_DIGIT_PX = 8
MIN_DIGIT_OF_IMAGE = 0.015

# The side of a candidate's context image (context_image), in digit heights of its line: a
# digit and a half, as wide as the widest join (joins.JOIN_WIDTH), so that two digits run
# together overflow it and a fragment sits small in it.
CONTEXT_SPAN = 1.5

# Box colours by text line, so that a wrong line grouping shows.
_COLOURS = ((230, 30, 30), (30, 120, 230), (20, 160, 60), (200, 120, 0))


def look_at(
    gray: np.ndarray,
    stages: dict[str, np.ndarray] | None,
    work_size: int,
    min_contrast: float = MIN_INK_CONTRAST,
    sheet: bool | np.ndarray = True,
    one_digit: bool = False,
    any_ink: bool = False,
) -> Pieces:
    """The pieces found in `gray` at `work_size`: inside the sheet of paper if one is found (and
    looked for: `sheet`), or inside the given mask of it (of `gray`, at any scale); with
    `any_ink`, whatever ink is not a ruled line, stroke-like or not (strokes.stroke_tests)."""
    small, scale = work_image(np.asarray(gray), work_size)
    min_height = max(MIN_DIGIT_PX, MIN_DIGIT_OF_IMAGE * min(small.shape))
    clean = clean_ink(small) if max(np.shape(gray)[:2]) <= CLEAN_MAX_SIDE else None
    edge_ink_dropped = False
    found = None
    if clean is not None:  # a drawing or clean scan: nothing for the photo steps to take out
        ink, mask = clean
        labels = label(mask)
        rules = box_lines(labels)  # but a form's boxes
        if rules.any():
            labels = label(mask & ~rules)
    else:
        if isinstance(sheet, np.ndarray):
            found = kept_off_the_edge(resize_mask(sheet, small.shape))
        elif sheet:
            found = find_sheet(small)
        ink, contrast = page_ink(small, min_height, sheet=found)
        maps = edge_maps(ink)
        threshold = ink_threshold(ink)
        inked = threshold_ink(ink, threshold)
        mask, rules, height = clean_mask(inked, ink, maps, min_height)
        # What clean_mask took out besides rules: the pieces touching the image's edge.
        edge_ink_dropped = bool((inked & ~rules & ~mask).any())
        labels = keep_strokes(
            label(mask), ink, maps, contrast, height, min_height, min_contrast, any_ink
        )
    # Told there is one digit, a clean image's blob need not be cut in halves too. A photo's
    # still is: its halves each grow by the faint ink on their side (complete.completed), and
    # without them 4 more of 1,000 single-digit photos (tiny digits, looked at closer) read
    # wrong, none more right.
    tentative = not (one_digit and clean is not None)
    blobs, labels = find_blobs(labels, min_height, tentative=tentative, one_digit=one_digit)

    def text_lines(blobs: list[Blob]) -> list[list[int]]:
        # Told there is one digit, no piece is a stray line: the reader keeps the pieces near
        # the largest (one_digit.around_largest), and a 3's bottom stroke written apart lay on
        # a line of its own. On synthetic photos (tune half) single digits read 976 -> 977 of
        # 1,000, none lost.
        lines = reading_order(blobs)
        return lines if one_digit else without_stray_lines(blobs, lines)

    if clean is None:
        # Stray lines go first, judged by the ink the threshold kept: grown along a faint line,
        # a fragment of the paper's edge could tower over the digits.
        blobs = [blobs[i] for line in text_lines(blobs) for i in line]
        blobs, labels = completed(blobs, labels, ink, threshold, rules)
        blobs, labels = faint_neighbours(blobs, labels, ink, threshold, rules, maps)
    lines = text_lines(blobs)
    placed = [(blobs[i], line) for line, members in enumerate(lines) for i in members]
    placed = tentative_halves(placed)
    if stages is not None:
        stages.update(ink=ink, mask=mask, boxes=render_boxes(small, placed))

    line_of = [line for _, line in placed]
    line_height = {  # the scale of the context images
        line: upper_quartile(b.height for b, ln in placed if ln == line)
        for line in ([] if one_digit else set(line_of))
    }

    def crop(blob: Blob, line: int) -> DigitCrop:
        image = digit_image(ink, labels, blob, rules)
        context = None if one_digit else context_image(ink, labels, blob, rules, line_height[line])
        return DigitCrop(_original_box(blob.box, scale), image, line, context)

    joins = join_candidates([blob for blob, _ in placed], line_of)
    if one_digit and len(placed) > 1:
        # The pieces together, from their own ink: rules and specks beside them left out.
        joins.insert(0, whole_join([blob for blob, _ in placed]))
    strips = (
        []
        if one_digit
        else [
            strip
            for line, members in enumerate(lines)
            if (strip := line_strip(ink, labels, rules, [blobs[i] for i in members], line, scale))
        ]
    )
    return Pieces(
        [crop(blob, line) for blob, line in placed],
        [
            CropJoin(j.first, j.last, crop(j.blob, line_of[j.first]), j.cost, j.tentative)
            for j in joins
        ],
        clean=clean is not None,
        edge_ink_dropped=edge_ink_dropped,
        strips=strips,
        sheet=found,
    )


def looks_clean(gray: np.ndarray) -> bool:
    """Whether find_pieces reads the image by the fast path for clean images (clean.py): a
    drawing or a clean scan, not a photo. A few ms on a small image."""
    if max(np.shape(gray)[:2]) > CLEAN_MAX_SIDE:
        return False
    return clean_ink(work_image(np.asarray(gray), WORK_SIZE)[0]) is not None


def paper_is_flat(gray: np.ndarray) -> bool:
    """Whether the image's paper, away from its ink, is as flat as a clean image's, however
    little of it there is (clean.flat_paper): a drawing or scan cropped tight, not a photo."""
    return flat_paper(work_image(np.asarray(gray), WORK_SIZE)[0])


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
        kind = np.ascontiguousarray(kind)
        # No block longer than the image's shorter side: a 3x3000 strip would shrink to nothing.
        block = min(int(1 / factor), *arr.shape[:2])
        if block >= BIG_SHRINK:
            # Block means over whole blocks first: OpenCV's fast path for a whole factor
            # takes every pixel of a 12-MP RGB photo in ~12 ms (PIL's box filter ~95 ms).
            step = 1 / block
            kind = cv2.resize(kind, None, fx=step, fy=step, interpolation=cv2.INTER_AREA)
        # PIL's box filter, a little wider than the exact area, keeps strokes 2-3 px wide here
        # a pixel thicker, as the stroke rules (strokes.py) were tuned on.
        arr = np.asarray(Image.fromarray(kind).resize(shape[::-1], Image.Resampling.BOX))
    return _as_float(arr), (arr_shape[0] / shape[0], arr_shape[1] / shape[1])


def digit_image(ink: np.ndarray, labels: np.ndarray, blob: Blob, rules: np.ndarray) -> np.ndarray:
    """The blob's own ink (grey levels, not a neighbour's nor a rule's) as a 28x28 MNIST digit."""
    window, support = own_ink(ink, labels, blob, rules, fringe=1)
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    return mnist_digit(window[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def context_image(
    ink: np.ndarray, labels: np.ndarray, blob: Blob, rules: np.ndarray, height: float
) -> np.ndarray:
    """The blob's own ink in a square window CONTEXT_SPAN line digit heights wide, centred on
    its box, at (28, 28): unlike digit_image, the scale is the line's, not the blob's."""
    side = max(3, round(CONTEXT_SPAN * height))
    cy, cx = (blob.box[0] + blob.box[2]) // 2, (blob.box[1] + blob.box[3]) // 2
    y0, x0 = cy - side // 2, cx - side // 2
    window = np.zeros((side, side), np.float32)
    ys = slice(max(0, y0), min(ink.shape[0], y0 + side))
    xs = slice(max(0, x0), min(ink.shape[1], x0 + side))
    own = np.isin(labels[ys, xs], blob.ids)
    by0, bx0, by1, bx1 = blob.box
    yy = np.arange(ys.start, ys.stop)[:, None]
    xx = np.arange(xs.start, xs.stop)[None, :]
    own &= (yy >= by0) & (yy < by1) & (xx >= bx0) & (xx < bx1)
    support = filters.dilate(own, square=True) & ~rules[ys, xs]
    window[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0] = np.where(
        support, ink[ys, xs], 0.0
    )
    small = cv2.resize(window, (FRAME, FRAME), interpolation=cv2.INTER_AREA)
    return small / max(float(small.max()), 1e-6)


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
