"""A pen lying on the page told from the writing (vision.outsized)."""

import cv2
import numpy as np

from digitrec.vision.outsized import outsized_strokes


def _labels(*strokes: list[tuple[int, int]], width: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A label image with one polyline per component, and the components' boxes."""
    labels = np.zeros((500, 600), np.int32)
    for number, points in enumerate(strokes, start=1):
        cv2.polylines(labels, [np.array(points, np.int32)], False, number, width)
    boxes = []
    for k in range(1, len(strokes) + 1):
        rows, cols = np.nonzero(labels == k)
        boxes.append((rows.min(), cols.min(), rows.max() + 1, cols.max() + 1))
    return labels, np.array(boxes)


def test_a_long_straight_stroke_beside_a_smaller_digit_is_outsized() -> None:
    seven = [(100, 150), (160, 150), (130, 260)]  # 110 px tall, bent
    pen = [(300, 40), (420, 460)]  # 420 px, straight
    labels, boxes = _labels(seven, pen)
    assert list(outsized_strokes(labels, boxes, min_height=8)) == [False, True]


def test_a_one_is_not_outsized() -> None:
    # As tall as the digit beside it; alone; or among other 1s: no neighbour it towers over.
    seven = [(100, 150), (160, 150), (130, 260)]
    one = [(250, 150), (240, 262)]
    labels, boxes = _labels(seven, one)
    assert not outsized_strokes(labels, boxes, min_height=8).any()
    labels, boxes = _labels([(300, 40), (320, 460)])
    assert not outsized_strokes(labels, boxes, min_height=8).any()
    labels, boxes = _labels([(300, 40), (320, 460)], [(400, 40), (410, 460)])
    assert not outsized_strokes(labels, boxes, min_height=8).any()
    # Nor beside a speck too small to be writing, nor one far smaller than the 1, nor a 7's
    # bar written apart from the 1 that is its stem (flat, wider than tall).
    for other in ([(100, 100), (101, 101)], [(100, 100), (103, 110)], [(200, 45), (290, 45)]):
        labels, boxes = _labels([(300, 40), (320, 460)], other, width=3)
        assert not outsized_strokes(labels, boxes, min_height=8).any()


def test_a_sixs_stem_written_apart_from_its_loop_is_not_outsized() -> None:
    # The loop, wider than tall (64x57), is writing all the same; the stem, 1.6 times as tall,
    # is no pen. (Counting only components at least as tall as wide, the stem was taken for one
    # beside the 18-px tail of the loop's stroke.)
    stem = [(260, 100), (200, 189)]
    loop = np.array([(190, 210), (254, 210), (254, 267), (190, 267), (190, 210)])
    tail = [(185, 200), (183, 218)]
    labels, boxes = _labels(stem, loop.tolist(), tail, width=6)
    assert not outsized_strokes(labels, boxes, min_height=8).any()
