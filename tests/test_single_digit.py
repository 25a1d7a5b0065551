"""Told an image holds one digit: looking harder where no look found a stroke
(digitrec.single_digit)."""

import numpy as np

from digitrec.data.datasets import load_test_set
from digitrec.data.synthetic_photos import GlyphSource, make_photo
from digitrec.digitness import load_digitness
from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor
from digitrec.readings import DigitReading
from digitrec.single_digit import (
    LAST_LOOK_CONTRAST,
    LEAST_HEIGHT,
    SINGLE_MIN_CONTRAST,
    look_harder,
    looks_like_digits,
)
from digitrec.vision.look import WORK_SIZE
from digitrec.vision.pieces import DigitCrop
from digitrec.vision.segment import find_pieces, look_enlarged


def test_a_light_pencil_digit_on_grey_paper_is_found_by_the_last_look() -> None:
    # A tune photo: a thin light-grey 9 on grey paper, whose strokes stand under
    # SINGLE_MIN_CONTRAST from the paper; no stroke-tested look keeps it, nor a last look at
    # that contrast. At LAST_LOOK_CONTRAST it is found, and the check vouches for it.
    photo = make_photo(np.random.default_rng([7002, 417]), "single", GlyphSource(mnist_part="tune"))
    assert photo.text == "9" and LAST_LOOK_CONTRAST < SINGLE_MIN_CONTRAST
    image = photo.image
    assert not find_pieces(
        image, min_contrast=SINGLE_MIN_CONTRAST, one_digit=True, any_ink=True
    ).crops
    found = look_harder(image, find_pieces(image, one_digit=True), last_look=True)
    assert found.last_look and found.crops
    predictor = Predictor(load_classifier("default"))
    assert predictor.read_image(image, single=True).text == "9"


def test_pieces_found_are_not_looked_for_again() -> None:
    image = np.full((200, 200), 235, np.uint8)
    image[50:150, 95:103] = 20  # a bold 1
    pieces = find_pieces(image, one_digit=True)
    assert pieces.crops and look_harder(image, pieces, last_look=True) is pieces


def test_a_tiny_digit_in_a_small_photo_is_found_enlarged() -> None:
    # A tune photo: an 8 14 px tall in a 396 x 264 photo, its strokes a pixel or two wide. No
    # look at the photo's own size keeps them; twice as large, they are strokes.
    photo = make_photo(np.random.default_rng([7032, 973]), "single", GlyphSource(mnist_part="tune"))
    assert photo.text == "8" and max(photo.image.shape[:2]) <= WORK_SIZE
    image = photo.image
    assert not find_pieces(image, min_contrast=SINGLE_MIN_CONTRAST, one_digit=True).crops
    enlarged = look_enlarged(image, 2.0, min_contrast=SINGLE_MIN_CONTRAST, one_digit=True)
    (x, y, w, h), (bx, by, bw, bh) = enlarged.crops[0].box, photo.boxes[0]
    assert abs(x - bx) <= 2 and abs(y - by) <= 2 and abs(w - bw) <= 2 and abs(h - bh) <= 2
    predictor = Predictor(load_classifier("default"))
    assert predictor.read_image(image, single=True).text == "8"


def test_a_tiny_digit_in_a_bigger_photo_is_found_at_twice_the_first_looks_resolution() -> None:
    # A tune photo 744 px long, which the first looks see shrunk to the working size: its 7,
    # 14 px tall, is found looking at it 896 px long.
    photo = make_photo(np.random.default_rng([7042, 234]), "single", GlyphSource(mnist_part="tune"))
    assert photo.text == "7" and WORK_SIZE < max(photo.image.shape[:2]) < 2 * WORK_SIZE
    image = photo.image
    assert not find_pieces(image, min_contrast=SINGLE_MIN_CONTRAST, one_digit=True).crops
    predictor = Predictor(load_classifier("default"))
    assert predictor.read_image(image, single=True).text == "7"


def test_what_the_last_looks_find_counts_only_at_a_digits_size() -> None:
    # A clear MNIST 7, which the check vouches for: found as a speck under LEAST_HEIGHT tall
    # (a blank page's grain, enlarged), it does not count.
    digit = load_test_set("mnist").images[0].astype(np.float32) / 255
    reading = [DigitReading("7", 0.99, [("7", 0.99)])]
    checker = load_digitness()
    tall = DigitCrop((10, 10, 12, LEAST_HEIGHT + 6), digit, 0)
    speck = DigitCrop((10, 10, 3, LEAST_HEIGHT - 1), digit, 0)
    assert looks_like_digits(checker, [tall], reading)
    assert not looks_like_digits(checker, [speck], reading)
