"""An image read whole as one digit cropped tight to its ink (vision.tight_digit)."""

import cv2
import numpy as np
from scipy import ndimage

from digitrec.data.synthetic_photos import GlyphSource, cropped_to_digits, make_photo
from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor
from digitrec.vision.tight_digit import tight_digit


def _bold_zero(paper: float = 0.85, ink: float = 0.2) -> np.ndarray:
    """A bold, blurred "0" in a marker's stroke, cropped to its ink: it touches all four edges."""
    canvas = np.zeros((140, 100), np.uint8)
    cv2.ellipse(canvas, (50, 70), (38, 58), 0, 0, 360, 255, thickness=20)
    strength = cv2.GaussianBlur(canvas.astype(np.float32) / 255, (7, 7), 2)
    rows, cols = np.flatnonzero(canvas.any(axis=1)), np.flatnonzero(canvas.any(axis=0))
    strength = strength[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    noise = np.random.default_rng(0).normal(0, 0.02, strength.shape)
    return np.clip(paper + (ink - paper) * strength + noise, 0, 1).astype(np.float32)


def test_a_bold_digit_cropped_tight_is_normalized_as_mnist() -> None:
    image = _bold_zero()
    crop = tight_digit(image)
    assert crop is not None
    x, y, w, h = crop.box
    assert x <= 2 and y <= 2 and x + w >= image.shape[1] - 2 and y + h >= image.shape[0] - 2
    digit = crop.image
    assert digit.shape == (28, 28) and digit.max() == 1.0
    rows = np.flatnonzero(digit.max(axis=1) > 0.05)
    assert 19 <= rows[-1] - rows[0] + 1 <= 21  # the longer side in MNIST's 20-px box
    cy, cx = ndimage.center_of_mass(digit)
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1
    assert digit[14, 14] < 0.1 and digit[14, 4:10].max() > 0.8  # the ring, not a blob
    # Light chalk on a dark board: the ink is what touches less of the border.
    inverted = tight_digit(_bold_zero(paper=0.15, ink=0.9))
    assert inverted is not None and np.abs(inverted.image - digit).max() < 0.1


def test_what_is_no_tight_crop_of_one_digit_is_not_read_whole() -> None:
    # A sheet of paper on a dark table: two colours, the light one spanning the image, but a
    # solid patch, no pen's stroke; nor is the dark half of a shadow across a page.
    page = np.full((300, 400), 0.2, np.float32)
    page[20:285, 25:380] = 0.9
    assert tight_digit(page) is None
    shadow = np.tile(np.linspace(0.3, 0.9, 400, dtype=np.float32), (300, 1))
    assert tight_digit(shadow) is None
    # A small digit on a page: its ink spans little of the image.
    page_with_digit = np.full((300, 400), 0.85, np.float32)
    page_with_digit[100:170, 150:200] = cv2.resize(_bold_zero(), (50, 70))
    assert tight_digit(page_with_digit) is None
    # A faint digit on grainy paper: no threshold parts the two, the paper's grain passes for
    # strokes everywhere.
    grain = np.random.default_rng(1).normal(0, 0.15, _bold_zero().shape)
    assert tight_digit(np.clip(_bold_zero(ink=0.6) + grain, 0, 1)) is None
    # Two shades of the paper, a light shading's: too little contrast for ink.
    assert tight_digit(_bold_zero(paper=0.85, ink=0.78)) is None
    # Edges rising over many pixels, as a shadow's penumbra does, are no pen's.
    assert tight_digit(cv2.GaussianBlur(_bold_zero(), (0, 0), 5)) is None


def test_a_texture_of_many_loops_or_pieces_is_no_digit() -> None:
    # A brick wall: thin dark mortar lines spanning the image, crisp, on even bricks, like a
    # digit in all but its many loops. Pebbles: many strokes apart, where a digit has few.
    wall = np.full((240, 320), 0.8, np.float32)
    for row, y in enumerate(range(0, 240, 40)):
        cv2.line(wall, (0, y), (319, y), 0.3, 6)
        for x in range(row % 2 * 40, 320, 80):
            cv2.line(wall, (x, y), (x, y + 40), 0.3, 6)
    assert tight_digit(cv2.GaussianBlur(wall, (3, 3), 0)) is None
    rng = np.random.default_rng(2)
    pebbles = np.full((240, 320), 0.85, np.float32)
    for y in range(20, 240, 50):
        for x in range(20, 320, 60):
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(pebbles, (x, y), (18, 12), angle, 0, 200, 0.3, 5)
    assert tight_digit(cv2.GaussianBlur(pebbles, (3, 3), 0)) is None


def test_photos_cropped_to_their_digit_read_right() -> None:
    # Cropped to its box, a bold digit fills the image and runs off its edges, where
    # segmentation looks for the paper's edge; read whole (tight_digit), 56 of these 60 read
    # right told there is one digit (51 without the whole reading) and 51 as any image (31).
    glyphs = GlyphSource(mnist_part="tune", use_fonts=False)
    predictor = Predictor(load_classifier("default"))
    told = unsaid = 0
    for index in range(60):
        photo = make_photo(np.random.default_rng([31, index]), "single", glyphs)
        cropped = cropped_to_digits(photo, 0.0).image
        told += predictor.read_image(cropped, single=True).text == photo.text
        unsaid += predictor.read_image(cropped).text == photo.text
    assert told >= 54
    assert unsaid >= 46
