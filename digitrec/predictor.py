"""From an image to digits: decode, normalize MNIST-style, segment, classify.

Shared by the CLI and the web layer, so every way in gives the same answer.

Segmentation (digitrec.vision.segment and the modules it chains) sizes everything from the image
itself rather than from fixed pixel counts:

- The sheet (vision.sheet): the largest region of one brightness, filling 12-93% of the photo,
  touching at most half its border, with the table showing along two sides or more, nearly
  convex (solidity 0.85), and bounded by a step of at least 8% of the brighter side that is
  sharp (slope x sigma x sqrt(2 pi) / step >= 0.45 on a 160-px copy; a shadow's edge is far
  softer). Ink is then looked for inside it only, 1.2% of the image away from its edge.
- The ink's background window is 5 stroke widths (at least 15 px; the stroke width is the
  ink-weighted median thickness of the crisp, digit-sized components), so shadows and mottled
  paper wider than that are background, not ink; the strongest ink is the largest value a 2x2
  square reaches, not a top percentile that a small digit on a big page would not reach.
- Lines within 6 degrees of the image axes and longer than 30 stroke widths or 0.75 of the
  sheet's extent along them (ruled and squared paper) are taken out of the ink map before
  thresholding: only the line's own pixels, thinner across than a stroke, along its course
  through the band, so a stroke crossing it or lying along it stays whole.

- A stroke's median ink is at least 0.4 of the strongest digit's and 0.13 of the light level
  (strokes.stroke_tests), unless it stands on a text line beside a kept digit (same rows, at
  most 1.5 times as tall, at most 0.8 of that digit's height away; vision.beside): then half
  that contrast is enough, whatever its share of the strongest. A number's lighter digit is
  kept, a blank page's faint marks are not.

- Each digit found grows into the connected ink above 0.4 of the page's threshold, within one
  digit height along the ink, nearer to it than to any other digit, if it stays digit-shaped
  (vision.complete): a stroke written more lightly, such as a 6's loop, is part of its digit.
  A digit as tall as the others, as crisp, beside them on their line, is found in that fainter
  ink too.

- Neighbouring pieces on a line that could be one digit (together at most 1.5 digit heights
  wide, at most 0.25 apart) are also read as one; the reading is kept if its log-probability
  beats the pieces' read apart by JOIN_COST = 0.4 (vision.joins): a digit broken by a removed
  grid line or a gap in its stroke is one digit, two sure digits stay two. A blob 0.8 to 1.15
  times as wide as tall is read whole and cut in two, at no cost either way.
- Each candidate's log-probability has GATE_WEIGHT = 0.5 times the log of the gate's
  probability that it is one whole digit added (digitrec.gate), when there is a choice.
- Each text line is also read whole, from its strip (vision.strips), by the line reader
  (digitrec.line_reader), which needs no cuts; its reading replaces segmentation's where it is
  much likelier (digitrec.line_choice): digits run together, which no cut separates. Where
  it is kept, each digit is still chosen among the classifier's top 3 with the line reader's
  second opinion.

Thresholds on the model's answers:

- Every digit is read twice, as cut and deskewed (its slant sheared upright, as measured by
  its second moments), and the two readings averaged, before anything below is decided.

- A digit whose top probability is below LOW_CONFIDENCE is flagged `low_confidence`: the
  model is unsure (an ambiguous or badly written digit, or not a digit at all, such as a
  scribble). It is still reported, so a number keeps its length.
- So is every digit of a reading whose crops the digitness check (digitrec.digitness) gives a
  median under DOUBTED_DIGITS = 0.05 of being digits at all: a scribble, a letter, a word or
  a doodle, which the model, knowing only digits, may read as sure ones.
- A piece under FRAGMENT_HEIGHT = 0.5 of the digits' height read below LOW_CONFIDENCE is left
  out of the number: a stroke's cut-off tail, a dash or a speck, not a digit (page_rules).
- A candidate alone on its text line, where the page has other lines, is left out if the gate
  gives it under STRAY_GATE = 0.2 of being one whole digit: a fragment of a grid line or of the
  paper's edge beside the number, which the model alone reads as a 1 (page_rules).
- An image where segmentation finds nothing, or takes ink touching the image's edge for the
  paper's edge, is looked at once more inside a margin of the colour along its edge
  (vision.frame): cropped tight to its ink, a digit touches the edge, where the paper's edge
  and the table are looked for. What that finds counts if it finds more than the first look
  and spans at least TIGHT_FILL = 0.5 of the image both ways. Unless told there is one digit,
  a photo where nothing touching the edge was dropped is not framed, one where nothing was
  found must show more than one piece framed, and a clean image (a scan or a drawing) is
  framed if the framed copy is clean too (vision.tight_crop).
- Told there is one digit (`single`), the pieces found are read as one, and where no look
  finds a stroke, the image is looked at harder (digitrec.single_digit).
- Every image is also read whole as one digit cropped tight to its ink (vision.tight_digit:
  one global threshold; the ink spanning 0.8 of the image both ways, at least 0.1 of the grey
  scale from the paper, the paper even, the ink in strokes with edges rising within 6.5 px
  of a 256-px copy, in at most 3 parts with at most 2 loops (not a brick wall's net of
  mortar), at most ONE_DIGIT_WIDTH = 1.2 times as wide as tall), and that reading
  replaces segmentation's if the model is at least TIGHT_CONFIDENCE = 0.5 sure of it and
  surer than of segmentation's digits (their geometric mean): a photo cut down to a bold
  digit that runs off its edges, where segmentation finds fragments or nothing.
- An image where segmentation finds no ink that looks like a digit (a blank page, a flat
  photo, noise, specks) reads as `text == ""` with no digits: "no digit" is an answer. So does
  a page (not read with `single`) where all that was found is one mark under LONE_DIGIT = 0.03
  of the image's shorter side, or one the gate gives under LONE_GATE = 0.05 of being a whole
  digit: dust, a dot of ink, the table's corner, not a digit written alone.
- So does one (not read with `single`) where the median top probability of the candidates
  is below PAGE_CONFIDENCE: what is left of a blank page's shadows, paper edges and texture
  after segmentation rarely looks like a digit to the model, while a real number's digits
  mostly do, even when one or two of them are unsure. Unless the line reader reads a line of
  it as two digits or more with probability VOUCH_PROBABILITY = 0.7 (line_choice): then that
  line is read as the line reader reads it (a small, blurred number), if the lines so read
  hold at least half the candidates (not one line of many on a texture such as gravel).
- Small digits found again up close (vision.segment's zoom) that read as no digit there are
  read as the first look found them, if that reads as a number of FIRST_LOOK_DIGITS = 2 digits
  or more with the median confidence asked of a second look (SECOND_LOOK_CONFIDENCE = 0.7):
  enlarged, squared or ruled paper can break 13-px digits into fragments.
- A number (not read with `single`) whose digits climb steadily along a line 8 to 35 degrees
  steep (vision.tilt: 3 digits or more) is read again from the image turned back level by that
  angle, and that reading kept if it has no fewer digits and the model's mean log-probability
  of its digits is higher, its boxes mapped back onto the image as given: a page photographed
  askew leans every digit, which the model reads worse; handwriting that merely climbs keeps
  its digits upright. On synthetic photos of numbers (tune half, 300) turned 15 degrees, 235
  read exactly instead of 228 (10 degrees: 255 instead of 254); MNIST numbers turned 25
  degrees, 15 of 16 instead of 13. Level photos read as before.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from digitrec.digitness import doubted, load_digitness
from digitrec.gate import GATE_WEIGHT, load_gate, one_digit_probability
from digitrec.line_choice import reread_lines, vouched_lines
from digitrec.line_reader import ALPHABET, LineReader, load_line_reader
from digitrec.models.classifier import Classifier
from digitrec.page_rules import without_fragments, without_stray_marks
from digitrec.readings import LOW_CONFIDENCE, DigitReading, Reading
from digitrec.single_digit import (
    SINGLE_SECOND_LOOK_CONFIDENCE,
    as_one_digit,
    look_harder,
    looks_like_digits,
)
from digitrec.vision.debug import draw_readings
from digitrec.vision.decode import DEFAULT_MAX_PIXELS, decode_image, read_image_file
from digitrec.vision.deskew import deskewed
from digitrec.vision.joins import choose_segments
from digitrec.vision.pieces import DigitCrop, Pieces
from digitrec.vision.segment import find_pieces
from digitrec.vision.tight_crop import framed_look
from digitrec.vision.tight_digit import tight_digit
from digitrec.vision.tilt import box_back, line_angle, turned

TOP_K = 3
# Below this median top probability of all candidates an image holds no digit (see above). On
# synthetic photos (the "tune" MNIST part, not the benchmark's) it turned most of the blank pages
# still misread into "no digit" without losing a number; 0.6 began to lose numbers.
PAGE_CONFIDENCE = 0.5
# The same for candidates found only by a second look, where the first found nothing: closer,
# at a big image (vision.segment.LOOK_CLOSER), or for fainter ink (single_digit.look_harder): there
# the paper's edges and texture pass for ink more often. With 0.5, one of the photo benchmark's
# 500 blank pages read as digits that did not without the closer look (a sheet's edge, median
# confidence 0.55); small numbers on big pages (four MNIST digits 30-70 px tall on 2000x1500
# and 4000x3000 pages) read as often at 0.7 as at 0.5.
SECOND_LOOK_CONFIDENCE = 0.7
# A page read as one lone digit under this share of the image's shorter side is no digit (not
# with `single`): a speck of dust or a dot of ink that the model reads as a 1, on a page where
# nothing else was found. Written digits are rarely so small alone (1% of the single digits of
# synthetic photos are under 3.5%); a number's small digits come several together. On synthetic
# photos (tune half) blank pages read "no digit" 793 of 800 instead of 790 (0.04: 794); numbers
# of 2-8 digits as before.
LONE_DIGIT = 0.03
# Nor is one that the gate (digitrec.gate) gives under this probability of being one whole
# digit: a corner of the table, a fragment of the paper's edge, a speck at the image's edge. On
# synthetic photos (tune half) blank pages read "no digit" 796 of 800 instead of 793 (0.1 the
# same); of 368 single-digit photos read without `single` where one candidate was found, one
# read right is lost (gate 0.04); numbers as before.
LONE_GATE = 0.05
# Where small digits were looked at up close (vision.segment.find_pieces' zoom) and that read as
# no digit, the first look's pieces are read instead, if they read as a number of at least this
# many digits with SECOND_LOOK_CONFIDENCE: enlarged, a grid or ruled paper can break 13-px
# digits into fragments that the first look had whole ("27030" on squared paper). On synthetic
# photos (tune half) numbers of 2-8 digits read exactly 1,602 -> 1,604 of 1,800, blank pages as
# before (2,400). At PAGE_CONFIDENCE, 1,606 numbers, but 1 of 2,400 blank pages read two grid
# cells as "29" (and the photo benchmark's blank pages 495 -> 493 of 500, with another change);
# a lone digit too, 2 of 800 blank pages a digit (dust the close look had rightly dropped).
FIRST_LOOK_DIGITS = 2
# Every image is also read whole as one digit cropped tight to its ink (vision.tight_digit),
# if that ink is at most ONE_DIGIT_WIDTH times as wide as tall (a number of several digits is
# wider; of synthetic single digits cropped to their box, 95% are under 1.12), and that reading
# is taken where the model is at least TIGHT_CONFIDENCE sure of it (what a page's candidates
# need) and surer than of segmentation's digits (their geometric mean). On synthetic photos
# (tune half) cropped to their digit's box, single digits read 535 -> 583 of 600 and 365 ->
# 389 of 400 told there is one digit, 303 -> 550 of 600 not told; the photos themselves as
# before (1,000 single digits with `single` and 600 without, 1,800 numbers, 2,400 blank pages,
# 600 numbers cropped to their digits), and of 400 blank pages read with `single` 375 -> 376
# "no digit". At 0.7, 11 fewer cropped digits read right not told; asking no minimum, 4 of the
# 2,400 blank pages gave a digit (a shadow's band read as a 1).
TIGHT_CONFIDENCE = PAGE_CONFIDENCE
ONE_DIGIT_WIDTH = 1.2


class Predictor:
    def __init__(
        self,
        classifier: Classifier,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        gate: Classifier | Literal["shipped"] | None = "shipped",
        line_reader: LineReader | Literal["shipped"] | None = "shipped",
        digitness: Classifier | Literal["shipped"] | None = "shipped",
    ) -> None:
        """`gate` weighs the segmentation's alternatives (digitrec.gate), `line_reader` reads
        each text line whole where segmentation may have cut it wrong (digitrec.line_choice),
        `digitness` says whether what was read is a digit at all (digitrec.digitness): the
        shipped ones by default, None to go without."""
        self.classifier = classifier
        self.max_pixels = max_pixels
        self.gate = load_gate() if gate == "shipped" else gate
        self.line_reader = load_line_reader() if line_reader == "shipped" else line_reader
        self.digitness = load_digitness() if digitness == "shipped" else digitness
        if tuple(classifier.classes) != tuple(ALPHABET):
            # They know digits: no help to a model of other classes.
            self.line_reader = self.digitness = None

    def preprocess(
        self,
        image: np.ndarray,
        *,
        single: bool = False,
        stages: dict[str, np.ndarray] | None = None,
    ) -> list[DigitCrop]:
        """The 28x28 digit candidates of an RGB or grey image, in reading order, without the
        model (which read_image also asks whether neighbouring pieces are one digit)."""
        return self._pieces(image, single=single, stages=stages).by_geometry()

    def _pieces(
        self, image: np.ndarray, *, single: bool, stages: dict[str, np.ndarray] | None
    ) -> Pieces:
        # find_pieces shrinks an RGB photo before taking its luminance, which is much faster
        # on a big one; the full-size grey image is only needed to re-read merged pieces.
        image = np.asarray(image)
        pieces = find_pieces(image, stages=stages, one_digit=single)
        if not pieces.clean:
            pieces = framed_look(image, pieces, single=single, stages=stages) or pieces
        if single:
            pieces = look_harder(image, pieces, last_look=self.digitness is not None, stages=stages)
            pieces = as_one_digit(image, pieces, self.classify)
        return pieces

    def read_image(
        self,
        image: np.ndarray,
        *,
        single: bool = False,
        stages: dict[str, np.ndarray] | None = None,
    ) -> Reading:
        """What `image` reads; `stages`, if given, receives a picture of each step (see
        vision.debug), ending with the digits read in their boxes."""
        reading = self._read(image, single=single, stages=stages)
        if not single:
            reading = self._read_turned_back(image, reading)
        self._doubt_non_digits(reading)
        if stages is not None:
            boxes = [(d.box, d.digit) for d in reading.digits if d.box is not None]
            stages["digits"] = draw_readings(image, boxes)
        return reading

    def _doubt_non_digits(self, reading: Reading) -> None:
        """Flag every digit as low confidence where the digitness check doubts the digits' crops
        are digits at all (digitness.DOUBTED_DIGITS): a scribble, a letter or a word, a
        doodle."""
        if self.digitness is None or not reading.digits:
            return
        if len(reading.inputs) != len(reading.digits):
            return
        if doubted(self.digitness, np.stack(reading.inputs)):
            for digit in reading.digits:
                digit.low_confidence = True

    def _read_turned_back(self, image: np.ndarray, reading: Reading) -> Reading:
        """The image read again turned back by the angle its digits' line slopes at, if that
        is steep (vision.tilt), kept if the model is surer of it: a page photographed askew."""
        angle = line_angle([d.box for d in reading.digits if d.box is not None])
        if angle is None:
            return reading
        level, back = turned(np.asarray(image), angle)
        again = self._read(level, single=False, stages=None)
        # Not a reading that dropped a digit the model was unsure of: that looks surer too.
        if len(again.digits) < len(reading.digits) or _sureness(again) <= _sureness(reading):
            return reading
        for digit in again.digits:
            if digit.box is not None:
                digit.box = box_back(digit.box, back, np.shape(image))
        return again

    def _read(
        self, image: np.ndarray, *, single: bool, stages: dict[str, np.ndarray] | None
    ) -> Reading:
        pieces = self._pieces(image, single=single, stages=stages)
        reading = self._read_pieces(image, pieces, single=single)
        # Told there is one digit, _pieces made one candidate of what the close look found,
        # which the first look's pieces are not: no second reading of those.
        if not reading.digits and pieces.before_zoom is not None and not single:
            # A second reading, which must be surer, as a second look's (SECOND_LOOK_CONFIDENCE).
            before = replace(pieces.before_zoom, second_look=True)
            first_look = self._read_pieces(image, before, single=False)
            if len(first_look.digits) >= FIRST_LOOK_DIGITS:
                reading = first_look
        return self._surer_tight(image, reading)

    def _surer_tight(self, image: np.ndarray, reading: Reading) -> Reading:
        """The image read as one digit cropped tight (vision.tight_digit) where the model is
        surer of that than of `reading` (the geometric mean of its digits' confidences), and at
        least TIGHT_CONFIDENCE sure."""
        crop = tight_digit(image)
        if crop is None or crop.box[2] > ONE_DIGIT_WIDTH * crop.box[3]:
            return reading
        (tight,) = self.classify(crop.image[None])
        if tight.confidence < TIGHT_CONFIDENCE:
            return reading
        if reading.digits and np.log(tight.confidence) <= _sureness(reading):
            return reading
        tight.box = crop.box
        return Reading([tight], [crop.image])

    def _read_pieces(self, image: np.ndarray, pieces: Pieces, *, single: bool) -> Reading:
        """What the candidates `pieces` read as, by the thresholds on the model's answers (see
        the module's docstring)."""
        if not pieces.crops:
            return Reading()
        crops, readings = self._best_reading(pieces)
        if not readings:
            return Reading()
        # Told there is one digit, the reader answers with its best guess, unless a second look
        # was needed to find any ink at all.
        page_confidence = PAGE_CONFIDENCE
        if pieces.second_look:
            page_confidence = SINGLE_SECOND_LOOK_CONFIDENCE if single else SECOND_LOOK_CONFIDENCE
        unsure = np.median([r.confidence for r in readings]) < page_confidence
        if pieces.last_look:
            unsure = unsure or not looks_like_digits(self.digitness, crops, readings)
        if unsure and (pieces.second_look or not single):
            if pieces.second_look or self.line_reader is None:
                return Reading()
            # Unless the line reader vouches for a line of it (line_choice.vouched_lines).
            crops, readings = vouched_lines(self.line_reader, pieces.strips, crops)
            return Reading(readings, [crop.image for crop in crops])
        crops, readings = without_fragments(crops, readings)
        for reading, crop in zip(readings, crops, strict=True):
            reading.box = crop.box
        if self.line_reader is not None and pieces.strips:
            crops, readings = reread_lines(self.line_reader, pieces.strips, crops, readings)
        if not single and len(crops) == 1 and self._lone_mark(image, crops[0]):
            return Reading()
        return Reading(readings, [crop.image for crop in crops])

    def _lone_mark(self, image: np.ndarray, crop: DigitCrop) -> bool:
        """Whether the one candidate found on a page is a stray mark, not a digit written
        alone: small (LONE_DIGIT), or what the gate takes for no whole digit (LONE_GATE)."""
        if crop.box[3] < LONE_DIGIT * min(image.shape[:2]):
            return True
        if self.gate is None or crop.context is None:
            return False
        return float(one_digit_probability(self.gate, crop.context[None])[0]) < LONE_GATE

    def _best_reading(self, pieces: Pieces) -> tuple[list[DigitCrop], list[DigitReading]]:
        """The pieces, some joined into one digit where the model reads them likelier so
        (vision.joins), and their readings; all candidates are classified in one batch."""
        candidates = pieces.crops + [join.crop for join in pieces.joins]
        readings = self.classify(np.stack([crop.image for crop in candidates]))
        scores = [float(np.log(max(r.confidence, 1e-9))) for r in readings]
        contexts = [crop.context for crop in candidates]
        several_lines = len({crop.line for crop in pieces.crops}) > 1
        one = None
        known = all(c is not None for c in contexts)
        if self.gate is not None and (pieces.joins or several_lines) and known:
            one = one_digit_probability(self.gate, np.stack(contexts))
        if one is not None and pieces.joins:
            scores = [
                s + GATE_WEIGHT * float(np.log(max(p, 1e-6)))
                for s, p in zip(scores, one, strict=True)
            ]
        count = len(pieces.crops)
        runs = [(join.first, join.last) for join in pieces.joins]
        index = {run: count + k for k, run in enumerate(runs)}
        chosen = [
            first if first == last else index[(first, last)]
            for first, last in choose_segments(
                scores[:count], runs, scores[count:], [join.cost for join in pieces.joins]
            )
        ]
        if one is not None and several_lines:
            chosen = without_stray_marks(chosen, [crop.line for crop in candidates], one)
        return [candidates[k] for k in chosen], [readings[k] for k in chosen]

    def classify(self, digits: np.ndarray) -> list[DigitReading]:
        """Classify normalized 28x28 digits (N, 28, 28) in [0, 1]."""
        probabilities = self.probabilities(digits)
        classes = self.classifier.classes
        readings = []
        for row in probabilities:
            order = np.argsort(row)[::-1][:TOP_K]
            top = [(classes[index], float(row[index])) for index in order]
            confidence = top[0][1]
            readings.append(
                DigitReading(top[0][0], confidence, top, low_confidence=confidence < LOW_CONFIDENCE)
            )
        return readings

    def probabilities(self, digits: np.ndarray) -> np.ndarray:
        """The model's class probabilities (N, classes): the average of its readings of the
        digits as given and deskewed (see deskewed), both in one batch."""
        views = np.concatenate([np.asarray(digits, dtype=np.float32), deskewed(digits)])
        readings = np.asarray(self.classifier.predict_proba(views))
        return readings.reshape(2, len(digits), -1).mean(axis=0)

    def read_bytes(self, data: bytes, *, source: str = "image", single: bool = False) -> Reading:
        return self.read_image(
            decode_image(data, source=source, max_pixels=self.max_pixels), single=single
        )

    def read_file(self, path: str | Path, *, single: bool = False) -> Reading:
        return self.read_image(read_image_file(path, max_pixels=self.max_pixels), single=single)


def _sureness(reading: Reading) -> float:
    """The model's mean log-probability of the digits read."""
    return float(np.mean([np.log(max(d.confidence, 1e-6)) for d in reading.digits]))
