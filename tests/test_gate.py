"""The one-digit gate: how its training candidates are labelled, and how well it tells them."""

import numpy as np
import pytest

from digitrec.data.piece_crops import (
    NOT_ONE_DIGIT,
    ONE_DIGIT,
    UNSURE,
    covered,
    harvest_pieces,
    piece_label,
)
from digitrec.data.synthetic_photos import GlyphSource
from digitrec.gate import load_gate, one_digit_probability

# Two digits written side by side, 40 x 60 px, 10 px apart.
DIGITS = [(100, 50, 40, 60), (150, 50, 40, 60)]


def test_covered_is_the_share_of_the_first_box_inside_the_second() -> None:
    assert covered((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(0.5)
    assert covered((0, 0, 10, 10), (20, 0, 10, 10)) == 0.0
    assert covered((2, 2, 4, 4), (0, 0, 10, 10)) == 1.0


@pytest.mark.parametrize(
    ("box", "label"),
    [
        ((99, 49, 42, 62), ONE_DIGIT),  # the first digit, a pixel of slack around it
        ((100, 50, 90, 60), NOT_ONE_DIGIT),  # both digits run together
        ((100, 50, 18, 60), NOT_ONE_DIGIT),  # the left half of the first
        ((100, 80, 40, 30), NOT_ONE_DIGIT),  # its lower half
        ((100, 50, 54, 60), UNSURE),  # the first and a sliver of the second
        # Over no digit (a speck, what is left of a line): not the gate's question.
        ((300, 50, 40, 60), UNSURE),
    ],
)
def test_piece_label(box: tuple[int, int, int, int], label: int) -> None:
    assert piece_label(box, DIGITS) == label


def test_the_gate_tells_whole_digits_from_pieces_on_photos_it_never_saw() -> None:
    # Photos of MNIST *test* digits (the gate trains on training digits), no fonts.
    images, labels, _ = harvest_pieces(
        40, 11, glyphs=GlyphSource(mnist_part="tune", use_fonts=False)
    )
    assert len(labels) > 100 and 0.2 < labels.mean() < 0.8  # both kinds, from 40 photos
    one = one_digit_probability(load_gate(), images.astype(np.float32) / 255.0)
    assert np.mean((one > 0.5) == (labels == ONE_DIGIT)) >= 0.9
