"""Digits written in the boxes of a form, one to a box: the boxes are taken out, not read."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor
from digitrec.vision.rules import box_lines, label

CELL = 90  # a box's side, px
DIGIT = 80  # an MNIST digit drawn in it at this size


@pytest.fixture(scope="module")
def predictor():
    return Predictor(load_classifier("default"))


def test_box_lines_are_the_outline_and_the_walls_not_what_they_hold():
    mask = np.zeros((40, 70), bool)
    mask[5:7, 5:65] = mask[33:35, 5:65] = True  # top and bottom
    mask[5:35, 5:7] = mask[5:35, 33:35] = mask[5:35, 63:65] = True  # sides and a wall
    mask[12:28, 18] = mask[12:28, 48] = True  # a "1" in each box
    lines = box_lines(label(mask))
    assert lines[5, 30] and lines[34, 60] and lines[20, 5] and lines[20, 34] and lines[20, 64]
    assert not lines[12:28, 18].any() and not lines[12:28, 48].any()
    assert not lines[~mask].any()  # only the mask's own pixels


def test_a_digit_with_one_straight_side_is_no_box():
    seven = np.zeros((30, 24), bool)
    seven[2:4, 2:22] = True  # the bar runs the whole width
    for row in range(4, 28):
        seven[row, 20 - (row - 4) * 16 // 24 : 22 - (row - 4) * 16 // 24] = True
    assert not box_lines(label(seven)).any()
    frame_only_three_sides = np.zeros((30, 30), bool)
    frame_only_three_sides[2:4, 2:28] = frame_only_three_sides[2:28, 2:4] = True
    frame_only_three_sides[26:28, 2:28] = True
    assert not box_lines(label(frame_only_three_sides)).any()


def _form(test, indices, *, gap: int, width: int = 2) -> np.ndarray:
    """The digits drawn dark on white in a row of boxes, `gap` px apart (0: joined boxes)."""
    step = CELL + gap
    image = Image.new("L", (40 + len(indices) * step, 200), 255)
    draw = ImageDraw.Draw(image)
    for slot, index in enumerate(indices):
        x0 = 20 + slot * step
        draw.rectangle((x0, 50, x0 + CELL, 50 + CELL), outline=0, width=width)
        digit = Image.fromarray(255 - test.images[index]).resize((DIGIT, DIGIT))
        spot = (x0 + 5, 55, x0 + 5 + DIGIT, 55 + DIGIT)
        image.paste(Image.fromarray(np.minimum(np.asarray(image.crop(spot)), digit)), spot[:2])
    return np.asarray(image)


def _photographed(form: np.ndarray, seed: int) -> np.ndarray:
    light = np.linspace(0.7, 0.9, form.shape[1])[None, :]
    noise = np.random.default_rng(seed).normal(0, 5, form.shape)
    return np.clip(form * light + noise, 0, 255).astype(np.uint8)


def test_numbers_written_in_boxes_are_read(predictor, mnist_parts):
    # Before the boxes were taken out, the drawn forms read 6 of these 8 numbers (joined
    # boxes) and 0 (boxes apart), the photographed ones 8 and 0; now all 8 of each.
    _, test = mnist_parts
    rng = np.random.default_rng(5)
    right = {"joined": 0, "apart": 0, "joined photo": 0, "apart photo": 0}
    for number in range(8):
        indices = rng.choice(np.arange(5000, 10000), size=rng.integers(3, 7), replace=False)
        text = "".join(str(test.labels[index]) for index in indices)
        for gap, name in ((0, "joined"), (12, "apart")):
            form = _form(test, indices, gap=gap)
            right[name] += predictor.read_image(form).text == text
            right[f"{name} photo"] += predictor.read_image(_photographed(form, number)).text == text
    assert min(right.values()) >= 7, right
