"""Faint digits beside sure ones: a digit of a number written more lightly than its
neighbours (a pen running dry, a lighter hand, the light falling off across the page) fails the
page-wide tests of strength (components.stroke_tests) that keep the paper's texture out, yet it
stands on the same text line, the same size, right beside them. Such a component is kept.
"""

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # components.py calls this module: the type alone, without a cycle
    from digitrec.vision.components import Components

# A candidate shares at least ALIGN of its own height with the rows of a kept component at least
# the least digit height tall (segment's min_height; not the typical height, which a shadow's
# band may have inflated), is at most SIZE times as tall as that one, and the horizontal gap
# between them is at most GAP of the kept one's height. Rescued digits rescue their neighbours
# in turn, so a faint run along a line is found from one sure digit. On synthetic photos (tune
# half), GAP 1.2 and half the contrast floor (components.RESCUE_CONTRAST 0.3) read the same.
ALIGN = 0.6
SIZE = 1.5
GAP = 0.8


def beside_kept(
    parts: "Components", candidates: np.ndarray, keep: np.ndarray, min_height: float
) -> np.ndarray:
    """Per component: a `candidates` one standing on a text line beside a kept digit."""
    found = np.zeros_like(keep)
    anchors = keep & (parts.height >= min_height)
    pending = candidates & ~keep
    y0, x0, y1, x1 = parts.box.T.astype(float)
    while pending.any() and anchors.any():
        a, c = np.flatnonzero(anchors), np.flatnonzero(pending)
        shared = np.minimum(y1[c, None], y1[None, a]) - np.maximum(y0[c, None], y0[None, a])
        gap = np.maximum(x0[c, None], x0[None, a]) - np.minimum(x1[c, None], x1[None, a])
        tall = parts.height[a][None, :]
        near = (
            (shared >= ALIGN * parts.height[c, None])
            & (parts.height[c, None] <= SIZE * tall)
            & (gap <= GAP * tall)
        ).any(axis=1)
        if not near.any():
            break
        new = c[near]
        found[new] = True
        pending[new] = False
        anchors = np.zeros_like(anchors)
        anchors[new] = parts.height[new] >= min_height
    return found
