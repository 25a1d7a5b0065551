"""Find the sheet of paper (or the board) in a photo, so that ink is looked for inside it only.

A sheet lying on a table is a large region of nearly even brightness, bounded by a crisp
straight-ish edge, that the table surrounds: the table touches most of the photo's border, the
sheet less. Left in, the table dominates the ink statistics (a dark table looks like a sea of
ink next to white paper) and its edge against the sheet passes for long strokes.

A shadow also makes a large region of another brightness, but its edge is soft: the sheet is
only accepted when the step across its edge is both large and sharp. A shadow falling across
the sheet cuts the lit paper's region short along a soft edge: the sheet goes on past it, up
to its own sharp edge in the shadow, even where the shadow notches the lit part so deep that
it alone would not pass for a sheet. When no sheet stands out
(the paper fills the frame, or it lies on a table as bright as itself), None is returned and
the whole image is used, as before.
"""

import cv2
import numpy as np
from scipy import ndimage

from digitrec.vision import filters
from digitrec.vision.preprocess import _otsu, _shrink

# The search runs on a copy this size: the sheet is big, its edge needs no finer detail.
SHEET_SIZE = 160
# Strokes narrower than this share of the copy's longer side are smoothed away first, so the
# writing does not cut the sheet into pieces.
_INK_SMOOTHING = 1 / 40
# The sheet covers this share of the photo at least (smaller: too little to be a sheet that the
# writing is on), and at most (larger: the table is a thin fringe the border rules handle).
MIN_SHARE = 0.12
MAX_SHARE = 0.93
# It touches at most this share of the photo's border; the table around it the rest.
MAX_BORDER = 0.5
# The surroundings show along at least this many of the photo's four sides.
MIN_SIDES = 2
# It runs off at most this many of the photo's sides (see _sheet_shaped): in a page
# photographed close with a strip of a dark desk along one side, the strip was taken for a
# dark sheet and the digits were looked for there (none found).
MAX_SIDES_OFF = 2
# The step in brightness across its edge, relative to the brighter side, is at least this...
MIN_STEP = 0.08
# ...and sharp: the slope across the edge times SLOPE_SIGMA * sqrt(2 pi), over the step, is 1
# for an ideal step seen at this scale and about 1/4 for a shadow's edge blurred over four times
# as much. Paper edges in photos are blurred by a pixel or two of a 160-px copy at most.
SLOPE_SIGMA = 1.0
MIN_SHARPNESS = 0.45
# Where more than MAX_SOFT_SHARE of the edge is softer than SOFT_EDGE, that part of the edge
# is a shadow's falling across the paper, and the paper goes on beyond it, darker, with writing
# on it too: the sheet is grown past it up to the next edge sharper than SOFT_EDGE, if it stays
# sheet-shaped (_past_shadow), and ink is ignored SHADOWED_EDGE_MARGIN more pixels (of the
# 160-px copy) from the grown part's edge. On synthetic photos (tune half) that lost the digits
# in a shadow, with FILL_WINDOWS: numbers of 2-8 digits read exactly 1,554 -> 1,564 of 1,800,
# single digits 963 -> 968 of 1,000, blank pages 789 -> 790 of 800. Without the margin, one
# blank page read the shadowed edge as a "1".
SOFT_EDGE = 0.25
MAX_SOFT_SHARE = 0.05
SHADOWED_EDGE_MARGIN = 2
# A lit part so notched by the shadow that it is no sheet's shape is taken if it is one grown
# past the shadow, where slits up to twice CLOSE_SLITS px wide (of the 160-px copy) are closed.
# On synthetic photos (tune half) a number on paper half in shadow, found by neither part
# before, read right: numbers 1,597 instead of 1,596 of 1,800; without closing the slits a
# single digit read wrong (970 instead of 971 of 1,000); blank pages 790 of 800 as before.
CLOSE_SLITS = 2
# Even: at most this share of the sheet (clear of its edge) is as bright as the surroundings.
# Writing on it is a small share even where bold; the region a bold "0" encloses, filled, would
# pass every other test (a dark disc with a sharp edge on light paper) but its hole is paper.
MAX_FOREIGN = 0.25
# Convex: a sheet seen in perspective is a quadrilateral, so its region fills most of its
# convex hull.
MIN_SOLIDITY = 0.85
# Notches in the sheet's region at least twice this wide (px of the 160-px copy) are taken in
# (_with_notches). On synthetic photos (tune half) a blue 8 on squared paper in a darker
# corner, left out with it, read right (single digits 974 -> 975 of 1,000); numbers of 2-8
# digits (1,619 of 1,800) and blank pages (2,388 of 2,400) read the same. Notches of any width
# (3 px, the slivers along the edge too): 7 more blank pages read the sheet's edge as a "1".
NOTCH_WIDTH = 4
# Ink is ignored within this share of the work image's longer side from the sheet's edge: the
# edge itself, and the shadow line the sheet casts, are not writing.
EDGE_MARGIN = 0.012
# Outside the sheet, the table is filled with the mean of the sheet within these shares of the
# image's longer side (the nearest that reaches some of it).
FILL_WINDOWS = (0.5, 0.125)


def find_sheet(gray: np.ndarray) -> np.ndarray | None:
    """Boolean mask (the shape of `gray`, float in [0, 1]) of the sheet, or None if no sheet
    stands out from its surroundings."""
    small = _shrink(np.asarray(gray, dtype=np.float32), SHEET_SIZE)
    if min(small.shape) < 16:
        return None
    size = max(3, round(max(small.shape) * _INK_SMOOTHING) | 1)
    smooth = filters.median(small, size)
    cut = _otsu(smooth)
    best: tuple[float, np.ndarray] | None = None
    for region in (smooth > cut, smooth <= cut):
        candidate = _candidate(small, smooth, region)
        if candidate is not None and (best is None or candidate[0] > best[0]):
            best = candidate
    if best is None:
        return None
    return kept_off_the_edge(resize_mask(best[1], gray.shape))


def kept_off_the_edge(sheet: np.ndarray) -> np.ndarray:
    """The sheet's mask less a margin of EDGE_MARGIN of its longer side along its edge."""
    margin = max(1, round(EDGE_MARGIN * max(sheet.shape)))
    return filters.erode(sheet, margin, outside=True)


def fill_outside(gray: np.ndarray, sheet: np.ndarray) -> np.ndarray:
    """The image with everything outside the sheet replaced by the level of the sheet nearby, so
    that the table neither counts as ink nor as background next to the writing. Nearby, not the
    sheet's typical level: where a shadow darkens the sheet at its edge, a bright fill beside it
    would make the shadowed paper look like ink."""
    gray = np.asarray(gray, dtype=np.float32)
    level = np.full(gray.shape, float(np.median(gray[sheet])) if sheet.any() else 0.5, np.float32)
    weight = sheet.astype(np.float32)
    paper = gray * weight
    # Widest window first, each narrower one overwriting where it reaches the sheet.
    for share in FILL_WINDOWS:
        size = max(3, round(share * max(gray.shape)) | 1)
        near = cv2.boxFilter(weight, -1, (size, size), borderType=cv2.BORDER_CONSTANT)
        total = cv2.boxFilter(paper, -1, (size, size), borderType=cv2.BORDER_CONSTANT)
        reached = near > 0.02
        level[reached] = total[reached] / near[reached]
    return np.where(sheet, gray, level)  # float32, as both are


def _candidate(
    small: np.ndarray, smooth: np.ndarray, region: np.ndarray
) -> tuple[float, np.ndarray] | None:
    """(sharpness, filled mask) of the largest component of `region` if it passes for a sheet."""
    labels, count = filters.label(region, eight=False)
    if count == 0:
        return None
    areas = np.bincount(labels.ravel())[1:]
    sheet = ndimage.binary_fill_holes(labels == int(np.argmax(areas)) + 1)
    # A shadow across the paper can notch the lit part's region too deep for a sheet's shape:
    # grown past the shadow (below), it may still be one.
    shaped = _sheet_shaped(sheet)
    if not shaped and not MIN_SHARE <= float(sheet.mean()) <= MAX_SHARE:
        return None
    # The step is measured between the two sides as wholes, clear of the edge: measured close to
    # it, a blurred edge's step would shrink with its slope and any edge would look sharp.
    inner = filters.erode(sheet, 4)
    outer = ~filters.dilate(sheet, 4)
    if not inner.any() or not outer.any():
        return None
    inside, outside = float(np.median(small[inner])), float(np.median(small[outer]))
    step = abs(inside - outside)
    if step < MIN_STEP * max(inside, outside, 1e-3):
        return None
    # On the median-filtered copy, where a pen's strokes are mostly smoothed away.
    values = smooth[inner]
    if np.mean(np.abs(values - outside) < np.abs(values - inside)) > MAX_FOREIGN:
        return None
    edge = sheet & ~filters.erode(sheet)
    edge &= ~_frame(sheet.shape)  # where the sheet leaves the photo there is no edge
    if not edge.any():
        return None
    # The slope peaks on the edge; the mask's boundary may lie a pixel off it.
    # Measured on the median-filtered copy, which keeps a step edge but not the thin ruled lines
    # and strokes that cross a shadow's edge and would make it look sharp.
    slope = filters.max_filter(filters.gradient_magnitude(smooth, SLOPE_SIGMA), (3, 3))
    sharpness_map = slope * (SLOPE_SIGMA * np.sqrt(2 * np.pi) / step)
    sharpness = float(np.median(sharpness_map[edge]))
    if sharpness < MIN_SHARPNESS:
        return None
    soft = edge & (sharpness_map < SOFT_EDGE)
    if soft.sum() > MAX_SOFT_SHARE * edge.sum():
        grown = _past_shadow(sheet, soft, sharpness_map >= SOFT_EDGE)
        if grown is not None:
            sheet, shaped = grown, True
    # A sheet is convex: a wide notch in its region, inside the region's convex hull, is paper
    # darker than the rest (in shade, or under much writing), and the writing may be there.
    return (sharpness, _with_notches(sheet)) if shaped else None


def _with_notches(sheet: np.ndarray) -> np.ndarray:
    """The sheet's mask with the parts of its convex hull it leaves out, where they are at least
    twice NOTCH_WIDTH px wide: the slivers along a sheet's edge that its shadow or the blur kept
    out of the region are left out (taken in, they read as a "1" on blank pages)."""
    points = cv2.findNonZero(sheet.astype(np.uint8))
    hull = np.zeros(sheet.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    notches = hull.view(bool) & ~sheet
    wide = filters.dilate(filters.erode(notches, NOTCH_WIDTH), NOTCH_WIDTH) & notches
    return sheet | wide


def _sheet_shaped(sheet: np.ndarray) -> bool:
    """Whether a region has a sheet's size and shape, with the table around it."""
    if not MIN_SHARE <= float(sheet.mean()) <= MAX_SHARE:
        return False
    rim = np.concatenate([sheet[0], sheet[-1], sheet[1:-1, 0], sheet[1:-1, -1]])
    if rim.mean() > MAX_BORDER or _solidity(sheet) < MIN_SOLIDITY:
        return False
    edges = (sheet[0], sheet[-1], sheet[:, 0], sheet[:, -1])
    # The table shows on several sides; a shadow or a dark object enters from one.
    sides = sum(not edge.all() for edge in edges)
    if sides < MIN_SIDES:
        return False
    # Running off three sides or more, with the table along one side only, it and the rest are
    # two bands across the photo: a page photographed close with a strip of the table beside
    # it, the other way round, or a page with a hard shadow across it. Which band holds the
    # writing, their shapes cannot tell.
    touched = sum(edge.any() for edge in edges)
    return touched <= MAX_SIDES_OFF


def _past_shadow(sheet: np.ndarray, soft: np.ndarray, barrier: np.ndarray) -> np.ndarray | None:
    """The sheet grown past the soft parts of its edge into what lies beyond them up to a
    sharp edge (the shadowed rest of the paper), if it is sheet-shaped so; else None (beyond
    the soft edge lay the table too, or the shadow is the table's)."""
    beyond, _ = filters.label(~sheet & ~barrier, eight=False)
    touched = np.unique(beyond[filters.dilate(soft, 1) & (beyond > 0)])
    if not touched.size:
        return None
    grown = sheet | np.isin(beyond, touched)
    # A sharp line from the shadow to the sheet's edge (a ruled line) leaves a slit in what
    # grew, which the margin below would widen and cut a digit standing on it out of: closed.
    closed = filters.erode(filters.dilate(grown, CLOSE_SLITS), CLOSE_SLITS, outside=True)
    grown = ndimage.binary_fill_holes(closed)
    if not _sheet_shaped(grown):
        return None
    # The shadowed paper's own edge is dimmer and softer than the lit one's: kept further off.
    return sheet | filters.erode(grown, SHADOWED_EDGE_MARGIN, outside=True)


def _solidity(mask: np.ndarray) -> float:
    """Area over the area of the convex hull, the hull from the row extents (exact for a shape
    whose rows are intervals, an overestimate of solidity otherwise)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size < 3:
        return 0.0
    left = mask[rows].argmax(axis=1)
    right = mask.shape[1] - mask[rows, ::-1].argmax(axis=1)
    # Both ends of each row's run: their convex hull is the shape's.
    ys = np.concatenate([rows, rows + 1, rows, rows + 1])
    xs = np.concatenate([left, left, right, right])
    points = np.stack([ys, xs], axis=1).astype(float)
    hull = _hull_area(points)
    return float(mask.sum()) / hull if hull > 0 else 0.0


def _hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of (y, x) points: Andrew's monotone chain, then the shoelace."""
    pts = sorted(set(map(tuple, points)))
    if len(pts) < 3:
        return 0.0

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    upper: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = np.array(lower[:-1] + upper[:-1])
    y, x = hull[:, 0], hull[:, 1]
    return 0.5 * abs(float(np.dot(y, np.roll(x, 1)) - np.dot(x, np.roll(y, 1))))


def _frame(shape: tuple[int, ...]) -> np.ndarray:
    frame = np.zeros(shape, dtype=bool)
    frame[:2] = frame[-2:] = True
    frame[:, :2] = frame[:, -2:] = True
    return frame


def resize_mask(
    mask: np.ndarray, shape: tuple[int, ...], part: tuple[int, int, int, int] | None = None
) -> np.ndarray:
    """Nearest-neighbour resizing of a mask to `shape`; of the resized mask only the `part`
    (y0, y1, x0, x1, cut to `shape`), if given, without making the rest."""
    y0, y1, x0, x1 = part or (0, shape[0], 0, shape[1])
    rows = np.arange(y0, min(y1, shape[0])) * mask.shape[0] // shape[0]
    cols = np.arange(x0, min(x1, shape[1])) * mask.shape[1] // shape[1]
    return mask[rows[:, None], cols[None, :]]
