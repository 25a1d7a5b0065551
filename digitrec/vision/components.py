"""Measures of the mask's connected components that tell a pen stroke from the rest of a photo
(the tests themselves are in strokes.py and paper_edge.py).

A digit is drawn with a pen: crisp edges, strokes much thinner than the digit is tall, about as
strong as the other ink on the page. Shading, glare, a table's texture, the paper's edge and the
fragments of a ruled line lack one of these.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.vision import filters
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
