"""Told an image holds one digit: which of the pieces segmentation found make it, and the digit
they make together.

A digit broken into pieces (a grid line taken out across it, a gap in a faint stroke) is read
whole from the union of their boxes. Pieces standing well away from the largest one are not
part of it: a fragment of a grid line or of the paper's edge, a speck, which in the union would
make a tall thin box that reads as a 1; nor is a piece running off the image, where another
is clear of its edge.
"""

import numpy as np

from digitrec.vision.frame import reaches_edge
from digitrec.vision.mnist_frame import normalize_digit
from digitrec.vision.pieces import DigitCrop

# Pieces whose boxes are at most this share of the largest piece's longer side apart from it,
# or from a piece so kept, are part of the digit. On synthetic single-digit photos (tune half,
# 1,000) 969 read right instead of 967; 0.25-1.0 alike. Not in an image cropped to its digit
# (see the predictor), where all the pieces are the digit's: cropped so, 3 more of 600 read wrong.
NEAR_LARGEST = 0.5
# Room kept around the ink when the union of the pieces is normalized afresh.
MARGIN = 0.15


def around_largest(crops: list[DigitCrop], shape: tuple[int, int]) -> list[DigitCrop]:
    """The pieces near the largest one (by box area) clear of the edge of the image of `shape`
    (the largest of all if none is), and near those in turn (NEAR_LARGEST), in their order."""
    # Not a piece touching the image's edge where another is clear of it: in a photo not cropped
    # to its digit, that is a hand's shadow, the table or the paper's edge running off the photo,
    # not the digit aimed at. On synthetic single-digit photos (tune half) 1,958 of 2,000 read
    # right instead of 1,957 (a 4 beside a shadow falling across the page), none read wrong that
    # did not before; of 400 blank pages read with `single`, as many gave no digit.
    clear = [k for k, crop in enumerate(crops) if not reaches_edge(shape, [crop.box], share=0.0)]
    largest = max(clear or range(len(crops)), key=lambda k: _area(crops[k]))
    reach = NEAR_LARGEST * max(crops[largest].box[2:])
    chosen = {largest}
    frontier = [largest]
    while frontier:
        box = crops[frontier.pop()].box
        for k, crop in enumerate(crops):
            if k not in chosen and _gap(box, crop.box) <= reach:
                chosen.add(k)
                frontier.append(k)
    return [crop for k, crop in enumerate(crops) if k in chosen]


def _area(crop: DigitCrop) -> int:
    """The area of the crop's box: which piece is the largest."""
    return crop.box[2] * crop.box[3]


def _gap(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """The distance between two (x, y, w, h) boxes along the axis where they lie further apart
    (0 where they overlap)."""
    dx = max(a[0] - (b[0] + b[2]), b[0] - (a[0] + a[2]), 0)
    dy = max(a[1] - (b[1] + b[3]), b[1] - (a[1] + a[3]), 0)
    return max(dx, dy)


def merge_into_one(gray: np.ndarray, crops: list[DigitCrop]) -> DigitCrop:
    """One digit from the pieces: the union of their boxes, normalized afresh from `gray`."""
    left = min(crop.box[0] for crop in crops)
    top = min(crop.box[1] for crop in crops)
    right = max(crop.box[0] + crop.box[2] for crop in crops)
    bottom = max(crop.box[1] + crop.box[3] for crop in crops)
    margin = round(MARGIN * max(right - left, bottom - top))
    region = gray[max(0, top - margin) : bottom + margin, max(0, left - margin) : right + margin]
    digit = normalize_digit(region)
    if digit is None:  # the pieces were found on the whole page; keep the largest then
        digit = max(crops, key=_area).image
    return DigitCrop((left, top, right - left, bottom - top), digit, line=0)
