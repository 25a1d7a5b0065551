"""The line reader: strips of a line's ink, their labels, the CTC net's reading, and the choice
between its reading and segmentation's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from digitrec.data.datasets import load_test_set
from digitrec.data.drawn_strips import MAX_DIGITS, drawn_strip
from digitrec.data.line_strips import strip_text
from digitrec.line_choice import (
    LINE_MARGIN,
    ONE_MORE_MARGIN,
    SAME_LENGTH_MARGIN,
    VOUCH_PROBABILITY,
    reread_lines,
    vouched_lines,
)
from digitrec.line_reader import (
    BLANK,
    COLUMNS_PER_FRAME,
    LineDigit,
    LineNet,
    LineReader,
    LineReading,
    _best_path,
    load_line_reader,
)
from digitrec.readings import DigitReading
from digitrec.vision.grouping import Blob
from digitrec.vision.pieces import DigitCrop
from digitrec.vision.strips import MAX_GAP, STRIP_DIGIT, STRIP_HEIGHT, STRIP_PAD, line_strip


def _tilted_line() -> tuple[np.ndarray, np.ndarray, list[Blob]]:
    """Three 40-px square blobs of ink on a line falling 10 px per 100 px, the third far off."""
    ink = np.zeros((200, 600), np.float32)
    labels = np.zeros((200, 600), np.int32)
    blobs = []
    for number, x in enumerate((50, 100, 400), start=1):
        y = 60 + x // 10
        ink[y : y + 40, x : x + 40] = 1.0
        labels[y : y + 40, x : x + 40] = number
        blobs.append(Blob((number,), (y, x, y + 40, x + 40)))
    return ink, labels, blobs


def test_a_strip_holds_the_line_at_digit_scale_with_its_tilt_taken_out() -> None:
    ink, labels, blobs = _tilted_line()
    strip = line_strip(ink, labels, np.zeros_like(ink, bool), blobs, 0, (2.0, 2.0))
    assert strip is not None and strip.image.shape[0] == STRIP_HEIGHT
    rows = np.flatnonzero(strip.image.max(axis=1) > 0.5)
    # Each blob STRIP_DIGIT tall (the line's height) and all on the same rows: no tilt left.
    assert len(rows) == STRIP_DIGIT
    # The 260-px gap before the third blob shrinks to MAX_GAP digit heights.
    columns = np.flatnonzero(strip.image.max(axis=0) > 0.5)
    gaps = np.diff(columns)[np.diff(columns) > 1] - 1
    assert list(gaps) == [STRIP_DIGIT // 4, round(MAX_GAP * STRIP_DIGIT)]
    assert columns[0] == STRIP_PAD
    # Columns map back to the original image (scale 2): the first blob starts at x = 100.
    assert strip.columns[STRIP_PAD] == pytest.approx(100, abs=2)
    assert np.all(np.diff(strip.columns) >= 0)
    assert (strip.top, strip.bottom) == (2 * 65, 2 * 140)


def test_blobs_inside_a_wide_one_are_placed_where_they_lie_along_it() -> None:
    # A wide blob (x 50-250) and two narrower ones within its span: each is placed by its
    # overlap with the wide one, not with the last one placed (which put the third before the
    # strip's start, drawn at its end by numpy's negative indices, or an IndexError on a photo).
    ink = np.zeros((100, 400), np.float32)
    labels = np.zeros((100, 400), np.int32)
    boxes = [(40, 50, 60, 250), (30, 80, 70, 100), (30, 120, 70, 140)]
    blobs = []
    for number, (y0, x0, y1, x1) in enumerate(boxes, start=1):
        ink[y0:y1, x0:x1] = 1.0
        labels[y0:y1, x0:x1] = number
        blobs.append(Blob((number,), (y0, x0, y1, x1)))
    strip = line_strip(ink, labels, np.zeros_like(ink, bool), blobs, 0, (1.0, 1.0))
    assert strip is not None and np.all(np.diff(strip.columns) >= 0)
    tall = np.flatnonzero(strip.image.sum(axis=0) > 0.5 * STRIP_DIGIT)  # the two tall blobs
    runs = np.split(tall, np.flatnonzero(np.diff(tall) > 1) + 1)
    assert [round(strip.columns[run[0]]) for run in runs] == pytest.approx([80, 120], abs=2)


def test_a_strip_too_long_for_a_number_is_none() -> None:
    ink = np.zeros((20, 4000), np.float32)
    labels = np.zeros((20, 4000), np.int32)
    blobs = []
    for number, x in enumerate(range(0, 4000, 40), start=1):
        ink[5:15, x : x + 8] = 1.0
        labels[5:15, x : x + 8] = number
        blobs.append(Blob((number,), (5, x, 15, x + 8)))
    assert line_strip(ink, labels, np.zeros_like(ink, bool), blobs, 0, (1.0, 1.0)) is None


def test_a_strip_is_labelled_with_the_digits_inside_it_or_not_at_all() -> None:
    boxes = [(100, 50, 40, 60), (150, 50, 40, 60), (400, 300, 40, 60)]
    assert strip_text((95.0, 195.0), (45, 115), "123", boxes) == "12"
    # Cutting through the second digit: no label.
    assert strip_text((95.0, 165.0), (45, 115), "123", boxes) is None
    assert strip_text((395.0, 445.0), (295, 365), "123", boxes) == "3"


def test_drawn_strips_are_lines_of_one_to_eight_digits() -> None:
    digits = load_test_set("mnist").head(200)
    rng = np.random.default_rng(0)
    lengths = set()
    for _ in range(50):
        strip, text = drawn_strip(digits, rng)
        assert strip.shape[0] == STRIP_HEIGHT and strip.min() >= 0.0 and strip.max() == 1.0
        assert text.isdigit() and 1 <= len(text) <= MAX_DIGITS
        lengths.add(len(text))
        # About a digit's width per digit, or less where they overlap.
        assert strip.shape[1] < len(text) * 1.6 * STRIP_DIGIT + 2 * STRIP_PAD
    assert len(lengths) >= 6


def test_best_path_collapses_runs_and_blanks() -> None:
    path = [3, 3, BLANK, 3, BLANK, BLANK, 5, 5, 5]  # "3", "3" again after a blank, "5"
    probabilities = np.full((len(path), BLANK + 1), 0.01, np.float32)
    probabilities[np.arange(len(path)), path] = 0.9
    digits = _best_path(probabilities)
    assert "".join(d.digit for d in digits) == "335"
    assert [d.columns for d in digits] == [
        (0, 2 * COLUMNS_PER_FRAME),
        (3 * COLUMNS_PER_FRAME, 4 * COLUMNS_PER_FRAME),
        (6 * COLUMNS_PER_FRAME, 9 * COLUMNS_PER_FRAME),
    ]
    assert digits[0].top[0][0] == "3" and digits[0].top[0][1] > 0.9


def test_a_saved_reader_loads_to_the_same_readings(tmp_path) -> None:
    torch.manual_seed(0)
    reader = LineReader(LineNet(width=8))
    strips = [np.random.default_rng(1).random((STRIP_HEIGHT, 60), dtype=np.float32)]
    path = reader.save(tmp_path / "line.safetensors", {"width": 8})
    again = LineReader.load(path)
    first, second = reader.read(strips, ["12"])[0], again.read(strips, ["12"])[0]
    assert first.text == second.text
    assert first.other_log_probability == pytest.approx(second.other_log_probability)


def test_the_shipped_reader_reads_lines_of_digits_it_never_saw() -> None:
    reader = load_line_reader()
    assert reader is not None
    digits = load_test_set("mnist").head(2000)  # test digits: the reader trains on others
    rng = np.random.default_rng(5)
    lines = [drawn_strip(digits, rng) for _ in range(200)]
    readings = reader.read([strip for strip, _ in lines], [text for _, text in lines])
    right = [r.text == text for r, (_, text) in zip(readings, lines, strict=True)]
    assert np.mean(right) >= 0.8
    # The right text's probability, asked for, is the reading's own where it read right.
    for reading, ok in zip(readings, right, strict=True):
        if ok:
            assert reading.other_log_probability == pytest.approx(reading.log_probability)


class _Reader:
    """Stands in for the line reader: reads every strip as `text`, `margin` nats surer than
    segmentation's reading."""

    def __init__(self, text: str, margin: float, log_probability: float = -0.1) -> None:
        self.text, self.margin, self.log_probability = text, margin, log_probability

    def read(self, strips, others=None, alternatives=None):
        digits = [
            LineDigit(d, (8 * k + 4, 8 * k + 12), [(d, 0.9), ("0", 0.1)])
            for k, d in enumerate(self.text)
        ]
        lp = self.log_probability
        return [LineReading(self.text, digits, lp, lp - self.margin) for _ in strips]


def _segmented_line() -> tuple[list, list[DigitCrop], list[DigitReading]]:
    from digitrec.vision.strips import LineStrip

    image = np.zeros((STRIP_HEIGHT, 36), np.float32)
    image[6:26, 4:28] = 1.0
    strip = LineStrip(image, 0, np.arange(36) * 2.0 + 100, 40, 80)
    crop = DigitCrop((108, 40, 48, 40), np.zeros((28, 28), np.float32), 0)
    other_line = DigitCrop((100, 200, 20, 40), np.zeros((28, 28), np.float32), 1)
    readings = [DigitReading("0", 0.7, [("0", 0.7)]), DigitReading("5", 0.99, [("5", 0.99)])]
    return [strip], [crop, other_line], readings


@pytest.mark.parametrize(
    ("text", "margin", "expected"),
    [
        ("30", LINE_MARGIN, "305"),  # a line read as two digits, surer: taken
        ("30", LINE_MARGIN - 0.5, "05"),  # not sure enough: segmentation's kept
        ("8", SAME_LENGTH_MARGIN - 0.5, "05"),  # same length: must be surer still
        ("8", SAME_LENGTH_MARGIN, "85"),
        ("10", ONE_MORE_MARGIN, "105"),  # a 1 that touched the 0, found by the line reader
        ("10", ONE_MORE_MARGIN - 0.5, "05"),
        ("30", ONE_MORE_MARGIN, "05"),  # another digit more needs LINE_MARGIN
        ("", 50.0, "05"),  # reading nothing does not take a line's digits away
    ],
)
def test_the_line_reader_replaces_a_line_only_when_much_surer(
    text: str, margin: float, expected: str
) -> None:
    strips, crops, readings = _segmented_line()
    crops, readings = reread_lines(_Reader(text, margin), strips, crops, readings)
    assert "".join(r.digit for r in readings) == expected
    assert len(crops) == len(readings)
    if expected == "305":
        # The two digits split the line's ink halfway between their centres, on its rows.
        (x0, y0, w0, h0), (x1, *_) = readings[0].box, readings[1].box
        assert (y0, h0) == (40, 40) and x0 == 108 and x0 + w0 <= x1 + 1
        assert crops[0].image.shape == (28, 28) and crops[0].image.max() == pytest.approx(1.0)
        assert readings[2].digit == "5" and crops[2].line == 1  # the other line untouched


@pytest.mark.parametrize(
    ("text", "probability", "expected"),
    [
        ("30", VOUCH_PROBABILITY + 0.05, "30"),  # sure of two digits: the line is read so
        ("30", VOUCH_PROBABILITY - 0.05, ""),  # not sure enough: the page stays unread
        ("3", 0.99, ""),  # one digit is too easily a speck read surely
    ],
)
def test_the_line_reader_vouches_for_a_line_of_an_unsure_page(
    text: str, probability: float, expected: str
) -> None:
    strips, crops, _ = _segmented_line()
    reader = _Reader(text, 0.0, float(np.log(probability)))
    crops, readings = vouched_lines(reader, strips, crops)
    assert "".join(r.digit for r in readings) == expected
    assert len(crops) == len(readings)  # the other line, without a strip, is not vouched for
    assert all(crop.line == 0 for crop in crops)


def test_no_line_is_vouched_for_among_many_candidates_elsewhere() -> None:
    # A texture (gravel) gives candidates on many lines; one of them read surely as two digits
    # is chance, not a number: the vouched line must hold VOUCH_SHARE of the candidates.
    strips, crops, _ = _segmented_line()
    reader = _Reader("30", 0.0, float(np.log(0.99)))
    assert "".join(r.digit for r in vouched_lines(reader, strips, crops)[1]) == "30"
    elsewhere = [
        DigitCrop((100 + 30 * k, 300 + 60 * k, 20, 40), np.zeros((28, 28), np.float32), 2 + k)
        for k in range(3)
    ]
    crops, readings = vouched_lines(reader, strips, crops + elsewhere)
    assert crops == [] and readings == []


class _Weigher(_Reader):
    """Reads every strip as nothing (so no line is replaced) but finds the line likelier by
    `gain` nats written as `favoured`, and 1 nat less likely written any other way."""

    def __init__(self, favoured: str, gain: float) -> None:
        super().__init__("", 0.0)
        self.favoured, self.gain = favoured, gain

    def read(self, strips, others=None, alternatives=None):
        readings = super().read(strips, others, alternatives)
        return [
            replace(
                reading,
                alternative_log_probabilities=tuple(
                    reading.other_log_probability + (self.gain if t == self.favoured else -1.0)
                    for t in texts
                ),
            )
            for reading, texts in zip(readings, alternatives, strict=True)
        ]


@pytest.mark.parametrize(("gain", "expected"), [(1.0, "65"), (0.2, "05")])
def test_the_line_reader_has_a_second_opinion_on_each_digit(gain: float, expected: str) -> None:
    # The classifier reads the first line's digit 0 (0.55) or 6 (0.40): the line reader, finding
    # the line 1 nat likelier as a 6, tips it (log 0.40 + 0.5 > log 0.55); 0.2 nats do not.
    strips, crops, readings = _segmented_line()
    readings[0] = DigitReading("0", 0.55, [("0", 0.55), ("6", 0.40), ("8", 0.05)], (1, 2, 3, 4))
    crops, kept = reread_lines(_Weigher("6", gain), strips, crops, readings)
    assert "".join(r.digit for r in kept) == expected
    if expected == "65":
        assert kept[0].confidence == pytest.approx(0.40) and kept[0].low_confidence
        assert kept[0].box == (1, 2, 3, 4) and kept[0].top == readings[0].top


def test_alternatives_are_weighed_as_other_readings_are() -> None:
    reader = load_line_reader()
    digits = load_test_set("mnist").head(200)
    rng = np.random.default_rng(7)
    lines = [drawn_strip(digits, rng) for _ in range(6)]
    strips, texts = [s for s, _ in lines], [t for _, t in lines]
    alternatives = [[text, "1" + text, text[:-1]] for text in texts]
    readings = reader.read(strips, texts, alternatives)
    for reading in readings:
        assert len(reading.alternative_log_probabilities) == 3
        assert reading.alternative_log_probabilities[0] == pytest.approx(
            reading.other_log_probability, abs=1e-4
        )
    again = reader.read(strips, [a[1] for a in alternatives])
    for reading, other in zip(readings, again, strict=True):
        assert reading.alternative_log_probabilities[1] == pytest.approx(
            other.other_log_probability, abs=1e-4
        )


def test_harvested_strips_are_labelled_with_their_lines_digits() -> None:
    from digitrec.data.line_strips import MAX_STRIP, harvest_strips
    from digitrec.data.synthetic_photos import GlyphSource, make_set

    glyphs = GlyphSource(mnist_part="tune", use_fonts=False)
    images, widths, texts, done = harvest_strips(12, 3, glyphs=glyphs)
    written = {p.text for p in make_set(12, 3, ("number", "number", "single"), glyphs)}
    assert done == 12 and len(texts) >= 10 and images.shape[1:] == (STRIP_HEIGHT, MAX_STRIP)
    # Each strip is the digits of a number as written, in order; most of them the whole number
    # (one of two lines is a part, and so is a line whose digit segmentation missed).
    assert sum(text in written for text in texts) >= 0.6 * len(texts)
    assert all(any(text in number for number in written) for text in texts)
    for image, width in zip(images, widths, strict=True):
        assert image[:, :width].max() == 255 and not image[:, width:].any()


def _run_together(images: np.ndarray, overlap: float, scale: int = 3) -> np.ndarray:
    """MNIST digits written into one another: each digit's ink starts `overlap` of the last
    digit's width before that digit's ink ends. Dark ink on white paper, (H, W) uint8."""
    from PIL import Image

    glyphs = []
    for image in images:
        rows, cols = np.flatnonzero(image.max(axis=1)), np.flatnonzero(image.max(axis=0))
        tight = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        size = (tight.shape[1] * scale, tight.shape[0] * scale)
        glyphs.append(np.asarray(Image.fromarray(tight).resize(size, Image.Resampling.BILINEAR)))
    height = max(g.shape[0] for g in glyphs)
    ink = np.zeros((height, sum(g.shape[1] for g in glyphs)), np.uint8)
    x = 0
    for glyph in glyphs:
        top = (height - glyph.shape[0]) // 2
        area = ink[top : top + glyph.shape[0], x : x + glyph.shape[1]]
        np.maximum(area, glyph, out=area)
        x += round(glyph.shape[1] * (1 - overlap))
    return np.pad(255 - ink[:, : x + round(glyphs[-1].shape[1] * overlap)], 40, constant_values=255)


def test_digits_run_together_read_better_with_the_line_reader(mnist_parts) -> None:
    from digitrec.models.loading import load_classifier
    from digitrec.predictor import Predictor

    _, test = mnist_parts
    classifier = load_classifier("default")
    with_lines, without = Predictor(classifier), Predictor(classifier, line_reader=None)
    rng = np.random.default_rng(8)
    right = {"with": 0, "without": 0}
    for _ in range(30):
        indices = rng.choice(np.arange(5000, 10000), size=rng.integers(2, 5), replace=False)
        text = "".join(str(label) for label in test.labels[indices])
        image = _run_together(test.images[indices], overlap=0.3)
        right["with"] += with_lines.read_image(image).text == text
        right["without"] += without.read_image(image).text == text
    assert right["with"] >= 20 and right["with"] >= right["without"] + 10, right


def test_a_digit_model_is_no_line_reader() -> None:
    from digitrec.errors import ModelFileError
    from digitrec.models.loading import resolve_model_path

    with pytest.raises(ModelFileError, match="not a line reader"):
        LineReader.load(resolve_model_path("small"))
