"""A pen or pencil lying on the page: a straight stroke far taller than the writing beside it.

Left in, it sets the digit height that everything else is measured by (it holds most of the
ink), and the digits beside it, a third of its height, are dropped as dashes or specks; it is
then read as a 1. Told apart by shape and size together: straight (STRAIGHT_ASPECT) and
OUTSIZE to OUTSIZE_MAX times as tall as the tallest component that is neither straight nor flat
(under FLAT_ASPECT times as tall as wide). A "1" on its own, or in a number of 1s, has no such
neighbour; a 1 among other digits is about as tall as they are; beside a 7's bar written apart
(flat) or a speck (far smaller), it stays; so does the stem of a 6 written apart from its
loop, which is wider than tall but no flatter than a digit.
"""

import numpy as np

from digitrec.vision.components import axis_variances

# Straight: the component's pixels spread this many times farther along their main axis than
# across it (the square root of the ratio of their second moments' eigenvalues).
STRAIGHT_ASPECT = 8.0
OUTSIZE = 2.5
OUTSIZE_MAX = 5.0
FLAT_ASPECT = 0.5


def outsized_strokes(labels: np.ndarray, boxes: np.ndarray, min_height: float) -> np.ndarray:
    """Per component of `labels` (index k for label k + 1, its box `boxes[k]`: y0, x0, y1, x1):
    a straight stroke OUTSIZE to OUTSIZE_MAX times as tall as the tallest component at least
    `min_height` tall that is neither straight nor flat; none if there is no such component."""
    count = len(boxes)
    found = np.zeros(count, dtype=bool)
    if count < 2:
        return found
    boxes = np.asarray(boxes)
    heights, widths = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    straight = _elongation(labels, count) >= STRAIGHT_ASPECT
    writing = ~straight & (heights >= min_height) & (heights >= FLAT_ASPECT * widths)
    if not writing.any():
        return found
    tallest = heights[writing].max()
    return straight & (heights >= OUTSIZE * tallest) & (heights <= OUTSIZE_MAX * tallest)


def _elongation(labels: np.ndarray, count: int) -> np.ndarray:
    """Per component: the spread of its pixels along their main axis over that across it."""
    area = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(float)
    along, across, _, _ = axis_variances(labels, count, area)
    # A one-pixel-wide line has no spread across it: a quarter pixel's variance stands in.
    return np.sqrt(along / np.maximum(across, 0.25))
