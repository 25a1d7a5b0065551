"""Pieces of one digit joined by what the model reads: candidates, the choice, end to end."""

import numpy as np
import pytest
from PIL import Image

from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor
from digitrec.vision.grouping import Blob
from digitrec.vision.joins import JOIN_COST, SPLIT_COST, choose_segments, join_candidates
from digitrec.vision.segment import segment_digits


def _blob(x0: int, x1: int, y0: int = 0, y1: int = 100, ids: tuple[int, ...] = (1,)) -> Blob:
    return Blob(ids, (y0, x0, y1, x1))


def test_neighbours_close_and_narrow_enough_are_candidates() -> None:
    # The halves of a 0 (a gap of 6 px), then a digit 40 px on, then one on the next line.
    blobs = [_blob(0, 30), _blob(36, 66), _blob(106, 160), _blob(0, 60, 150, 250)]
    joins = join_candidates(blobs, [0, 0, 0, 1])
    assert [(j.first, j.last) for j in joins] == [(0, 1)]
    assert joins[0].blob.box == (0, 0, 100, 66)


def test_runs_of_three_pieces_and_the_width_limit() -> None:
    thirds = [_blob(0, 30, ids=(1,)), _blob(32, 60, ids=(2,)), _blob(62, 90, ids=(3,))]
    runs = [(j.first, j.last) for j in join_candidates(thirds, [0, 0, 0])]
    assert runs == [(0, 1), (0, 2), (1, 2)]
    wide = [_blob(0, 80), _blob(84, 160)]  # together 1.6 digit heights wide
    assert join_candidates(wide, [0, 0]) == []


def test_split_parts_of_one_component_join_back_to_it() -> None:
    parts = [_blob(0, 40, ids=(7,)), _blob(40, 80, ids=(7,))]
    (join,) = join_candidates(parts, [0, 0])
    assert join.blob.ids == (7,)


def test_halves_of_a_blob_cut_tentatively_join_back_at_the_split_cost() -> None:
    halves = [Blob((5,), (0, 0, 100, 45), group=0), Blob((5,), (0, 45, 100, 90), group=0)]
    (join,) = join_candidates(halves, [0, 0])
    assert (join.first, join.last, join.cost) == (0, 1, SPLIT_COST)
    assert join.blob.box == (0, 0, 100, 90)
    # Not when the halves ended up apart (another piece between them in reading order).
    between = [halves[0], _blob(46, 60, y0=120, y1=150, ids=(6,)), halves[1]]
    assert all(j.cost == JOIN_COST for j in join_candidates(between, [0, 0, 0]))


def test_each_join_is_weighed_at_its_own_cost() -> None:
    unsure, joined = np.log(0.6), np.log(0.5)  # apart -1.02, together -0.69
    assert choose_segments([unsure, unsure], [(0, 1)], [joined], [0.0]) == [(0, 1)]
    assert choose_segments([unsure, unsure], [(0, 1)], [joined], [1.0]) == [(0, 0), (1, 1)]


def test_the_likelier_reading_is_chosen() -> None:
    unsure, sure = np.log(0.4), np.log(0.99)
    # Two unsure halves, read as one sure digit, then a digit alone.
    assert choose_segments([unsure, unsure, sure], [(0, 1)], [sure]) == [(0, 1), (2, 2)]
    # Two sure digits stay apart even though their union reads surely too.
    assert choose_segments([sure, sure], [(0, 1)], [sure]) == [(0, 0), (1, 1)]
    # A join must gain more than JOIN_COST.
    barely = np.log(0.4 * 0.4) + JOIN_COST / 2
    assert choose_segments([unsure, unsure], [(0, 1)], [barely]) == [(0, 0), (1, 1)]
    # The best of overlapping runs: three pieces as one digit beats two of them joined.
    runs, scores = [(0, 1), (1, 2), (0, 2)], [np.log(0.5), np.log(0.5), sure]
    assert choose_segments([unsure] * 3, runs, scores) == [(0, 2)]


@pytest.fixture(scope="module")
def predictor():
    return Predictor(load_classifier("default"))


def _cut_number(mnist_parts, rng: np.random.Generator) -> tuple[np.ndarray, str, int]:
    """Three MNIST test digits, dark on white, the middle one (a wide 0) cut in two by a
    vertical strip of paper, as a removed grid line leaves it; and how many pieces it has."""
    _, test = mnist_parts
    zeros = np.flatnonzero(test.labels[5000:] == 0) + 5000
    others = np.flatnonzero(np.isin(test.labels[5000:], [1, 4, 7])) + 5000
    first, last = rng.choice(others, 2, replace=False)
    zero = rng.choice(zeros)
    tiles = []
    for index in (first, zero, last):
        tile = np.asarray(Image.fromarray(test.images[index]).resize((112, 112)), np.float32)
        tiles.append(tile)
    middle = tiles[1]
    cols = np.flatnonzero(middle.max(axis=0) > 60)
    centre = (cols[0] + cols[-1]) // 2
    middle[:, centre - 3 : centre + 3] = 0
    spacer = np.zeros((112, 24), np.float32)
    row = np.hstack([tiles[0], spacer, middle, spacer, tiles[2]])
    page = np.pad(255 - row, 40, constant_values=255).astype(np.uint8)
    text = "".join(str(test.labels[i]) for i in (first, zero, last))
    return page, text, len(segment_digits(page))


def test_a_digit_cut_in_two_is_read_as_one(predictor, mnist_parts) -> None:
    rng = np.random.default_rng(11)
    cases = [_cut_number(mnist_parts, rng) for _ in range(8)]
    # Geometry alone leaves the halves apart: the test would not see the joining otherwise.
    assert sum(pieces > 3 for _, _, pieces in cases) >= 6
    right = sum(predictor.read_image(page).text == text for page, text, _ in cases)
    assert right >= 7, right
