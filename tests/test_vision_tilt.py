"""The angle of a number's line, and turning an image back by it (vision.tilt)."""

import numpy as np
import pytest

from digitrec.vision.tilt import box_back, line_angle, turned


def _boxes_along(angle: float, count: int = 5, step: int = 60, height: int = 50) -> list:
    """Digit boxes (x, y, w, h) whose centres climb `angle` degrees to the right."""
    rise = step * np.tan(np.radians(angle))
    return [(100 + step * k, round(400 - rise * k), 30, height) for k in range(count)]


@pytest.mark.parametrize("angle", [12.0, 20.0, -25.0])
def test_a_steadily_climbing_line_gives_its_angle(angle: float) -> None:
    assert line_angle(_boxes_along(angle)) == pytest.approx(angle, abs=1.0)


def test_no_angle_for_a_level_line_too_few_digits_or_two_level_lines() -> None:
    assert line_angle(_boxes_along(3.0)) is None  # the model reads that as it is
    assert line_angle(_boxes_along(20.0, count=2)) is None
    # Two level lines, the second beside the first and lower: one jump, no steady climb.
    two_lines = [(100, 400, 30, 50), (160, 400, 30, 50), (220, 330, 30, 50), (280, 330, 30, 50)]
    assert line_angle(two_lines) is None


def test_a_box_in_the_turned_image_maps_back_onto_the_original() -> None:
    image = np.full((300, 500), 255, np.uint8)
    image[100:140, 300:330] = 0  # the "digit": x 300-329, y 100-139
    level, back = turned(image, 20.0)
    assert level.shape[0] > image.shape[0] and level.shape[1] > image.shape[1]  # all of it
    rows, cols = np.nonzero(level < 128)
    found = (cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1)
    x, y, w, h = box_back(found, back, image.shape)
    # The turned square's bounding box, mapped back, holds the square, and is no more than the
    # bounding box of a bounding box, each turned 20 degrees (56 x 60 px), and a pixel.
    assert x <= 300 and y <= 100 and x + w >= 330 and y + h >= 140
    assert w <= 58 and h <= 62


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, bool, np.float64])
def test_any_image_type_the_reader_takes_can_be_turned(dtype) -> None:
    image = np.zeros((40, 60), dtype=dtype)
    level, _ = turned(image, 15.0)
    assert level.ndim == 2 and level.shape[0] > 40
