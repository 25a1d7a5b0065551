"""Faint digits beside sure ones: a digit of a number written more lightly than its
neighbours (a pen running dry, a lighter hand, the light falling off across the page) fails the
page-wide tests of strength (strokes.stroke_tests) that keep the paper's texture out, yet it
stands on the same text line, the same size, right beside them. Such a component is kept.
"""

import numpy as np

from digitrec.vision.components import Components

# A candidate shares at least ALIGN of its own height with the rows of a kept component at least
# the least digit height tall (segment's min_height; not the typical height, which a shadow's
# band may have inflated), is at most SIZE times as tall as that one, and the horizontal gap
# between them is at most GAP of the kept one's height. Rescued digits rescue their neighbours
# in turn, so a faint run along a line is found from one sure digit. On synthetic photos (tune
# half), GAP 1.2 and half the contrast floor (strokes.RESCUE_CONTRAST 0.3) read the same.
ALIGN = 0.6
SIZE = 1.5
GAP = 0.8


def beside_kept(
    parts: Components, candidates: np.ndarray, keep: np.ndarray, min_height: float
) -> np.ndarray:
    """Per component: a `candidates` one standing on a text line beside a kept digit."""
    found = np.zeros_like(keep)
    pending = np.flatnonzero(candidates & ~keep)
    anchors = parts.box[keep & (parts.height >= min_height)]
    found[pending[beside_chain(parts.box[pending], anchors, min_height)]] = True
    return found


def beside_chain(boxes: np.ndarray, anchors: np.ndarray, min_height: float = 0.0) -> np.ndarray:
    """Per box of `boxes` (n, 4: y0, x0, y1, x1): whether it stands on a text line beside one of
    the `anchors` boxes (m, 4), or beside a box found so that is at least `min_height` tall."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    anchors = np.asarray(anchors, float).reshape(-1, 4)
    found = np.zeros(len(boxes), dtype=bool)
    while not found.all() and len(anchors):
        pending = np.flatnonzero(~found)
        y0, x0, y1, x1 = boxes[pending].T[:, :, None]  # candidates down, anchors across
        ay0, ax0, ay1, ax1 = anchors.T[:, None, :]
        height, tall = y1 - y0, ay1 - ay0
        shared = np.minimum(y1, ay1) - np.maximum(y0, ay0)
        gap = np.maximum(x0, ax0) - np.minimum(x1, ax1)
        near = (shared >= ALIGN * height) & (height <= SIZE * tall) & (gap <= GAP * tall)
        new = pending[near.any(axis=1)]
        if not new.size:
            break
        found[new] = True
        anchors = boxes[new][boxes[new, 2] - boxes[new, 0] >= min_height]
    return found
