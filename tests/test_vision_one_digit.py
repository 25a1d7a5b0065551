"""Told an image holds one digit: the pieces that make it (vision.one_digit)."""

import cv2
import numpy as np

from digitrec.data.synthetic_photos import GlyphSource, make_photo
from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor
from digitrec.single_digit import as_one_digit
from digitrec.vision.one_digit import around_largest
from digitrec.vision.pieces import DigitCrop, Pieces
from digitrec.vision.segment import find_pieces


def _crop(x: int, y: int, w: int, h: int) -> DigitCrop:
    return DigitCrop((x, y, w, h), np.zeros((28, 28), np.float32), line=0)


def test_pieces_near_the_largest_are_kept_and_far_ones_left_out() -> None:
    digit = _crop(100, 100, 40, 60)
    broken_off = _crop(145, 110, 10, 20)  # 5 px to its right: a stroke cut by a grid line
    chained = _crop(158, 130, 8, 8)  # beside that piece, 18 px from the digit
    grid_line = _crop(400, 90, 4, 70)  # far to the right
    speck = _crop(60, 300, 3, 3)  # far below
    crops = [speck, digit, grid_line, broken_off, chained]
    assert around_largest(crops, (500, 500)) == [digit, broken_off, chained]
    assert around_largest([grid_line], (500, 500)) == [grid_line]


def test_a_piece_running_off_the_image_is_not_taken_for_the_digit() -> None:
    digit = _crop(100, 300, 40, 60)
    shadow = _crop(60, 0, 50, 200)  # larger, but running off the top: a hand's shadow
    assert around_largest([shadow, digit], (470, 260)) == [digit]
    # Where every piece touches the edge, the largest is still taken.
    assert around_largest([shadow, _crop(0, 400, 40, 60)], (470, 260)) == [shadow]


def test_a_digit_beside_a_shadow_running_off_the_photo_is_read() -> None:
    # A synthetic photo (tune half): a red 4 below a hand's shadow that reaches in from the
    # photo's top edge. The shadow, a soft bar larger than the 4, was taken for the digit: "1".
    photo = make_photo(np.random.default_rng([7022, 291]), "single", GlyphSource(mnist_part="tune"))
    predictor = Predictor(load_classifier("default"))
    assert predictor.read_image(photo.image, single=True).text == photo.text == "4"


def test_a_grid_lines_fragment_away_from_the_digit_is_not_read_into_it() -> None:
    # A synthetic photo (tune half) whose single-digit reading took a fragment of the squared
    # paper's line, far from the 6, into the digit's box and read "2". Since the look up close
    # keeps to the sheet (segment.find_pieces), the fragment is no longer found at all; the
    # rule that would leave it out is tested above.
    glyphs = GlyphSource(mnist_part="tune", use_fonts=False)
    photo = make_photo(np.random.default_rng([7002, 452]), "single", glyphs)
    predictor = Predictor(load_classifier("default"))
    assert predictor.read_image(photo.image, single=True).text == photo.text == "6"


def test_a_digit_cropped_to_its_pieces_keeps_them_all() -> None:
    # Cropped to the digit, every piece is the digit's, however far apart: a 4's stroke written
    # apart, further from its stem than around_largest reaches. In a photo around them, it goes.
    def never(_: np.ndarray) -> list:
        raise AssertionError("one way to read them only: nothing to choose")

    arm, stem = _crop(0, 10, 8, 50), _crop(70, 0, 20, 100)
    assert around_largest([arm, stem], (100, 90)) == [stem]
    cropped = np.full((100, 90), 235, np.uint8)
    cropped[10:60, 0:8] = cropped[0:100, 70:90] = 30
    (digit,) = as_one_digit(cropped, Pieces([arm, stem], []), never).crops
    assert digit.box == (0, 0, 90, 100)
    page = np.full((300, 300), 235, np.uint8)
    page[:100, :90] = cropped
    assert as_one_digit(page, Pieces([arm, stem], []), never).crops == [stem]


def test_a_stroke_written_apart_below_the_digit_is_part_of_it() -> None:
    # A 3 whose bottom stroke stands apart, under half its height: on a page that is a stray
    # line beside a number and left out; told there is one digit, it is the digit's.
    image = np.full((300, 300), 235, np.uint8)
    cv2.ellipse(image, (150, 100), (45, 40), 0, -160, 110, 30, thickness=9)
    cv2.ellipse(image, (150, 165), (60, 25), 0, 0, 180, 30, thickness=9)
    predictor = Predictor(load_classifier("default"))
    assert [crop.box[1] + crop.box[3] for crop in predictor.preprocess(image)] == [146]
    (digit,) = predictor.preprocess(image, single=True)
    x, y, w, h = digit.box
    assert y <= 56 and y + h >= 195 and x <= 90 and x + w >= 210


def test_a_digit_in_pieces_on_ruled_paper_is_read_from_its_own_ink() -> None:
    # A synthetic photo (tune half): a 3 on ruled paper, found in five pieces. Normalized
    # afresh from the grey image around them, the ruled lines came in and it read "2"; the
    # look offers the pieces together from their own ink, which reads "3".
    glyphs = GlyphSource(mnist_part="tune", use_fonts=False)
    photo = make_photo(np.random.default_rng([7022, 673]), "single", glyphs)
    pieces = find_pieces(photo.image, one_digit=True)
    last = len(pieces.crops) - 1
    assert last >= 1 and (pieces.joins[0].first, pieces.joins[0].last) == (0, last)
    predictor = Predictor(load_classifier("default"))
    assert predictor.read_image(photo.image, single=True).text == photo.text == "3"


def test_a_fives_bar_written_well_apart_is_part_of_it() -> None:
    # A tune photo: a small 5 whose bar stands apart from its stem by about a sixth of its
    # height. On a page that is too far for a bar of the digit's (a dash beside a number);
    # told there is one digit, it is the digit's, which without it read "3".
    photo = make_photo(np.random.default_rng([7042, 630]), "single", GlyphSource(mnist_part="tune"))
    predictor = Predictor(load_classifier("default"))
    assert predictor.read_image(photo.image, single=True).text == photo.text == "5"
