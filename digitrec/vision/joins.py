"""Pieces that may be one digit, and the choice among the readings, by the classifier's answers.

Geometry alone cannot tell the two halves of a 0 cut by a removed grid line, or a 4 whose
stroke broke, from two narrow digits written close together ("11"). So segmentation offers
runs of neighbouring pieces on a line as candidate digits (join_candidates) and the reader
classifies both; choose_segments keeps the reading the model finds most likely overall.

    pieces in reading order -> join_candidates -> (classify pieces and joins) -> choose_segments
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from digitrec.vision.grouping import Blob, upper_quartile

# A run of pieces is a candidate digit if its union is at most JOIN_WIDTH digit heights wide
# (MNIST digits are up to 0.9 as wide as tall; slant and a 7's long bar add to that: 1.0 found
# a third fewer of the broken digits on synthetic photos; a wide 5 whose bar came off reaches
# 1.45, and 1.6 joined more neighbours wrongly than it mended) and JOIN_HEIGHT tall, no piece is
# further than JOIN_GAP digit heights from the next, and it has at most JOIN_PIECES pieces.
JOIN_WIDTH = 1.5
JOIN_HEIGHT = 1.5
JOIN_GAP = 0.25
JOIN_PIECES = 3
# A join must be this much likelier (log-probability, nats) than its pieces read apart: two
# digits of a number, each read with confidence, are not one digit because their union looks
# like one too.
JOIN_COST = 0.4
# A blob cut tentatively in two (grouping.TRY_SPLIT) is read whole or as its halves, whichever
# is likelier, neither favoured: with the gate's say (digitrec.gate), a cost either way (0.4,
# 1.0 for the whole) read no better on synthetic photos.
SPLIT_COST = 0.0


@dataclass(frozen=True)
class Join:
    """Pieces first..last (inclusive, reading-order indices) taken as one digit."""

    first: int
    last: int
    blob: Blob
    cost: float = JOIN_COST  # what the join must gain over its pieces read apart
    # The pieces are halves of one blob cut tentatively: geometry alone keeps it whole.
    tentative: bool = False


def join_candidates(blobs: Sequence[Blob], lines: Sequence[int]) -> list[Join]:
    """Runs of consecutive pieces on one text line (`lines[i]` is piece i's line) that together
    could be one digit. The digit height is the upper quartile of the line's piece heights, as
    in grouping.find_blobs, so that a broken digit's short pieces do not set it."""
    joins = _regrouped(blobs, lines)
    tentative = {(j.first, j.last) for j in joins}
    for first in range(len(blobs)):
        line = [b.height for b, ln in zip(blobs, lines, strict=True) if ln == lines[first]]
        height = upper_quartile(line)
        for last in range(first + 1, min(first + JOIN_PIECES, len(blobs))):
            if lines[last] != lines[first]:
                break
            run = blobs[first : last + 1]
            gap = max(b.box[1] - max(a.box[3] for a in run[:k]) for k, b in enumerate(run) if k)
            union = _union(run)
            if gap > JOIN_GAP * height or union.width > JOIN_WIDTH * height:
                break  # a longer run is wider still
            if union.height <= JOIN_HEIGHT * height and (first, last) not in tentative:
                joins.append(Join(first, last, union))
    return joins


def whole_join(blobs: Sequence[Blob]) -> Join:
    """All the pieces taken as one digit: what an image told to hold one digit shows."""
    return Join(0, len(blobs) - 1, _union(blobs), cost=0.0)


def _regrouped(blobs: Sequence[Blob], lines: Sequence[int]) -> list[Join]:
    """Each group of pieces cut tentatively from one blob, if consecutive on one line, as a
    join at SPLIT_COST."""
    members: dict[int, list[int]] = {}
    for index, blob in enumerate(blobs):
        if blob.group is not None:
            members.setdefault(blob.group, []).append(index)
    joins = []
    for run in members.values():
        first, last = run[0], run[-1]
        if (
            len(run) > 1
            and run == list(range(first, last + 1))
            and len(set(lines[first : last + 1])) == 1
        ):
            joins.append(Join(first, last, _union(blobs[first : last + 1]), SPLIT_COST, True))
    return joins


def choose_segments(
    piece_scores: Sequence[float],
    joins: Sequence[tuple[int, int]],
    join_scores: Sequence[float],
    join_costs: Sequence[float] | None = None,
) -> list[tuple[int, int]]:
    """The partition of the pieces into digits with the highest total score, as (first, last)
    runs in order: each piece alone, or a candidate join (first, last) at JOIN_COST. Scores
    are log-probabilities of each reading's top class."""
    count = len(piece_scores)
    best = np.full(count + 1, -np.inf)
    best[0] = 0.0
    came_from: list[tuple[int, int]] = [(0, 0)] * (count + 1)
    ending: dict[int, list[tuple[int, float]]] = {}  # last piece -> (first, score less cost)
    costs = [JOIN_COST] * len(joins) if join_costs is None else join_costs
    for (first, last), score, cost in zip(joins, join_scores, costs, strict=True):
        ending.setdefault(last, []).append((first, score - cost))
    for last in range(count):
        best[last + 1], came_from[last + 1] = best[last] + piece_scores[last], (last, last)
        for first, score in ending.get(last, []):
            total = best[first] + score
            if total > best[last + 1]:
                best[last + 1], came_from[last + 1] = total, (first, last)
    segments, end = [], count
    while end > 0:
        first, last = came_from[end]
        segments.append((first, last))
        end = first
    return segments[::-1]


def _union(blobs: Sequence[Blob]) -> Blob:
    ids = tuple(dict.fromkeys(i for b in blobs for i in b.ids))
    y0 = min(b.box[0] for b in blobs)
    x0 = min(b.box[1] for b in blobs)
    y1 = max(b.box[2] for b in blobs)
    x1 = max(b.box[3] for b in blobs)
    return Blob(ids, (y0, x0, y1, x1))
