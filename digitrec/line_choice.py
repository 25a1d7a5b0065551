"""Segmentation's reading of each text line weighed against the line reader's (line_reader).

Segmentation reads a number digit by digit: the digit classifier knows each digit's shape
better than the line reader does, but where two digits touch or overlap, segmentation can only
offer their union or a cut, and reads one digit or two poor halves. The line reader reads the
line's strip whole and finds the digits of such a pair. So each line keeps segmentation's
reading unless the line reader reads it otherwise and finds its own reading at least
LINE_MARGIN (log-probability, nats) likelier than segmentation's, less DOUBT_WEIGHT times the
classifier's doubt of segmentation's digits; where both readings have the same length, only a
digit's shape is at stake, which the classifier reads better, and the margin is
SAME_LENGTH_MARGIN (higher for a weaker line reader; for the one shipped, the same). Where the
line reader finds one "1" more, a narrow 1 that touched its neighbour and was read as one
blob with it, the margin is ONE_MORE_MARGIN.

A line kept as segmented still gets the line reader's second opinion on each digit, among the
classifier's top 3 for it (SECOND_OPINION). A digit the line reader read is reported with its
box cut from the strip halfway to its neighbours' centres, the line's height, and the picture
the strip shows there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

import numpy as np

from digitrec.line_reader import LineReader, LineReading
from digitrec.readings import LOW_CONFIDENCE, DigitReading
from digitrec.vision.mnist_frame import DIGIT_BOX, FRAME, center_by_mass, fit_box
from digitrec.vision.pieces import DigitCrop
from digitrec.vision.strips import LineStrip

LINE_MARGIN = 3.0
SAME_LENGTH_MARGIN = 3.0
# Where the line reader reads the line as segmentation does with one "1" more, the margin is
# lower: a narrow 1 touching its neighbour is what segmentation reads as one blob and the line
# reader finds. On synthetic photos (tune half, 1,800 numbers) 1,602 read exactly instead of
# 1,597, alike for margins 0-1.5; blank pages as before. Lowering the margin for one "1" fewer
# (a grid line's fragment read as a 1) read 2 fewer numbers.
ONE_MORE_MARGIN = 1.0
# Segmentation's own doubt counts for the line reader: half the sum of the log-probabilities of
# segmentation's digits is taken off the margin the line reader must clear. On synthetic photos
# (tune half, two seeds of 600 numbers) 0.5 with margins 3 and 5 read 1,031 exactly (986 without
# the line reader); weights 0-2 and margins 2-5 read 1,026-1,031. With the line reader retrained
# on 1.5 times the strips (2026-12-04, evening), three seeds of 600 read 1,588 with margins 3
# and 3, 1,582 with 3 and 5 (1,578 with the reader before); the best of weights 0-2 and margins
# 1-8, 1,589.
DOUBT_WEIGHT = 0.5
INK = 0.05  # strip values above this are the line's ink, for its digits' pictures
# A page whose digits the classifier is unsure of (predictor.PAGE_CONFIDENCE), which would read
# as no digit, is read after all where the line reader reads a line of it as at least
# VOUCH_DIGITS digits with a probability of VOUCH_PROBABILITY: small, blurred numbers whose
# digits the classifier doubts one by one. On synthetic photos (tune half) 4 of 1,800 numbers
# that had read as nothing read right; of 800 blank pages, the line reader read none of the
# 22 that segmentation found unsure candidates on as two digits likelier than 0.12.
VOUCH_DIGITS = 2
VOUCH_PROBABILITY = 0.7
# ... if the lines it vouches for hold at least VOUCH_SHARE of the page's candidates: on a
# texture (gravel, 112 candidates on 26 lines) one line of two reads surely by chance.
VOUCH_SHARE = 0.5
# A line kept as segmentation read it still has the line reader's second opinion on each digit:
# of the classifier's top 3 for it, the digit with the highest log-probability by the classifier
# plus SECOND_OPINION times the log of how much likelier the line reader finds the line with it.
# On synthetic photos (tune half, three seeds of 600 numbers) 1,592 -> 1,596 read exactly with
# 0.5; simulated on recorded readings (before vouched_lines), 0.2-0.3 gained 3 and 0.7 one.
SECOND_OPINION = 0.5


def reread_lines(
    reader: LineReader,
    strips: Sequence[LineStrip],
    crops: Sequence[DigitCrop],
    readings: Sequence[DigitReading],
) -> tuple[list[DigitCrop], list[DigitReading]]:
    """The digits (crops and readings, in reading order) with each line's reading replaced by
    the line reader's where it is that much likelier (see the module's docstring)."""
    members, asked = _lines(strips, crops)
    segmented = ["".join(readings[k].digit for k in members[strip.line]) for strip in asked]
    choices = [_alternatives([readings[k] for k in members[strip.line]]) for strip in asked]
    lines = reader.read(
        [s.image for s in asked], segmented, [[text for _, _, text in c] for c in choices]
    )
    readings = list(readings)
    replaced: dict[int, tuple[list[DigitCrop], list[DigitReading]]] = {}
    for strip, line, text, alternatives in zip(asked, lines, segmented, choices, strict=True):
        indices = members[strip.line]
        doubt = -sum(np.log(max(readings[k].confidence, 1e-6)) for k in indices)
        if _prefers(line, text, float(doubt)):
            replaced[strip.line] = _line_digits(strip, line, [crops[k] for k in indices])
        else:
            seconded = _second_opinion(line, [readings[k] for k in indices], alternatives)
            for k, reading in zip(indices, seconded, strict=True):
                readings[k] = reading
    if not replaced:
        return list(crops), readings
    kept_crops: list[DigitCrop] = []
    kept_readings: list[DigitReading] = []
    for line_index, indices in sorted(members.items()):
        if line_index in replaced:
            line_crops, line_readings = replaced[line_index]
        else:
            line_crops = [crops[k] for k in indices]
            line_readings = [readings[k] for k in indices]
        kept_crops += line_crops
        kept_readings += line_readings
    return kept_crops, kept_readings


def _lines(
    strips: Sequence[LineStrip], crops: Sequence[DigitCrop]
) -> tuple[dict[int, list[int]], list[LineStrip]]:
    """The indices of the crops on each text line, and the strips of those lines in line
    order."""
    members: dict[int, list[int]] = {}
    for index, crop in enumerate(crops):
        members.setdefault(crop.line, []).append(index)
    asked = sorted((strip for strip in strips if strip.line in members), key=lambda s: s.line)
    return members, asked


def _alternatives(readings: Sequence[DigitReading]) -> list[tuple[int, int, str]]:
    """(position, rank in the classifier's top, the line's text) for each line that differs
    from segmentation's in one digit, that digit another of the classifier's top 3."""
    text = "".join(r.digit for r in readings)
    return [
        (position, rank, text[:position] + digit + text[position + 1 :])
        for position, reading in enumerate(readings)
        for rank, (digit, _) in enumerate(reading.top[1:], start=1)
    ]


def _second_opinion(
    line: LineReading,
    readings: Sequence[DigitReading],
    alternatives: Sequence[tuple[int, int, str]],
) -> list[DigitReading]:
    """The line's digits, each the one of the classifier's top 3 likeliest by the classifier
    and SECOND_OPINION times the line reader (how much likelier it finds the line so)."""
    if line.other_log_probability is None or len(line.alternative_log_probabilities) != len(
        alternatives
    ):
        return list(readings)
    best = [(float(np.log(max(r.confidence, 1e-6))), 0) for r in readings]  # (score, rank)
    for (position, rank, _), weighed in zip(
        alternatives, line.alternative_log_probabilities, strict=True
    ):
        probability = readings[position].top[rank][1]
        score = np.log(max(probability, 1e-6)) + SECOND_OPINION * (
            weighed - line.other_log_probability
        )
        if score > best[position][0]:
            best[position] = (float(score), rank)
    out = []
    for position, reading in enumerate(readings):
        rank = best[position][1]
        if rank == 0:
            out.append(reading)
            continue
        digit, probability = reading.top[rank]
        out.append(
            replace(
                reading,
                digit=digit,
                confidence=probability,
                low_confidence=probability < LOW_CONFIDENCE,
            )
        )
    return out


def vouched_lines(
    reader: LineReader, strips: Sequence[LineStrip], crops: Sequence[DigitCrop]
) -> tuple[list[DigitCrop], list[DigitReading]]:
    """The digits of the lines (those of `crops`) that the line reader reads surely enough to
    vouch for them on a page the classifier is unsure of (see VOUCH_PROBABILITY), as it reads
    them; none if it vouches for no line, or for too few of the candidates (VOUCH_SHARE)."""
    members, asked = _lines(strips, crops)
    sure = np.log(VOUCH_PROBABILITY)
    out_crops: list[DigitCrop] = []
    out_readings: list[DigitReading] = []
    vouched = 0
    for strip, line in zip(asked, reader.read([s.image for s in asked]), strict=True):
        if len(line.text) >= VOUCH_DIGITS and line.log_probability >= sure:
            line_crops = [crops[k] for k in members[strip.line]]
            vouched += len(line_crops)
            line_crops, line_readings = _line_digits(strip, line, line_crops)
            out_crops += line_crops
            out_readings += line_readings
    if vouched < VOUCH_SHARE * len(crops):
        return [], []
    return out_crops, out_readings


def _prefers(line: LineReading, segmented: str, doubt: float) -> bool:
    """Whether the line reader's reading replaces segmentation's, whose digits the classifier
    read with `doubt` (the negated sum of their log-probabilities)."""
    if not line.text or line.text == segmented or line.other_log_probability is None:
        return False
    margin = SAME_LENGTH_MARGIN if len(line.text) == len(segmented) else LINE_MARGIN
    if _one_more_one(line.text, segmented):
        margin = ONE_MORE_MARGIN
    gain = line.log_probability - line.other_log_probability + DOUBT_WEIGHT * doubt
    return gain >= margin


def _one_more_one(text: str, segmented: str) -> bool:
    """Whether `text` is `segmented` with one "1" put in somewhere."""
    return len(text) == len(segmented) + 1 and any(
        text[k] == "1" and text[:k] + text[k + 1 :] == segmented for k in range(len(text))
    )


def _line_digits(
    strip: LineStrip, line: LineReading, crops: Sequence[DigitCrop]
) -> tuple[list[DigitCrop], list[DigitReading]]:
    """The line reader's digits of one line, as crops and readings."""
    image = strip.image
    ink = np.flatnonzero(image.max(axis=0) > INK)
    first, last = (int(ink[0]), int(ink[-1]) + 1) if len(ink) else (0, image.shape[1])
    centres = [(d.columns[0] + d.columns[1]) / 2 for d in line.digits]
    halfway = [round((a + b) / 2) for a, b in pairwise(centres)]
    bounds = [first, *halfway, last]
    top = min(crop.box[1] for crop in crops)
    bottom = max(crop.box[1] + crop.box[3] for crop in crops)
    out_crops, out_readings = [], []
    for digit, (left, right) in zip(line.digits, pairwise(bounds), strict=True):
        right = max(right, left + 1)
        x0 = float(strip.columns[min(left, len(strip.columns) - 1)])
        x1 = float(strip.columns[min(right, len(strip.columns)) - 1])
        box = (round(x0), top, max(1, round(x1 - x0)), bottom - top)
        out_crops.append(DigitCrop(box, _picture(image[:, left:right]), strip.line))
        confidence = digit.top[0][1]
        out_readings.append(
            DigitReading(
                digit.digit, confidence, digit.top, box, low_confidence=confidence < LOW_CONFIDENCE
            )
        )
    return out_crops, out_readings


def _picture(part: np.ndarray) -> np.ndarray:
    """A strip's columns as a 28x28 MNIST-style digit (for showing what was read)."""
    rows = np.flatnonzero(part.max(axis=1) > INK)
    cols = np.flatnonzero(part.max(axis=0) > INK)
    if not len(rows) or not len(cols):
        return np.zeros((FRAME, FRAME), np.float32)
    digit = center_by_mass(fit_box(part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], DIGIT_BOX))
    return (digit / max(float(digit.max()), 1e-6)).astype(np.float32)
