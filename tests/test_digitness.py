"""The digitness check: the marks it learns from, how well it tells digits from scribbles and
letters it never saw, and the reader's flag on a lone mark it doubts."""

import cv2
import numpy as np
import pytest

from digitrec.data.datasets import load_test_set
from digitrec.data.non_digit_crops import NonDigitGlyphs, harvest_non_digits
from digitrec.data.non_digits import bar_like, framed, marks, scribble
from digitrec.data.synthetic_photos import GlyphSource, make_photo
from digitrec.digitness import DOUBTED_DIGITS, digit_probability, load_digitness
from digitrec.predictor import Predictor


def test_marks_are_half_digits_framed_like_mnist() -> None:
    images, labels = marks(200, seed=5)
    assert images.shape == (200, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [0, 1] * 100
    again, _ = marks(10, seed=5)  # mark i of a seed is the same whatever the count
    assert np.array_equal(again, images[:10])
    # Framed as MNIST: the ink's longer side 20 px (MNIST's own digits about so too).
    sides = []
    for image in images:
        rows, cols = np.nonzero(image > 0)
        sides.append(max(np.ptp(rows), np.ptp(cols)) + 1)
    assert np.mean((np.array(sides) >= 18) & (np.array(sides) <= 22)) >= 0.95


def test_a_bar_is_bar_like_whichever_way_it_leans_and_a_box_is_not() -> None:
    canvas = np.zeros((60, 60), np.float32)
    cv2.line(canvas, (10, 50), (45, 8), 1.0, 4)  # a slanted 1
    assert bar_like(framed(np.random.default_rng(0), canvas))
    box = np.zeros((60, 60), np.float32)
    cv2.rectangle(box, (10, 10), (50, 50), 1.0, 4)
    assert not bar_like(framed(np.random.default_rng(0), box))


def test_a_photo_of_non_digits_yields_candidates_that_are_no_bars() -> None:
    photo = make_photo(np.random.default_rng(3), "number", NonDigitGlyphs())
    assert photo.text  # the photo generator still thinks it wrote digits
    crops, photos = harvest_non_digits(6, seed=2)
    assert photos == 6 and len(crops) >= 6
    assert not any(bar_like(crop / 255.0) for crop in crops)


def test_the_check_passes_mnist_test_digits() -> None:
    digits = load_test_set("mnist").subset(slice(0, 1000))
    probability = digit_probability(load_digitness(), digits.images.astype(np.float32) / 255)
    assert np.mean(probability >= DOUBTED_DIGITS) >= 0.985


def test_the_check_doubts_scribbles_and_letters_of_fonts_it_never_saw() -> None:
    # The eval fonts' letters (the check trains on the training fonts') and scribbles of seeds
    # it never drew, framed as the reader frames a mark.
    glyphs = NonDigitGlyphs(part="eval")
    rng = np.random.default_rng(77)
    drawn = [framed(rng, glyphs.drawers["letter"](rng)) for _ in range(100)]
    drawn += [framed(rng, scribble(rng)) for _ in range(100)]
    probability = digit_probability(load_digitness(), np.stack(drawn))
    assert np.mean(probability < 0.5) >= 0.8


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    from digitrec.models.loading import load_classifier

    return Predictor(load_classifier("default"))


def _page_with(draw: "callable[[np.ndarray], None]") -> np.ndarray:  # type: ignore[valid-type]
    page = np.full((480, 640, 3), 236, np.uint8)
    draw(page)
    return cv2.GaussianBlur(page, (3, 3), 0)


def test_a_scribble_the_model_reads_as_a_sure_digit_is_flagged(predictor: Predictor) -> None:
    def tangle(page: np.ndarray) -> None:
        t = np.linspace(0, 14 * np.pi, 400)
        points = np.stack([320 + 60 * np.cos(t) + 4 * t, 240 + 80 * np.sin(1.3 * t)], 1)
        cv2.polylines(page, [points.astype(np.int32)], False, (30, 30, 30), 5, cv2.LINE_AA)

    reading = predictor.read_image(_page_with(tangle))
    assert reading.text == "" or all(digit.low_confidence for digit in reading.digits)
    unchecked = Predictor(predictor.classifier, digitness=None).read_image(_page_with(tangle))
    assert unchecked.text and not unchecked.digits[0].low_confidence  # what the check changes


def test_a_clear_digit_is_not_flagged(predictor: Predictor) -> None:
    digit = load_test_set("mnist").images[0]  # a 7

    def seven(page: np.ndarray) -> None:
        big = cv2.resize(255 - digit, (200, 200), interpolation=cv2.INTER_CUBIC)
        page[140:340, 220:420] = np.minimum(page[140:340, 220:420], big[..., None])

    reading = predictor.read_image(_page_with(seven))
    assert reading.text == "7" and not reading.digits[0].low_confidence


def test_told_there_is_a_digit_a_last_look_finds_it_and_the_check_vouches(
    predictor: Predictor,
) -> None:
    # A tune photo (make_photo, seed [7002, 506]): a blurred 13-px 0 that no stroke-tested
    # look keeps; the last look at any ink finds it, and the check gives it 0.99.
    photo = make_photo(np.random.default_rng([7002, 506]), "single", GlyphSource(mnist_part="tune"))
    assert photo.text == "0"
    assert predictor.read_image(photo.image, single=True).text == "0"
    without = Predictor(predictor.classifier, digitness=None)  # no check, no last look
    assert without.read_image(photo.image, single=True).text == ""
