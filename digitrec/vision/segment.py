"""Find the digits of a handwritten number in an image, in reading order, as MNIST-style crops.

The image is looked at (look.py: ink, mask, rules and strokes, pieces, text lines, crops) on a
copy shrunk to WORK_SIZE; a big image where nothing was found, once more closer; digits small
in the image, once more up close in the part of it around them (find_pieces).
"""

from dataclasses import replace

import cv2
import numpy as np

from digitrec.vision.look import MIN_DIGIT_PX, WORK_SIZE, look_at
from digitrec.vision.pieces import DigitCrop, Pieces
from digitrec.vision.preprocess import for_opencv
from digitrec.vision.sheet import resize_mask
from digitrec.vision.strokes import MIN_INK_CONTRAST

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
    any_ink: bool = False,
) -> Pieces:
    """The digit candidates in `gray` (H, W) in reading order, and the candidate joins.

    Told the image holds `one_digit`, the reader has nothing to choose among: no candidate gets
    a context image for the gate (digitrec.gate), and in a clean image no blob is also offered
    cut in two (see grouping.TRY_SPLIT). With `any_ink`, every look keeps whatever ink is not
    a ruled line, stroke-like or not (strokes.stroke_tests).

    An image at least CLOSER_FROM working sizes long where nothing was found is looked at once
    more at LOOK_CLOSER times the working size, for digits too small for the first look.
    Digits found under ZOOM_BELOW px tall in the working copy are looked for again in the part
    of the image around them, at a resolution where they are about ZOOM_TO px tall (`zoom`), if
    that part is at most ZOOM_MAX_SIDE px long then: from the image's own pixels, or, in a photo
    whose digits are that small in the image itself, from a copy enlarged up to ZOOM_ENLARGE
    times; inside the sheet of paper the first look found, if it found one.
    """
    longest = max(np.shape(gray)[:2])
    looks = {"one_digit": one_digit, "any_ink": any_ink}
    pieces = look_at(gray, stages, work_size, min_contrast, **looks)
    if zoom and not pieces.crops and longest >= CLOSER_FROM * work_size:
        # Nothing digit-sized in the working copy: the digits may be under MIN_DIGIT_PX there
        # (a number written small on a page photographed whole). Look again closer, for those
        # only: what the first look could see (a sheet's edge, say), it has judged already.
        closer_stages: dict[str, np.ndarray] = {}
        closer_size = round(LOOK_CLOSER * work_size)
        closer = look_at(gray, closer_stages, closer_size, min_contrast, **looks)
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
        region = _enlarge(region, enlarged)
    # The part around the digits is no photo of a sheet on a table: the paper runs off its
    # edges, and a strip of the table beside it passed for the sheet (see sheet.find_sheet).
    # The sheet the first look found is kept to: up close, the table beside it was ink (its
    # grain read as digits, its edge as a "1") and the digits faint beside it. On synthetic
    # photos (tune half) numbers of 2-8 digits read exactly 1,608 -> 1,619 of 1,800, single
    # digits 974 and blank pages 2,385 -> 2,386 of 2,400.
    sheet = _sheet_part(pieces.sheet, np.shape(gray)[:2], (y0, y1, x0, x1))
    again = look_at(region, None, max(size, 16), min_contrast, sheet=sheet, **looks)
    if not again.crops:
        return pieces
    return replace(
        again.moved(x0, y0, 1 / enlarged),
        second_look=pieces.second_look,
        edge_ink_dropped=pieces.edge_ink_dropped,
        before_zoom=pieces,
    )


def look_enlarged(
    gray: np.ndarray,
    factor: float,
    *,
    stages: dict[str, np.ndarray] | None = None,
    min_contrast: float = MIN_INK_CONTRAST,
    one_digit: bool = False,
) -> Pieces:
    """find_pieces on `gray` enlarged `factor` times (bicubic) and looked at whole, the boxes
    in `gray`'s pixels: for digits whose strokes are a pixel or two wide, which the stroke and
    edge tests, made for strokes a few pixels wide, drop (see ZOOM_ENLARGE)."""
    enlarged = _enlarge(gray, factor)
    pieces = find_pieces(
        enlarged,
        stages=stages,
        work_size=max(enlarged.shape[:2]),
        min_contrast=min_contrast,
        one_digit=one_digit,
    )
    return pieces.moved(0, 0, 1 / factor).within(*np.shape(gray)[:2])


def _enlarge(image: np.ndarray, factor: float) -> np.ndarray:
    image = for_opencv(image)
    shape = (round(image.shape[1] * factor), round(image.shape[0] * factor))
    return cv2.resize(image, shape, interpolation=cv2.INTER_CUBIC)


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
