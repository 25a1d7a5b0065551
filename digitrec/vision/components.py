"""Measures of the mask's connected components that tell a pen stroke from the rest of a photo.

A digit is drawn with a pen: crisp edges, strokes much thinner than the digit is tall, about as
strong as the other ink on the page. Shading, glare, a table's texture, the paper's edge and the
fragments of a ruled line lack one of these.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.vision import filters
from digitrec.vision.beside import beside_kept
from digitrec.vision.preprocess import (
    MIN_EDGE_SHARPNESS,
    EdgeMaps,
    edge_sharpness,
    label_median,
)

# Crisp enough for ink (see preprocess.MIN_EDGE_SHARPNESS).
SHARP = MIN_EDGE_SHARPNESS
# A pen stroke is far thinner than the digit is tall; a filled blob (glare, a shadow's patch)
# is not.
STROKE_OF_HEIGHT = 0.35
# A thin straight line: LINE_ASPECT times longer than thick and at most LINE_BREADTH times
# broader (a curved stroke, however thin, spreads across its main axis). Within LINE_ANGLE
# degrees of the horizontal it is a piece of a ruled line, not a digit (a "1" stands upright).
LINE_ASPECT = 8.0
LINE_BREADTH = 2.0
LINE_ANGLE = 20.0
# ... if also thinner than this share of the page's typical pen stroke: the detached bar of a
# 5 or a 7 is about as thick as the digit's body (a tapering one measured 0.6 of it), a ruled
# line's fragment far thinner.
RULE_THIN = 0.5
# A thin straight line this many digit heights long, whole or in pieces, is no digit: the
# paper's edge or a margin line. Pieces of one line: a few (PIECE_ASPECT) times longer than
# thick, axes within COLLINEAR_ANGLE degrees, each centre within COLLINEAR_PX (plus the
# thickness) of the other's axis.
LONG_LINE = 1.5
PIECE_ASPECT = 3.0
COLLINEAR_ANGLE = 4.0
COLLINEAR_PX = 2.0
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
# A dropped component at least CORE_HEIGHT digit heights tall whose strongest ink is CORE_PEAK
# times its median, and at least CORE_INK (the page's strongest ink is 1), is cut again halfway
# between the two (see keep_strokes).
CORE_HEIGHT = 0.5
CORE_PEAK = 2.0
CORE_INK = 0.8
# Its pieces are kept at this sharpness at least (see preprocess.edge_sharpness): digits cut out
# of shadows on synthetic photos measured 0.18-0.27, the crisper bits of shadows 0.11 and less.
CORE_SHARP = 0.15
# A stroke's median ink is at least this share of the strongest digit-like component's on the
# page (ruled lines, shading and table texture are fainter than the pen), and this much contrast
# relative to the light level (see preprocess.ink_levels).
RELATIVE_LEVEL = 0.4
MIN_INK_CONTRAST = 0.13
# A fainter stroke beside kept digits (vision.beside) needs this share of MIN_INK_CONTRAST.
RESCUE_CONTRAST = 0.5
# Thin and faint is not ink: one pixel wide (a thickness, see Components, of 2) with median ink
# under FAINT (the strongest ink on the page is 1).
THIN = 2.3
FAINT = 0.45
# Under this share of the sharpness of the crispest mark of at least MARK_AREA pixels (less is
# pixel noise), a digit-sized component is shading (see stroke_tests). Bands of shadow measured
# 0.17-0.26 of the page's dust; a thin pencil digit beside bolder ones, 0.4.
RELATIVE_SHARPNESS = 0.3
MARK_AREA = 6
# A blob is thicker than STROKE_OF_HEIGHT of its height plus this: a small digit's strokes are
# thick for its size, as pen width and blur do not shrink with it.
BLUR_PX = 2.0


@dataclass(frozen=True)
class Components:
    """Per-component measures of a label image; index k describes label k + 1."""

    box: np.ndarray  # (n, 4) int: y0, x0, y1, x1
    area: np.ndarray  # pixels
    peak: np.ndarray  # strongest ink in the component
    level: np.ndarray  # its median ink
    sharpness: np.ndarray  # edge slope over peak, as in preprocess.edge_sharpness
    thickness: np.ndarray  # mean stroke width: area over half the edge pixels
    length: np.ndarray  # extent along its main axis, from the second moments
    breadth: np.ndarray  # extent across it: about the thickness for a straight stroke
    angle: np.ndarray  # of the main axis, degrees from horizontal in (-90, 90]
    centre: np.ndarray  # (n, 2) float: y, x of the pixels' mean

    @property
    def height(self) -> np.ndarray:
        return self.box[:, 2] - self.box[:, 0]

    @property
    def width(self) -> np.ndarray:
        return self.box[:, 3] - self.box[:, 1]


def measure(ink: np.ndarray, labels: np.ndarray, maps: EdgeMaps | None = None) -> Components:
    """The measures of each labelled component; `maps`: preprocess.edge_maps(ink), if known."""
    count = int(labels.max(initial=0))
    if count == 0:
        empty = np.zeros(0)
        return Components(np.zeros((0, 4), int), *[empty] * 8, np.zeros((0, 2)))
    index = np.arange(1, count + 1)
    slices = ndimage.find_objects(labels)
    # A label may have no pixels left (rules.clean_mask measures pieces by their component).
    corners = [(b[0].start, b[1].start, b[0].stop, b[1].stop) if b else (0,) * 4 for b in slices]
    box = np.array(corners, dtype=int).reshape(-1, 4)
    area = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(float)
    mask = labels > 0
    edge = mask & ~filters.erode(mask)
    edges = np.bincount(labels[edge], minlength=count + 1)[1:].astype(float)
    # A stroke of width t and length L has about t L pixels, 2 L of them on its edge.
    thickness = np.where(edges > 0, 2 * area / np.maximum(edges, 1), 1.0)
    thickness = np.maximum(thickness, 1.0)
    peak = np.asarray(ndimage.maximum(ink[mask], labels[mask], index), float).reshape(-1)
    level = label_median(ink[mask], labels[mask], count)
    length, breadth, angle, centre = _main_axis(labels, index, area)
    sharpness = edge_sharpness(ink, labels, count, maps)
    return Components(box, area, peak, level, sharpness, thickness, length, breadth, angle, centre)


def _main_axis(
    labels: np.ndarray, index: np.ndarray, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Extent along the main axis and across it, its angle and the centre, from the pixels'
    mean and covariance."""
    major, minor, angle, centre = axis_variances(labels, index.size, area)
    # A uniform bar of length L has variance L^2 / 12 along it; one pixel adds 1/12.
    length = np.sqrt(12 * np.maximum(major, 0) + 1)
    breadth = np.sqrt(12 * np.maximum(minor, 0) + 1)
    return length, breadth, angle, centre


def axis_variances(
    labels: np.ndarray, count: int, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per component of the `count` labelled ones, whose pixel counts are `area`: the variance
    of its pixels' positions along their main axis and across it, the axis's angle (degrees
    counterclockwise from the x axis) and the centre (y, x)."""
    ys, xs = np.nonzero(labels)
    which = labels[ys, xs]
    n = np.maximum(area, 1)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(which, weights=values, minlength=count + 1)[1:] / n

    my, mx = mean(ys.astype(float)), mean(xs.astype(float))
    vyy = mean(ys.astype(float) ** 2) - my**2
    vxx = mean(xs.astype(float) ** 2) - mx**2
    vxy = mean(ys.astype(float) * xs) - my * mx
    spread = np.sqrt(((vxx - vyy) / 2) ** 2 + vxy**2)
    major, minor = (vxx + vyy) / 2 + spread, (vxx + vyy) / 2 - spread
    angle = np.degrees(0.5 * np.arctan2(2 * vxy, vxx - vyy))
    return major, minor, -angle, np.stack([my, mx], axis=1)


def digit_like(parts: Components, min_height: float) -> np.ndarray:
    """Components that may well be a digit (or most of one), to measure the digit height by:
    tall enough, crisp, stroke-like, and not a thin straight line lying nearly flat."""
    height = parts.height
    flat_line = straight_line(parts) & (np.abs(parts.angle) <= LINE_ANGLE)
    return (
        (height >= min_height)
        & (parts.sharpness >= SHARP)
        & (parts.thickness <= STROKE_OF_HEIGHT * height)
        & ~flat_line
    )


def straight_line(parts: Components) -> np.ndarray:
    """Thin straight lines (see LINE_ASPECT)."""
    return (parts.length >= LINE_ASPECT * parts.thickness) & (
        parts.breadth <= LINE_BREADTH * parts.thickness
    )


def straight_piece(parts: Components) -> np.ndarray:
    """Pieces of a thin straight line: a few (PIECE_ASPECT) times longer than thick."""
    return (parts.length >= PIECE_ASPECT * parts.thickness) & (
        parts.breadth <= LINE_BREADTH * parts.thickness
    )


def typical_height(labels: np.ndarray, keep: np.ndarray | None = None) -> float:
    """Ink-weighted median height of the labelled components (inf if none): specks weigh little,
    digits much. Only those in `keep` (per component) count, if any of them is kept."""
    slices = ndimage.find_objects(labels)
    if not slices:
        return np.inf
    heights = np.array([box[0].stop - box[0].start if box else 0 for box in slices])
    weights = np.bincount(labels.ravel(), minlength=len(slices) + 1)[1:].astype(float)
    if keep is not None and keep.any():
        weights = np.where(keep, weights, 0.0)
    order = np.argsort(heights)
    cumulative = np.cumsum(weights[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def collinear(parts: Components, line: np.ndarray, span: float) -> np.ndarray:
    """The `line` components lying on one straight line with another, together longer than
    `span`: the pieces of a long line broken up by the threshold (the paper's edge, a rule)."""
    found = np.zeros(line.size, dtype=bool)
    ids = np.flatnonzero(line)
    if ids.size < 2:
        return found
    theta = np.radians(parts.angle[ids])
    # The axis direction (x right, y down) and its normal.
    ux, uy = np.cos(theta), -np.sin(theta)
    cy, cx = parts.centre[ids, 0], parts.centre[ids, 1]
    dy, dx = cy[None, :] - cy[:, None], cx[None, :] - cx[:, None]
    along = dx * ux[:, None] + dy * uy[:, None]
    across = np.abs(dx * uy[:, None] - dy * ux[:, None])
    turn = np.abs((parts.angle[ids][:, None] - parts.angle[ids][None, :] + 90) % 180 - 90)
    half = parts.length[ids] / 2
    near = across <= COLLINEAR_PX + parts.thickness[ids][:, None]
    pairs = near & near.T & (turn <= COLLINEAR_ANGLE)
    pairs &= np.abs(along) + half[:, None] + half[None, :] >= span
    np.fill_diagonal(pairs, False)
    found[ids] = pairs.any(axis=1)
    return found


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


def keep_strokes(
    labels: np.ndarray,
    ink: np.ndarray,
    maps: EdgeMaps,
    contrast: float,
    height: float,
    min_height: float,
    min_contrast: float = MIN_INK_CONTRAST,
    any_ink: bool = False,
) -> np.ndarray:
    """The labels, relabelled without the components that are not pen strokes. `contrast` is
    what ink 1.0 means (preprocess.ink_levels), `height` the typical digit height, and a
    stroke's ink must reach `min_contrast` relative to the light level. With `any_ink`, only
    that and the ruled lines count (see stroke_tests)."""
    keep, parts = _strokes(labels, ink, maps, contrast, height, min_height, min_contrast, any_ink)
    # A digit touching a shadow or smudge is one component with it, dropped whole as too soft
    # or too faint: such a component's strong core, cut at a higher level, is looked at again.
    tall = parts.height >= (CORE_HEIGHT * height if np.isfinite(height) else min_height)
    strong = (parts.peak >= CORE_PEAK * parts.level) & (parts.peak >= CORE_INK)
    cores = ~keep & tall & strong
    table = np.concatenate([[False], keep])
    if not cores.any():
        return filters.label(table[labels])[0]
    cut = np.concatenate([[np.inf], (parts.level + parts.peak) / 2])
    core_table = np.concatenate([[False], cores])
    mask = table[labels] | (core_table[labels] & (ink >= cut[labels]))
    relabelled = filters.label(mask)[0]
    keep, parts = _strokes(
        relabelled, ink, maps, contrast, height, min_height, min_contrast, any_ink
    )
    # A piece cut out of a shadow must look like a pen's stroke on its own: wider than a
    # pixel (a crisp line along a shadow's edge is not) and clearly crisp.
    from_core = np.bincount(relabelled[core_table[labels]], minlength=len(keep) + 1)[1:] > 0
    pen = (parts.thickness > THIN) & (parts.sharpness >= CORE_SHARP)
    keep &= ~from_core | pen
    return filters.label(np.concatenate([[False], keep])[relabelled])[0]


def _strokes(
    labels: np.ndarray,
    ink: np.ndarray,
    maps: EdgeMaps,
    contrast: float,
    height: float,
    min_height: float,
    min_contrast: float,
    any_ink: bool,
) -> tuple[np.ndarray, Components]:
    parts = measure(ink, labels, maps)
    shaped, strong = stroke_tests(parts, contrast, height, min_height, min_contrast, any_ink)
    shaped &= ~along_the_edge(parts, labels.shape) & ~edge_with_ramp(parts, ink, labels)
    keep = shaped & strong
    faint_ok = parts.level * contrast >= RESCUE_CONTRAST * min_contrast
    return keep | beside_kept(parts, shaped & faint_ok, keep, min_height), parts


def stroke_tests(
    parts: Components,
    contrast: float,
    height: float,
    min_height: float,
    min_contrast: float = MIN_INK_CONTRAST,
    any_ink: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per component: (shaped like a pen's stroke: crisp, not a blob nor a ruled line's
    fragment; strong: about as strong as the page's digits). With `any_ink`: (not a ruled
    line's fragment; reaching `min_contrast`), for a last look where nothing else was found
    (see the predictor)."""
    tall = parts.height >= 0.5 * height
    sure = digit_like(parts, min_height) & tall
    best = float(np.max(parts.level[sure], initial=0.0))
    blob = tall & (parts.thickness > STROKE_OF_HEIGHT * parts.height + BLUR_PX)
    line = straight_line(parts)
    stroke = float(np.median(parts.thickness[sure])) if sure.any() else np.inf
    flat_line = line & (np.abs(parts.angle) <= LINE_ANGLE) & (parts.thickness < RULE_THIN * stroke)
    # Even a "1" is hardly longer than the digits are tall.
    long_line = line & (parts.length >= LONG_LINE * height)
    # The threshold breaks a faint line into pieces that need not be long each.
    long_line |= collinear(parts, straight_piece(parts), LONG_LINE * height)
    if any_ink:
        return ~flat_line & ~long_line, parts.level * contrast >= min_contrast
    # One pixel wide and faint: noise along a shadow's or the paper's edge, a fibre, a broken
    # ruled line; a pen's stroke this thin is also as strong as the rest of the writing.
    thin_faint = (parts.thickness <= THIN) & (parts.level < FAINT)
    # A digit-sized component far softer than the crispest marks on the page (the digits, or a
    # blank page's dust) is a shadow's band or a smudge: one photo's ink is about equally crisp.
    # Not than a thin straight line's piece (of a ruled or squared page), which measures far
    # crisper than a pen's stroke for being thin: beside one, a grainy pencil digit was a smudge.
    marks = parts.sharpness[(parts.area >= MARK_AREA) & ~line]
    crispest = float(marks.max()) if marks.size else 0.0
    soft = tall & (parts.sharpness < RELATIVE_SHARPNESS * crispest)
    shaped = (parts.sharpness >= SHARP) & ~soft & ~blob & ~flat_line & ~long_line
    strong = (
        ~thin_faint
        & (parts.level >= RELATIVE_LEVEL * best)
        & (parts.level * contrast >= min_contrast)
    )
    return shaped, strong
