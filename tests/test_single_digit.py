"""Told an image holds one digit: looking harder where no look found a stroke
(digitrec.single_digit)."""

import numpy as np

from digitrec.data.synthetic_photos import GlyphSource, make_photo
from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor
from digitrec.single_digit import LAST_LOOK_CONTRAST, SINGLE_MIN_CONTRAST, look_harder
from digitrec.vision.segment import find_pieces


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
