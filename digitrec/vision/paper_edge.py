"""Components that are the paper's edge, not writing: a thin straight line along the image's
frame, or one with ink fading away on one side only (the sheet's soft shadow). A pen's stroke
has paper on both sides.
"""

import numpy as np

from digitrec.vision.components import Components, straight_line, straight_piece

# A thin straight line within EDGE_LINE_ANGLE degrees of the image side it touches lies along it.
EDGE_LINE_ANGLE = 10.0
# side_ink samples SIDE_OUT px beyond a line's breadth, over SIDE_SPAN of its length.
SIDE_OUT = 2.0
SIDE_SPAN = 0.8
# A ramp: at least RAMP_INK there on one side (on synthetic photos a pen's straight strokes had
# at most 0.09 beside them, bar one at 0.2), at most RAMP_ONE_SIDED of that on the other.
RAMP_INK = 0.12
RAMP_ONE_SIDED = 0.25
# ... or at least RAMP_OF_LEVEL of the line's own median ink, if that is less: on a light table
# the sheet's edge is a faint line (0.4) with a fainter shadow (0.1 on one side, none on the
# other) that read as a lone "1" on a blank page. On synthetic photos (tune half) blank pages
# 2,386 -> 2,388 of 2,400, numbers and single digits as before.
RAMP_OF_LEVEL = 0.25


def along_the_edge(parts: Components, shape: tuple[int, ...]) -> np.ndarray:
    """Thin straight pieces lying along the image's edge, touching it: the border of the sheet or
    of the table at the frame's edge. A pen's "1" there would be cut lengthwise, unreadable."""
    upright = np.abs(parts.angle) >= 90 - EDGE_LINE_ANGLE
    flat = np.abs(parts.angle) <= EDGE_LINE_ANGLE
    y0, x0, y1, x1 = parts.box.T
    sides = (x0 == 0) | (x1 == shape[1])
    ends = (y0 == 0) | (y1 == shape[0])
    # Even a short piece of one: the frame may cut the line, the threshold break it.
    return straight_piece(parts) & ((upright & sides) | (flat & ends))


def side_ink(parts: Components, ink: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per component in `ids` (len(ids), 2): the median ink just outside each long side,
    SIDE_OUT px beyond where the component ends along each normal to its main axis, over the
    middle of its length. A pen's stroke has paper on both sides; the sheet's edge with a soft
    shadow beside it has a ramp on one. Measured from the component's own edge, not from its
    axis: a thick, slightly bent marker "1" reaches past its axis's breadth, and its soft flank
    was read as a ramp."""
    theta = np.radians(parts.angle)
    # The axis (x right, y down) and its normal.
    ux, uy = np.cos(theta), -np.sin(theta)
    nx, ny = -uy, ux
    along = np.linspace(-SIDE_SPAN / 2, SIDE_SPAN / 2, 17)[None, :] * parts.length[:, None]
    ay = parts.centre[:, :1] + along * uy[:, None]
    ax = parts.centre[:, 1:] + along * ux[:, None]
    sides = np.zeros((ids.size, 2))
    for row, k in enumerate(ids):
        # Signed steps across the axis, out past the component's breadth on either side.
        reach = int(np.ceil(parts.breadth[k])) + 1
        steps = np.arange(-reach, reach + 1)
        y = np.floor(0.5 + ay[k][:, None] + steps * ny[k]).astype(int)
        x = np.floor(0.5 + ax[k][:, None] + steps * nx[k]).astype(int)
        inside = (y >= 0) & (y < ink.shape[0]) & (x >= 0) & (x < ink.shape[1])
        on = inside & (labels[y.clip(0, ink.shape[0] - 1), x.clip(0, ink.shape[1] - 1)] == k + 1)
        half = parts.breadth[k] / 2
        # Where a ray misses the component (a gap), its axis's breadth stands in.
        first = np.where(on.any(axis=1), steps[on.argmax(axis=1)], -half)
        last = np.where(on.any(axis=1), steps[on.shape[1] - 1 - on[:, ::-1].argmax(axis=1)], half)
        for side, out in enumerate((first - SIDE_OUT, last + SIDE_OUT)):
            sy = np.clip(np.floor(0.5 + ay[k] + out * ny[k]).astype(int), 0, ink.shape[0] - 1)
            sx = np.clip(np.floor(0.5 + ax[k] + out * nx[k]).astype(int), 0, ink.shape[1] - 1)
            sides[row, side] = np.median(ink[sy, sx])
    return sides


def edge_with_ramp(parts: Components, ink: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Thin straight lines with ink fading away on one side only: the sheet's edge beside its
    soft shadow (see side_ink). Beside a pen's "1" the ink is gone within a few pixels."""
    found = np.zeros(parts.area.size, dtype=bool)
    line = np.flatnonzero(straight_line(parts))
    if line.size:
        sides = side_ink(parts, ink, labels, line)
        strong, weak = sides.max(axis=1), sides.min(axis=1)
        enough = np.minimum(RAMP_INK, RAMP_OF_LEVEL * parts.level[line])
        found[line] = (strong >= enough) & (weak <= RAMP_ONE_SIDED * strong)
    return found
