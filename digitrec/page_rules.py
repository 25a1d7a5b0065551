"""Candidates left out of a page's reading: a stray mark alone on its line beside a number, the
fragment of a stroke among whole digits. Pure functions on the reader's crops and readings."""

from __future__ import annotations

import numpy as np

from digitrec.readings import LOW_CONFIDENCE, DigitReading
from digitrec.vision.grouping import upper_quartile
from digitrec.vision.pieces import DigitCrop

# A piece under this share of the digits' height (their upper quartile) read with less than
# LOW_CONFIDENCE is left out of the number: the tail of a 2 cut off, a dash, a speck. On synthetic
# photos (tune half, 1,500 numbers) 6 more read right, with 0.4-0.5 and 0.4-0.8 confidence alike;
# at 0.6 of the height, 3 more.
FRAGMENT_HEIGHT = 0.5
# A candidate alone on its text line, on a page with other lines, that the gate (digitrec.gate)
# gives under this probability of being one whole digit is left out: a fragment of a grid line
# or the paper's edge, or a stray mark, beside the number, which the classifier reads as a 1.
# On synthetic photos (tune half, 1,800 numbers) 1,574 -> 1,578 read exactly, with 0.5 alike;
# blank pages (800) and single digits as before.
STRAY_GATE = 0.2


def without_stray_marks(chosen: list[int], lines: list[int], one: np.ndarray) -> list[int]:
    """The chosen candidates less those alone on their text line that the gate takes for no
    whole digit (under STRAY_GATE), where there are other lines: a stray mark beside a number."""
    per_line: dict[int, int] = {}
    for k in chosen:
        per_line[lines[k]] = per_line.get(lines[k], 0) + 1
    if len(per_line) < 2:
        return chosen
    return [k for k in chosen if per_line[lines[k]] > 1 or one[k] >= STRAY_GATE]


def without_fragments(
    crops: list[DigitCrop], readings: list[DigitReading]
) -> tuple[list[DigitCrop], list[DigitReading]]:
    """The digits less the pieces far shorter than the others (under FRAGMENT_HEIGHT of their
    upper-quartile height) that the model is unsure of (LOW_CONFIDENCE): a stroke's tail cut
    off, a dash, a speck, rather than a digit."""
    if len(crops) < 2:
        return crops, readings
    tall = upper_quartile(crop.box[3] for crop in crops)
    kept = [
        (crop, reading)
        for crop, reading in zip(crops, readings, strict=True)
        if crop.box[3] >= FRAGMENT_HEIGHT * tall or reading.confidence >= LOW_CONFIDENCE
    ]
    return [crop for crop, _ in kept], [reading for _, reading in kept]
