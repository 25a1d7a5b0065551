"""Told an image holds one digit (`single`): where segmentation's looks find no stroke, look
harder; where they find several pieces, read them as one digit.

- Where no look finds a stroke, the image is looked at again for fainter ink
  (SINGLE_MIN_CONTRAST); where that finds none either, it is looked at enlarged (ENLARGE),
  and then a last look takes any ink that is not a ruled line, down to
  LAST_LOOK_CONTRAST (look_harder). What a second look finds counts if the model reads it with
  SINGLE_SECOND_LOOK_CONFIDENCE; what the enlarged or the last look finds, only if it is also
  LEAST_HEIGHT px tall, reads as no 1 (there a shadow's or the paper's edge) and the digitness check
  gives it LAST_LOOK_DIGITNESS (looks_like_digits).
- The pieces found are read as one digit, the surer of two ways: from their own ink together,
  and normalized afresh from the union of their boxes; in an image not cropped to them, only
  those near the largest piece (vision.one_digit): a grid line's fragment across the page is
  not part of the digit (as_one_digit).
"""

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from digitrec.digitness import vouched
from digitrec.models.classifier import Classifier
from digitrec.readings import DigitReading
from digitrec.vision.decode import to_gray
from digitrec.vision.frame import fills
from digitrec.vision.look import WORK_SIZE
from digitrec.vision.one_digit import around_largest, merge_into_one
from digitrec.vision.pieces import DigitCrop, Pieces
from digitrec.vision.segment import find_pieces, look_enlarged
from digitrec.vision.tight_crop import TIGHT_FILL

# An image where segmentation found no ink as strong as MIN_INK_CONTRAST (vision.strokes) is
# looked at again for strokes down to this contrast, and what that finds must read with
# SINGLE_SECOND_LOOK_CONFIDENCE. On synthetic photos (tune half) single digits read 381 of 400
# instead of 378 (300 others unchanged), and of 150 blank pages read with `single` 6 gave a
# digit instead of 5 (16 without asking more confidence); 0.05 read no more.
SINGLE_MIN_CONTRAST = 0.08
# The last look takes ink down to this contrast: what it finds must also pass the digitness
# check and the model (looks_like_digits), which keep a blank page's texture out better than a
# contrast floor does, while a light pencil 9 on grey paper measured under 0.08. On synthetic
# photos (tune half) single digits read 1,960 of 2,000 instead of 1,958 (0.02-0.05: 1,959 or
# 1,960; 0.06 as 0.08), then on 1,000 fresh ones 970 instead of 969, none read wrong that did
# not before; of 400 blank pages read with `single`, as many gave no digit (0.05: one fewer).
LAST_LOOK_CONTRAST = 0.04
# Told there is one digit, a blank page is the rarer mistake: what a second look finds there
# needs less than on a page (the predictor's SECOND_LOOK_CONFIDENCE). On synthetic photos (tune
# half) single digits read 971 of 1,000 instead of 969 (a clear 8 on ruled paper at 0.64, a
# faint 2 at 0.59); 0.3 the same. Of 400 blank pages read with `single`, 23 instead of 21 gave
# a digit (0.3: 28).
SINGLE_SECOND_LOOK_CONFIDENCE = 0.5
# Before the last look, the image is looked at with ENLARGE times the resolution the looks
# before saw it at (vision.look.WORK_SIZE: an image that long or shorter enlarged ENLARGE times,
# bicubic; a longer one less, and one ENLARGE working sizes long or longer not at all): a digit
# 10-20 px tall there has strokes a pixel or two wide, too thin for the stroke and edge tests
# (as for the small digits that segment.find_pieces zooms in on, which it only does for those
# found). What that finds is judged as the last look's finds are (looks_like_digits), and must
# be LEAST_HEIGHT px tall in the image at least. On synthetic photos (tune half) single digits
# read 3,906 instead of 3,899 of 4,000, none read wrong that did not before (only images up to
# the working size enlarged: 3,902); of 1,600 blank pages read with `single`, as many gave no
# digit (without the height floor, specks 4 and 9 px tall read as a 4 and a 9).
ENLARGE = 2.0
LEAST_HEIGHT = 10

Classify = Callable[[np.ndarray], list[DigitReading]]


def look_harder(
    image: np.ndarray,
    pieces: Pieces,
    *,
    last_look: bool,
    stages: dict[str, np.ndarray] | None = None,
) -> Pieces:
    """`pieces` if the looks found any; else what a second look finds in fainter ink, and, if
    that finds none either and `last_look`, what a look at the image enlarged finds (see
    ENLARGE), or else what a last look finds in any ink that is not a ruled line,
    fainter still (a bold chalk digit is a blob, a small one on ruled paper too soft, a light
    pencil one on grey paper too faint)."""
    if pieces.crops:
        return pieces
    pieces = find_pieces(image, stages=stages, min_contrast=SINGLE_MIN_CONTRAST, one_digit=True)
    pieces = replace(pieces, second_look=True)
    if pieces.crops or not last_look:
        return pieces
    factor = ENLARGE * min(1.0, WORK_SIZE / max(image.shape[:2]))
    if factor > 1.0:
        pieces = look_enlarged(
            image, factor, stages=stages, min_contrast=SINGLE_MIN_CONTRAST, one_digit=True
        )
        if pieces.crops:
            return replace(pieces, second_look=True, last_look=True)
    pieces = find_pieces(
        image, stages=stages, min_contrast=LAST_LOOK_CONTRAST, one_digit=True, any_ink=True
    )
    return replace(pieces, second_look=True, last_look=True)


def as_one_digit(image: np.ndarray, pieces: Pieces, classify: Classify) -> Pieces:
    """The pieces as one candidate: unless the image is cropped to them, only those near the
    largest (vision.one_digit), read together the surer way (`classify` decides)."""
    if len(pieces.crops) > 1:
        near = around_largest(pieces.crops, image.shape[:2])
        boxes = [crop.box for crop in pieces.crops]
        if len(near) < len(pieces.crops) and not fills(image.shape[:2], boxes, TIGHT_FILL):
            pieces = replace(pieces, crops=near, joins=[])
    if len(pieces.crops) > 1:
        return replace(pieces, crops=[_one_crop(image, pieces, classify)], joins=[])
    return pieces


def _one_crop(image: np.ndarray, pieces: Pieces, classify: Classify) -> DigitCrop:
    """The pieces read as one digit, the surer of two ways: from their own ink, as the look
    offers them together (vision.joins.whole_join), and normalized afresh from the image around
    them (vision.one_digit.merge_into_one). The first leaves out the ruled lines and specks
    beside the strokes, the second keeps what the threshold cut apart or the look took for
    something else."""
    last = len(pieces.crops) - 1
    whole = [j.crop for j in pieces.joins if (j.first, j.last) == (0, last)]
    gray = to_gray(image) if image.ndim == 3 else image
    options = [*whole[:1], merge_into_one(gray, pieces.crops)]
    if len(options) == 1:  # the far pieces were left out: no look offered these together
        return options[0]
    readings = classify(np.stack([option.image for option in options]))
    return options[int(np.argmax([reading.confidence for reading in readings]))]


def looks_like_digits(
    digitness: Classifier | None, crops: list[DigitCrop], readings: list[DigitReading]
) -> bool:
    """Whether what the enlarged or the last look found counts: each crop at least
    LEAST_HEIGHT px tall in the image (a speck's few pixels read as anything), the digitness
    check vouches for them
    (digitness.LAST_LOOK_DIGITNESS) and none reads as a 1. Where no stroke was found, a 1 is a
    bar, which is what a shadow's or the paper's edge leaves."""
    if digitness is None:
        return True
    if any(crop.box[3] < LEAST_HEIGHT for crop in crops):
        return False
    images = np.stack([crop.image for crop in crops])
    return vouched(digitness, images) and all(r.digit != "1" for r in readings)
