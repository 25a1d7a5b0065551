"""Told an image holds one digit: which of the pieces segmentation found make it, and the digit
they make together; and the image read whole, as one digit cropped tight.

A digit broken into pieces (a grid line taken out across it, a gap in a faint stroke) is read
whole from the union of their boxes. Pieces standing well away from the largest one are not
part of it: a fragment of a grid line or of the paper's edge, a speck, which in the union would
make a tall thin box that reads as a 1.

A photo cropped to its digit is no page: the digit's strokes run off its edges and fill most of
it, bold and blurred, where segmentation looks for digits standing on paper and for the paper's
edge. Such an image is two colours, paper and ink, and one global threshold parts them
(tight_digit).
"""

import cv2
import numpy as np

from digitrec.vision.look import work_image
from digitrec.vision.pieces import DigitCrop
from digitrec.vision.preprocess import DIGIT_BOX, FRAME, center_by_mass, fit_box, normalize_digit

# Pieces whose boxes are at most this share of the largest piece's longer side apart from it,
# or from a piece so kept, are part of the digit. On synthetic single-digit photos (tune half,
# 1,000) 969 read right instead of 967; 0.25-1.0 alike. Not in an image cropped to its digit
# (see the predictor), where all the pieces are the digit's: cropped so, 3 more of 600 read wrong.
NEAR_LARGEST = 0.5
# Room kept around the ink when the union of the pieces is normalized afresh.
MARGIN = 0.15

# tight_digit: the image is looked at this long (px), its longer side. Of the threshold's two
# classes the ink is the one on less of the image's border (a digit touches the edge of its
# crop at a few strokes, the paper runs all round it), its parts those of at least INK_PART
# of the largest's area. It is one digit cropped tight where that ink spans TIGHT_SPAN of the
# image both ways, the paper is even (the spread of its grey levels at most PAPER_SPREAD of
# the ink's contrast: not a table, a sheet's edge and shadows), and the ink is drawn in strokes
# (the widest is at most STROKE_HALF_WIDTH of the ink's longer side from its middle to its
# edge: not the sheet of paper of a photo of a blank page, seen as one solid patch).
TIGHT_SIZE = 256
INK_PART = 0.1
TIGHT_SPAN = 0.8
PAPER_SPREAD = 0.4
STROKE_HALF_WIDTH = 0.2


def around_largest(crops: list[DigitCrop]) -> list[DigitCrop]:
    """The pieces near the largest one (by box area), and near those in turn (NEAR_LARGEST), in
    their order."""
    largest = max(range(len(crops)), key=lambda k: _area(crops[k]))
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


def tight_digit(image: np.ndarray) -> DigitCrop | None:
    """The image (grey or RGB) as one digit cropped tight to its ink, normalized as MNIST's, with
    its box; None if it does not look like one (see TIGHT_SPAN)."""
    gray, scale = work_image(np.asarray(image), TIGHT_SIZE)
    levels = np.round(gray * 255).astype(np.uint8)
    _, light = cv2.threshold(
        cv2.GaussianBlur(levels, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU
    )
    ink = light == 0
    if _border(ink).mean() > 0.5:
        ink = ~ink
    if ink.all() or not ink.any():
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8))
    areas = stats[1:, cv2.CC_STAT_AREA]
    parts = np.concatenate([[False], areas >= INK_PART * areas.max()])
    mask = parts[labels]
    # The ink's anti-aliased fringe just outside the threshold is part of the stroke.
    near = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if bottom - top < TIGHT_SPAN * gray.shape[0] or right - left < TIGHT_SPAN * gray.shape[1]:
        return None
    paper_level, ink_level = float(np.median(gray[~ink])), float(np.median(gray[ink]))
    contrast = abs(ink_level - paper_level)
    if contrast == 0 or float(gray[~ink].std()) > PAPER_SPREAD * contrast:
        return None
    widest = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3).max()
    if widest > STROKE_HALF_WIDTH * max(bottom - top, right - left):
        return None
    strength = np.clip((gray - paper_level) / (ink_level - paper_level), 0.0, 1.0)
    crop = np.where(near, strength, 0.0)[top:bottom, left:right]
    digit = fit_box(crop, DIGIT_BOX)
    digit /= max(float(digit.max()), 1e-6)
    y, x = round(top * scale[0]), round(left * scale[1])
    box = (x, y, round(right * scale[1]) - x, round(bottom * scale[0]) - y)
    return DigitCrop(box, center_by_mass(digit, FRAME), line=0)


def _border(mask: np.ndarray) -> np.ndarray:
    """The mask's values along the image's four edges."""
    return np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
