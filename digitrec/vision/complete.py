"""Give each digit back the faint parts of its strokes that the threshold cut off.

One threshold serves the whole page, but a pen's pressure varies along a digit: the light
loop of a 6 or the thin tail of a 2 may fall under it, leaving the digit in pieces too small to
keep. The digit is then read from its bold part alone, and a 6 without its loop is a 1.

So, once the digits are found, each grows back into the fainter ink connected to it: the pixels
above a lower level, reached through such pixels from the digit's own within a short distance,
and nearer (along the ink) to it than to any other digit. A neighbour's strokes, a ruled line
and the paper far away are not reached; a faint smudge touching the digit may be.

    (grouping.find_blobs) -> completed -> reading order, crops
"""

from dataclasses import replace

import cv2
import numpy as np
from scipy import ndimage

from digitrec.vision import beside, filters
from digitrec.vision.components import measure
from digitrec.vision.grouping import Blob, own_pixels, upper_quartile
from digitrec.vision.preprocess import EdgeMaps, edge_sharpness
from digitrec.vision.strokes import stroke_tests

# Ink fainter than the threshold but above this share of it is a faint part of a stroke when
# connected to a digit; well above the noise the threshold's floor (preprocess.THRESHOLD_RANGE)
# keeps out.
FAINT_SHARE = 0.4
# A digit grows at most this share of the typical digit height away from its own pixels (along
# the ink): a stroke's missing part, not a neighbour's.
REACH = 1.0
# What it grows must lie within this share of the typical digit height around its box.
MARGIN = 0.6
# ...and leave it a digit's shape: at most this many digit heights wide and tall.
MAX_WIDTH = 1.0
MAX_HEIGHT = 1.3
# A digit written lightly throughout is found in that fainter ink if it is at least this share
# of the line's digit height tall and stands beside a digit found (faint_neighbours).
FAINT_MIN_HEIGHT = 0.6
# Its strokes are at least this share as crisp (components.Components.sharpness) as the digits'.
FAINT_SHARPNESS = 0.4

_SQUARE = np.ones((3, 3), dtype=np.uint8)


def completed(
    blobs: list[Blob],
    labels: np.ndarray,
    ink: np.ndarray,
    threshold: float,
    rules: np.ndarray,
) -> tuple[list[Blob], np.ndarray]:
    """The blobs with the faint ink connected to them, and a copy of `labels` in which that ink
    carries a new label per blob (added to its ids). A blob cut tentatively in two grows by its
    halves, each half on its own side."""
    leaves = [leaf for blob in blobs for leaf in (blob.halves or (blob,))]
    if not leaves:
        return blobs, labels
    seeds = np.zeros(labels.shape, np.float32)  # float: OpenCV dilates float32, exact to 2**24
    for number, leaf in enumerate(leaves, start=1):
        y0, x0, y1, x1 = leaf.box
        seeds[y0:y1, x0:x1][own_pixels(labels, leaf)] = number
    height = _digit_height(blobs)
    faint = (ink > FAINT_SHARE * threshold) & ~rules & (seeds == 0)
    added = np.where(seeds == 0, _nearest_along(seeds, faint, round(REACH * height)), 0)
    if not added.any():
        return blobs, labels
    labels = labels.copy()
    next_id = int(labels.max()) + 1
    grown_leaves = {}
    for number, leaf in enumerate(leaves, start=1):
        grown_leaves[id(leaf)] = leaf
        window, keep, box = _missing_parts(leaf, added, number, height)
        if keep.any():
            labels[window][keep] = next_id
            grown_leaves[id(leaf)] = replace(leaf, ids=(*leaf.ids, next_id), box=box)
            next_id += 1
    result = []
    for blob in blobs:
        if blob.halves is None:
            result.append(grown_leaves[id(blob)])
            continue
        halves = tuple(grown_leaves[id(h)] for h in blob.halves)
        ids = tuple(dict.fromkeys(i for h in halves for i in h.ids))
        result.append(replace(blob, ids=ids, box=_union_box(h.box for h in halves), halves=halves))
    return result, labels


def _nearest_along(seeds: np.ndarray, passable: np.ndarray, steps: int) -> np.ndarray:
    """`seeds` (numbered regions) grown through `passable` pixels, one pixel per step for at most
    `steps` steps: each pixel reached takes the number of the seed nearest along the way."""
    grown = seeds.copy()
    for _ in range(max(1, steps)):
        spread = cv2.dilate(grown, _SQUARE)
        # Where two seeds reach a pixel at once, the higher number takes it (rare, and either
        # is as near).
        step = passable & (grown == 0) & (spread > 0)
        if not step.any():
            break
        grown[step] = spread[step]
    return grown.astype(np.int32)


def _missing_parts(
    leaf: Blob, added: np.ndarray, number: int, height: float
) -> tuple[tuple[slice, slice], np.ndarray, tuple[int, int, int, int]]:
    """Of the faint ink `added` gave to `leaf` (as `number`): the window looked at, the mask of
    the parts kept in it, and the leaf's box with them."""
    reach, margin = round(REACH * height) + 1, round(MARGIN * height)
    y0, x0, y1, x1 = leaf.box
    top, left = max(0, y0 - reach), max(0, x0 - reach)
    window = (slice(top, y1 + reach), slice(left, x1 + reach))
    parts, _ = filters.label(added[window] == number)
    keep = np.zeros(parts.shape, dtype=bool)
    box = leaf.box
    tall = max(height, leaf.height)
    for part, found in enumerate(ndimage.find_objects(parts), start=1):
        if found is None:
            continue
        rows, cols = found
        extent = (rows.start + top, cols.start + left, rows.stop + top, cols.stop + left)
        union = _union_box([box, extent])
        # A stroke's missing part lies around the digit; a ruled line or the paper's edge,
        # faint where the threshold dropped it, runs on to the end of the reach.
        around = (
            extent[0] >= y0 - margin
            and extent[1] >= x0 - margin
            and extent[2] <= y1 + margin
            and extent[3] <= x1 + margin
        )
        digit_shaped = (
            union[3] - union[1] <= MAX_WIDTH * tall and union[2] - union[0] <= MAX_HEIGHT * tall
        )
        if around and digit_shaped:
            keep |= parts == part
            box = union
    return window, keep, box


def _union_box(boxes) -> tuple[int, int, int, int]:
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def faint_neighbours(
    blobs: list[Blob],
    labels: np.ndarray,
    ink: np.ndarray,
    threshold: float,
    rules: np.ndarray,
    maps: EdgeMaps,
) -> tuple[list[Blob], np.ndarray]:
    """The blobs and, added after them, the digits written so lightly that the threshold left
    only fragments of them, found in the fainter ink: each a pen stroke as tall as the line's
    digits, on their line and beside one of them (vision.beside's rule, with the digits found
    so far as anchors). A copy of `labels` holds them under new labels."""
    if not blobs:
        return blobs, labels
    ids = [i for blob in blobs for i in blob.ids]
    faint = (ink > FAINT_SHARE * threshold) & ~rules & ~filters.dilate(np.isin(labels, ids), 2)
    parts_labels, count = filters.label(faint)
    if count == 0:
        return blobs, labels
    parts = measure(ink, parts_labels, maps)
    height = _digit_height(blobs)
    shaped, _ = stroke_tests(parts, 1.0, height, FAINT_MIN_HEIGHT * height)
    digit_sized = (
        (parts.height >= FAINT_MIN_HEIGHT * height)
        & (parts.height <= beside.SIZE * height)
        & (parts.width <= MAX_WIDTH * parts.height)
    )
    # A lighter hand's strokes are as crisp, relative to their strength, as the darker
    # digits'; a smudge or a shadow's fringe is softer.
    sharpness = edge_sharpness(ink, labels, int(labels.max()), maps)
    crisp = float(np.median(sharpness[np.subtract(ids, 1)]))
    crisp_enough = parts.sharpness >= FAINT_SHARPNESS * crisp
    candidates = np.flatnonzero(shaped & digit_sized & crisp_enough)
    found = candidates[beside.beside_chain(parts.box[candidates], [b.box for b in blobs])]
    if not found.size:
        return blobs, labels
    labels = labels.copy()
    next_id = int(labels.max()) + 1
    added = []
    for number, k in enumerate(found):
        labels[parts_labels == k + 1] = next_id + number
        added.append(Blob((next_id + number,), tuple(int(v) for v in parts.box[k])))
    return blobs + added, labels


def _digit_height(blobs: list[Blob]) -> float:
    """The digits' height: an upper quartile, as in grouping.find_blobs, so that the pieces of
    a broken digit, or one cut short by the threshold, do not set it."""
    return upper_quartile(blob.height for blob in blobs)
