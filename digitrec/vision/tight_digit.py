"""An image read whole as one digit cropped tight to its ink.

A photo cut down to its digit is no page: the digit's strokes run off its edges and fill most of
it, bold and blurred, where segmentation looks for digits standing on paper and for the paper's
edge (and where even the framed look, vision.tight_crop, finds a fragment). Such an image is two
colours, paper and ink, and one global threshold parts them; the ink, cropped and normalized
as MNIST's, is the digit. Whether an image is one is judged from the two classes alone, before
the model sees anything.
"""

import cv2
import numpy as np

from digitrec.vision.frame import edge_values
from digitrec.vision.look import work_image
from digitrec.vision.mnist_frame import mnist_digit
from digitrec.vision.pieces import DigitCrop

# The image is looked at this long (px), its longer side; sizes below are of that copy.
TIGHT_SIZE = 256
# Of the threshold's two classes the ink is the one on less of the image's border (a digit
# touches the edge of its crop at a few strokes, the paper runs all round it), its parts those
# of at least INK_PART of the largest's area.
INK_PART = 0.1
# One digit cropped tight: its ink spans TIGHT_SPAN of the image both ways, ...
TIGHT_SPAN = 0.8
# ... stands out from the paper by INK_CONTRAST of the grey scale at least (not a page's
# shading split in two), ...
INK_CONTRAST = 0.1
# ... on even paper (the spread of its grey levels at most PAPER_SPREAD of the ink's contrast:
# not a table, a sheet's edge and shadows), ...
PAPER_SPREAD = 0.4
# ... drawn in strokes (the widest is at most STROKE_HALF_WIDTH of the ink's longer side from
# its middle to its edge: not the sheet of a photo of a blank page, one solid patch), ...
STROKE_HALF_WIDTH = 0.2
# ... whose edges rise from paper to ink within INK_EDGE_PX (the contrast over the median
# slope along the mask's edge): a shadow's penumbra is wider. On synthetic photos (tune half)
# cropped to their digit's box the edges rose within 3.9 px (median; 99%: 6.5 px), where
# blank pages that passed the other tests showed shadows 7-33 px wide.
INK_EDGE_PX = 6.5
# The slope is taken on the copy smoothed this much (px), as pixel noise would steepen it.
SLOPE_SIGMA = 1.0
# ... and shaped as a digit: at most MAX_PARTS parts (a 5's bar apart, a broken stroke) and
# MAX_LOOPS loops (an 8's) of at least LOOP_SHARE of the square on the image's longer side,
# where a brick wall or gravel is a net of many loops or many pieces. Tune photos cropped to
# their digit's box showed at most 3 parts and 2 such loops (1,000).
MAX_PARTS = 3
MAX_LOOPS = 2
LOOP_SHARE = 0.005


def tight_digit(image: np.ndarray) -> DigitCrop | None:
    """The image (grey or RGB) as one digit cropped tight to its ink, normalized as MNIST's, with
    its box; None if it does not look like one (see TIGHT_SPAN and on)."""
    gray, scale = work_image(np.asarray(image), TIGHT_SIZE)
    ink, mask, parts = _ink(gray)
    if mask is None:
        return None
    # The ink's anti-aliased fringe just outside the threshold is part of the stroke.
    near = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if bottom - top < TIGHT_SPAN * gray.shape[0] or right - left < TIGHT_SPAN * gray.shape[1]:
        return None
    paper_level, ink_level = float(np.median(gray[~ink])), float(np.median(gray[ink]))
    contrast = abs(ink_level - paper_level)
    if contrast < INK_CONTRAST or float(gray[~ink].std()) > PAPER_SPREAD * contrast:
        return None
    if parts > MAX_PARTS or _loops(mask) > MAX_LOOPS:
        return None
    widest = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3).max()
    if widest > STROKE_HALF_WIDTH * max(bottom - top, right - left):
        return None
    if _edge_width(gray, mask, contrast) > INK_EDGE_PX:
        return None
    strength = np.clip((gray - paper_level) / (ink_level - paper_level), 0.0, 1.0)
    digit = mnist_digit(np.where(near, strength, 0.0)[top:bottom, left:right])
    y, x = round(top * scale[0]), round(left * scale[1])
    box = (x, y, round(right * scale[1]) - x, round(bottom * scale[0]) - y)
    return DigitCrop(box, digit, line=0)


def _ink(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, int]:
    """The ink class of one Otsu threshold, the mask of its parts (see INK_PART) and their
    count; None for the mask (and 0 parts) where the threshold leaves one class only."""
    levels = np.round(gray * 255).astype(np.uint8)
    _, light = cv2.threshold(
        cv2.GaussianBlur(levels, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU
    )
    ink = light == 0
    if edge_values(ink).mean() > 0.5:
        ink = ~ink
    if ink.all() or not ink.any():
        return ink, None, 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8))
    areas = stats[1:, cv2.CC_STAT_AREA]
    parts = np.concatenate([[False], areas >= INK_PART * areas.max()])
    return ink, parts[labels], int(parts.sum())


def _loops(mask: np.ndarray) -> int:
    """How many loops the ink makes (regions of paper it encloses, not reaching the image's
    border) of at least LOOP_SHARE of the square on the longer side."""
    stats = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)[2]
    h, w = mask.shape
    x, y = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    enclosed = (x > 0) & (y > 0)
    enclosed &= (x + stats[1:, cv2.CC_STAT_WIDTH] < w) & (y + stats[1:, cv2.CC_STAT_HEIGHT] < h)
    return int((enclosed & (stats[1:, cv2.CC_STAT_AREA] >= LOOP_SHARE * max(h, w) ** 2)).sum())


def _edge_width(gray: np.ndarray, mask: np.ndarray, contrast: float) -> float:
    """Over how many px the grey level climbs from paper to ink across the mask's edge: the
    contrast over the median slope there."""
    smooth = cv2.GaussianBlur(gray, (0, 0), SLOPE_SIGMA)
    # Sobel's 3x3 kernel sums 8 times the slope per px.
    dx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8
    dy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8
    inside = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    slope = float(np.median(np.hypot(dx, dy)[mask & ~inside]))
    return contrast / max(slope, 1e-6)
