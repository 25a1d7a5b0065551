"""Find the digits of a handwritten number in an image, in reading order, as MNIST-style crops.

    work image -> ink map and mask: straight from a clean image (a drawing, a clean scan:
    clean.py), or for a photo the page's ink (page.py: inside the sheet, background fitted to
    the pen's stroke width, ruled lines out) -> mask -> rule pieces and paper edges out
    (rules.py) -> pen strokes kept (components.py) -> specks out, pieces of one digit merged,
    touching digits split (grouping.py) -> faint ink given back to its digits, lightly written
    digits beside them found (complete.py) -> text lines, stray short lines out (grouping.py)
    -> 28x28 crops (pieces.py), and of neighbouring pieces that may be one digit (joins.py),
    for the reader to choose

Everything runs on a copy shrunk to WORK_SIZE; boxes are mapped back to the original pixels.
Digits small in a big image are looked for again up close (find_pieces).
Sizes are relative to the typical digit height found in the image, so the scale does not matter.
"""

from dataclasses import replace

import cv2
import numpy as np
from PIL import Image, ImageDraw

from digitrec.vision import filters
from digitrec.vision.clean import clean_ink, flat_paper
from digitrec.vision.complete import completed, faint_neighbours
from digitrec.vision.components import MIN_INK_CONTRAST, keep_strokes
from digitrec.vision.grouping import (
    Blob,
    find_blobs,
    own_ink,
    reading_order,
    tentative_halves,
    upper_quartile,
    without_stray_lines,
)
from digitrec.vision.joins import join_candidates
from digitrec.vision.page import page_ink
from digitrec.vision.pieces import CropJoin, DigitCrop, Pieces
from digitrec.vision.preprocess import (
    DIGIT_BOX,
    FRAME,
    _as_float,
    center_by_mass,
    edge_maps,
    fit_box,
    ink_threshold,
    threshold_ink,
)
from digitrec.vision.rules import box_lines, clean_mask, label
from digitrec.vision.sheet import find_sheet, kept_off_the_edge, resize_mask
from digitrec.vision.strips import line_strip

# Longer side of the working copy: ink_map's filters cost time in proportion to the pixels.
# Digits under ZOOM_BELOW px here are read again at a larger scale, so a smaller copy loses
# nothing: on synthetic photos (tune half) 560 read as well as 800 (singles 88.5 vs 88.0%,
# numbers 64.5 vs 65.0%, 200 each), and 448 as well as 560 (300 singles, 300 numbers, 150
# blanks: 276/210/146 vs 275/207/147 right; of 40 phone-size singles 37 vs 34), in 0.26 s
# instead of 0.42 s for a 12-MP photo; 384 began to lose singles.
WORK_SIZE = 448
# Images shrunk this many times or more (phone photos) are block-averaged by OpenCV first
# (see work_image).
BIG_SHRINK = 4
# Digits this small (px tall in the working copy) are read again from the original around
# them, about ZOOM_TO px tall, with ZOOM_MARGIN digit heights of room around.
ZOOM_BELOW = 24
ZOOM_TO = 48
ZOOM_MARGIN = 2.0
# In a photo, digits that small in the image itself are read from a copy of its part around
# them enlarged (bicubic) up to this many times: at 12-20 px the stroke and edge rules, made for
# strokes a few px wide, lose strokes and misjudge edges. On synthetic photos (tune half) 1,187
# -> 1,204 of 1,500 numbers read right (1.5 times: 1,188; bilinear: 1,197), single digits 1,915
# -> 1,912 of 2,000, blank pages the same; then on 500 fresh numbers 399 -> 401.
ZOOM_ENLARGE = 2.0
# ... unless that working copy would be longer than this: small candidates spread over the
# whole of a 12-MP page (dust on a blank sheet) would be segmented at full size, for seconds.
ZOOM_MAX_SIDE = 800
# An image at least CLOSER_FROM times the working size in which nothing digit-sized was found
# is segmented once more at LOOK_CLOSER times the working size: at WORK_SIZE alone a 12-MP
# photo's digits under ~70 px tall (MIN_DIGIT_PX there) are missed, such as a number written
# small on a page photographed whole. At 1.5 times, MIN_DIGIT_PX is about the MIN_DIGIT_OF_IMAGE
# share of a 4:3 image, so a closer look would find no smaller digits, only more of the paper's
# texture. Smaller images are not looked at again: there the second look found grid cells and
# sheet edges on blank pages rather than digits.
CLOSER_FROM = 2.0
LOOK_CLOSER = 1.5
# What the closer look finds is kept only if its digits' median height is under this many times
# the smallest digit the first look could find: on blank 12-MP pages it found sheet edges
# that the first look had rightly dropped (1 of 40 read as a "1"). Not at 1.5: a faint pencil
# number 57 px tall on a 1779-px lined page, too faint at the working size (thin strokes average
# out) and cut by a ruled line, read as nothing. On synthetic photos (tune half) at 2.0 numbers
# 1,604 -> 1,605 of 1,800, single digits and 2,400 blank pages as before; 12-MP ones (200
# blank pages, 80 numbers) as before, and 3.0 as 2.0.
SEEN_BY_FIRST_LOOK = 2.0
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


def segment_digits(
    gray: np.ndarray,
    *,
    stages: dict[str, np.ndarray] | None = None,
    work_size: int = WORK_SIZE,
    zoom: bool = True,
) -> list[DigitCrop]:
    """The digits in `gray` (H, W), lines top to bottom, each line left to right; a digit in
    pieces that geometry cannot tell from several digits is several crops (see find_pieces), a
    blob that may be one wide digit or two is one."""
    return find_pieces(gray, stages=stages, work_size=work_size, zoom=zoom).by_geometry()


def find_pieces(
    gray: np.ndarray,
    *,
    stages: dict[str, np.ndarray] | None = None,
    work_size: int = WORK_SIZE,
    zoom: bool = True,
    min_contrast: float = MIN_INK_CONTRAST,
    one_digit: bool = False,
) -> Pieces:
    """The digit candidates in `gray` (H, W) in reading order, and the candidate joins.

    Told the image holds `one_digit`, the reader has nothing to choose among: no candidate gets
    a context image for the gate (digitrec.gate), and in a clean image no blob is also offered
    cut in two (see grouping.TRY_SPLIT).

    An image at least CLOSER_FROM working sizes long where nothing was found is looked at once
    more at LOOK_CLOSER times the working size, for digits too small for the first look.
    Digits found under ZOOM_BELOW px tall in the working copy are looked for again in the part
    of the image around them, at a resolution where they are about ZOOM_TO px tall (`zoom`), if
    that part is at most ZOOM_MAX_SIDE px long then: from the image's own pixels, or, in a photo
    whose digits are that small in the image itself, from a copy enlarged up to ZOOM_ENLARGE
    times; inside the sheet of paper the first look found, if it found one.
    """
    longest = max(np.shape(gray)[:2])
    pieces = _segment(gray, stages, work_size, min_contrast, one_digit=one_digit)
    if zoom and not pieces.crops and longest >= CLOSER_FROM * work_size:
        # Nothing digit-sized in the working copy: the digits may be under MIN_DIGIT_PX there
        # (a number written small on a page photographed whole). Look again closer, for those
        # only: what the first look could see (a sheet's edge, say), it has judged already.
        closer_stages: dict[str, np.ndarray] = {}
        closer_size = round(LOOK_CLOSER * work_size)
        closer = _segment(gray, closer_stages, closer_size, min_contrast, one_digit=one_digit)
        seen = SEEN_BY_FIRST_LOOK * MIN_DIGIT_PX * longest / work_size
        if closer.crops and np.median([c.box[3] for c in closer.crops]) < seen:
            pieces, work_size = (
                replace(closer, second_look=True, edge_ink_dropped=pieces.edge_ink_dropped),
                closer_size,
            )
            if stages is not None:
                stages.update(closer_stages)
    crops = pieces.crops
    scale = longest / work_size
    # A clean image's small digits are read well as they are; a photo's are not (see
    # ZOOM_ENLARGE).
    if not zoom or not crops or (scale <= 1.0 and pieces.clean):
        return pieces
    scale = max(scale, 1.0)
    # In original pixels, a blob cut tentatively counted whole: its halves, which the reader
    # may undo, would make the digits look smaller and change the zoom.
    height = float(np.median([c.box[3] for c in pieces.by_geometry()]))
    if height / scale >= ZOOM_BELOW:
        return pieces
    margin = round(ZOOM_MARGIN * height)
    x0 = max(0, min(c.box[0] for c in crops) - margin)
    y0 = max(0, min(c.box[1] for c in crops) - margin)
    x1 = max(c.box[0] + c.box[2] for c in crops) + margin
    y1 = max(c.box[1] + c.box[3] for c in crops) + margin
    region = np.asarray(gray)[y0:y1, x0:x1]
    side = max(region.shape[:2])
    most = 1.0 if pieces.clean else ZOOM_ENLARGE
    size = min(round(side * ZOOM_TO / height), round(most * side))
    if size > ZOOM_MAX_SIDE:  # specks strewn over a page, not a small number: not worth it
        return pieces
    # Shrinking is work_image's; enlarging is done here, and undone on the boxes.
    enlarged = max(1.0, size / side)
    if enlarged > 1.0:
        if region.dtype != np.uint8:  # OpenCV resizes few other types (not int32, say)
            region = _as_float(region)
        shape = (round(region.shape[1] * enlarged), round(region.shape[0] * enlarged))
        region = cv2.resize(np.ascontiguousarray(region), shape, interpolation=cv2.INTER_CUBIC)
    # The part around the digits is no photo of a sheet on a table: the paper runs off its
    # edges, and a strip of the table beside it passed for the sheet (see page_ink). The sheet
    # the first look found is kept to: up close, the table beside it was ink (its grain read as
    # digits, its edge as a "1") and the digits faint beside it. On synthetic photos (tune
    # half) numbers of 2-8 digits read exactly 1,608 -> 1,619 of 1,800, single digits 974 and
    # blank pages 2,385 -> 2,386 of 2,400.
    sheet = _sheet_part(pieces.sheet, np.shape(gray)[:2], (y0, y1, x0, x1))
    again = _segment(region, None, max(size, 16), min_contrast, sheet=sheet, one_digit=one_digit)
    if not again.crops:
        return pieces
    return replace(
        again.moved(x0, y0, 1 / enlarged),
        second_look=pieces.second_look,
        edge_ink_dropped=pieces.edge_ink_dropped,
        before_zoom=pieces,
    )


def _sheet_part(
    sheet: np.ndarray | None, shape: tuple[int, ...], part: tuple[int, int, int, int]
) -> np.ndarray | bool:
    """The part (y0, y1, x0, x1 in the pixels of an image of `shape`) of a sheet mask of that
    image at any scale; False (look for no sheet) where there is none or the part is all
    paper."""
    if sheet is None:
        return False
    inside = resize_mask(sheet, shape, part)
    return False if inside.all() else inside


def _segment(
    gray: np.ndarray,
    stages: dict[str, np.ndarray] | None,
    work_size: int,
    min_contrast: float = MIN_INK_CONTRAST,
    sheet: bool | np.ndarray = True,
    one_digit: bool = False,
) -> Pieces:
    """The pieces found in `gray` at `work_size`: inside the sheet of paper if one is found (and
    looked for: `sheet`), or inside the given mask of it (of `gray`, at any scale)."""
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
        labels = keep_strokes(label(mask), ink, maps, contrast, height, min_height, min_contrast)
    # Told there is one digit, a clean image's blob need not be cut in halves too. A photo's
    # still is: its halves each grow by the faint ink on their side (complete.completed), and
    # without them 4 more of 1,000 single-digit photos (tiny digits, looked at closer) read
    # wrong, none more right.
    tentative = not (one_digit and clean is not None)
    blobs, labels = find_blobs(labels, min_height, tentative=tentative)
    if clean is None:
        # Stray lines go first, judged by the ink the threshold kept: grown along a faint line,
        # a fragment of the paper's edge could tower over the digits.
        blobs = [
            blobs[i] for line in without_stray_lines(blobs, reading_order(blobs)) for i in line
        ]
        blobs, labels = completed(blobs, labels, ink, threshold, rules)
        blobs, labels = faint_neighbours(blobs, labels, ink, threshold, rules, maps)
    lines = without_stray_lines(blobs, reading_order(blobs))
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
        block = int(1 / factor)
        if block >= BIG_SHRINK:
            # Block means over whole blocks first: OpenCV's fast path for a whole factor
            # takes every pixel of a 12-MP RGB photo in ~12 ms (PIL's box filter ~95 ms).
            step = 1 / block
            kind = cv2.resize(kind, None, fx=step, fy=step, interpolation=cv2.INTER_AREA)
        # PIL's box filter, a little wider than the exact area, keeps strokes 2-3 px wide here
        # a pixel thicker, as the stroke rules (components.py) were tuned on.
        arr = np.asarray(Image.fromarray(kind).resize(shape[::-1], Image.Resampling.BOX))
    return _as_float(arr), (arr_shape[0] / shape[0], arr_shape[1] / shape[1])


def digit_image(ink: np.ndarray, labels: np.ndarray, blob: Blob, rules: np.ndarray) -> np.ndarray:
    """The blob's own ink (grey levels, not a neighbour's nor a rule's) as a 28x28 MNIST digit."""
    window, support = own_ink(ink, labels, blob, rules, fringe=1)
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    crop = window[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    digit = fit_box(crop, DIGIT_BOX)
    # As in normalize_digit: MNIST digits all reach full intensity.
    digit /= max(float(digit.max()), 1e-6)
    return center_by_mass(digit, FRAME)


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
