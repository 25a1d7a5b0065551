"""Segmentation of numbers built from real MNIST test digits pasted on synthetic paper."""

import functools
import gzip
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from digitrec.data.synthetic_photos import TRAIN_PART, GlyphSource, make_photo
from digitrec.vision import look, segment
from digitrec.vision.grouping import Blob, cut, find_blobs, tentative_halves, upper_quartile
from digitrec.vision.lines import reading_order
from digitrec.vision.look import WORK_SIZE, work_image
from digitrec.vision.pieces import DigitCrop, Pieces
from digitrec.vision.segment import segment_digits

MNIST = Path(__file__).resolve().parents[1] / "digitrec/data/mnist"
COUNT = 1000
Box = tuple[int, int, int, int]


@functools.lru_cache(maxsize=1)
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as stream:
        images = np.frombuffer(stream.read(16 + COUNT * 784), np.uint8, offset=16)
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as stream:
        labels = np.frombuffer(stream.read(8 + COUNT), np.uint8, offset=8)
    return images.reshape(COUNT, 28, 28), labels


def _upright(count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of MNIST digits taller than wide (most are; a wide one may pass for two)."""
    images, _ = _mnist()
    rows, cols = (images > 0).any(axis=2).sum(axis=1), (images > 0).any(axis=1).sum(axis=1)
    return rng.choice(np.flatnonzero(cols <= 0.85 * rows), count, replace=False)


def _digit(index: int, scale: float) -> np.ndarray:
    """MNIST digit cut to its ink and enlarged: ink coverage in [0, 1]."""
    image = _mnist()[0][index].astype(np.float32) / 255
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    tight = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    size = (round(tight.shape[1] * scale), round(tight.shape[0] * scale))
    enlarged = Image.fromarray(tight).resize(size, Image.Resampling.BICUBIC)
    return np.clip(np.asarray(enlarged), 0.0, 1.0)


def _paste(ink: np.ndarray, digit: np.ndarray, x: int, y: int) -> Box:
    """Paste at (x, y); the box of the clear ink, without MNIST's faintest fringe."""
    height, width = digit.shape
    ink[y : y + height, x : x + width] = np.maximum(ink[y : y + height, x : x + width], digit)
    rows, cols = np.flatnonzero((digit > 0.4).any(axis=1)), np.flatnonzero((digit > 0.4).any(0))
    return x + cols[0], y + rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1


def _number(
    indices: np.ndarray, *, scale: float = 4.0, gap: int = 16, shape: tuple[int, int] = (0, 0)
) -> tuple[np.ndarray, list[Box]]:
    """Ink coverage of the digits side by side (gap < 0: overlapping), and their boxes."""
    digits = [_digit(i, scale) for i in indices]
    width = sum(d.shape[1] + gap for d in digits) + 80
    ink = np.zeros((max(shape[0], round(28 * scale) + 80), max(shape[1], width)), np.float32)
    x, boxes = 40, []
    for digit in digits:
        boxes.append(_paste(ink, digit, x, 40))
        x += digit.shape[1] + gap
    return ink, boxes


def _paper(ink: np.ndarray, paper: float = 0.9) -> np.ndarray:
    """Dark ink on light paper, as a photo or scan shows it."""
    return paper * (1.0 - 0.85 * ink)


def _centres_x(crops: list[DigitCrop]) -> list[float]:
    return [c.box[0] + c.box[2] / 2 for c in crops]


def _assert_found(crops: list[DigitCrop], boxes: list[Box], tolerance: float = 4.0) -> None:
    """One crop per box, in the same order, each box matched within `tolerance` px."""
    assert len(crops) == len(boxes)
    for crop, expected in zip(crops, boxes, strict=True):
        assert np.abs(np.subtract(crop.box, expected)).max() <= tolerance, (crop.box, expected)


@functools.lru_cache(maxsize=1)
def _classifier():
    from digitrec.models.loading import load_classifier

    return load_classifier("default")


def _read(crops: list[DigitCrop]) -> np.ndarray:
    return _classifier().predict_proba(np.stack([c.image for c in crops])).argmax(axis=1)


@pytest.mark.parametrize("count", [2, 3, 5, 8])
def test_count_order_and_boxes(count: int) -> None:
    indices = _upright(count, np.random.default_rng(count))
    ink, boxes = _number(indices, scale=3.0 + count % 3)
    stages: dict[str, np.ndarray] = {}
    crops = segment_digits(_paper(ink), stages=stages)
    _assert_found(crops, boxes)
    assert _centres_x(crops) == sorted(_centres_x(crops))
    assert all(c.line == 0 for c in crops)
    # The stages are pictures of the working copy, shrunk to WORK_SIZE.
    work = work_image(_paper(ink), WORK_SIZE)[0].shape
    assert stages["ink"].shape == work and stages["mask"].dtype == bool
    assert stages["boxes"].shape == (*work, 3) and stages["boxes"].dtype == np.uint8


def test_crops_are_mnist_style() -> None:
    ink, _ = _number(_upright(4, np.random.default_rng(1)), scale=5.0)
    for crop in segment_digits(_paper(ink)):
        image = crop.image
        assert image.shape == (28, 28) and image.dtype == np.float32
        assert image.min() >= 0.0 and image.max() == pytest.approx(1.0)
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)


def test_generated_numbers_read_correctly() -> None:
    rng = np.random.default_rng(7)
    labels, found, read = _mnist()[1], 0, []
    for _ in range(20):
        indices = _upright(int(rng.integers(2, 7)), rng)
        ink, _ = _number(indices, scale=rng.uniform(2.5, 6.0), gap=int(rng.integers(6, 30)))
        crops = segment_digits(_paper(ink, paper=rng.uniform(0.7, 1.0)))
        found += len(crops) == len(indices)
        if len(crops) == len(indices):
            read.extend(_read(crops) == labels[indices])
    assert found >= 19
    assert np.mean(read) >= 0.9


def test_a_short_stroke_alone_on_its_own_line_is_no_digit() -> None:
    # A fibre or a bit of the paper's edge above a number: a third of a digit tall, alone.
    indices = _upright(4, np.random.default_rng(8))
    ink, boxes = _number(indices, scale=4.0, shape=(260, 0))
    ink[185:215, 200:204] = 0.9
    crops = segment_digits(_paper(ink))
    _assert_found(crops, boxes)


def test_two_lines_top_line_first() -> None:
    rng = np.random.default_rng(3)
    top, top_boxes = _number(_upright(3, rng), shape=(300, 500))
    bottom, bottom_boxes = _number(_upright(4, rng))
    page = np.zeros((top.shape[0] + bottom.shape[0], 500), np.float32)
    page[: top.shape[0], : top.shape[1]] = top
    page[top.shape[0] :, : bottom.shape[1]] = bottom
    shifted = [(x, y + top.shape[0], w, h) for x, y, w, h in bottom_boxes]
    crops = segment_digits(_paper(page))
    _assert_found(crops, top_boxes + shifted, tolerance=6)
    assert [c.line for c in crops] == [0, 0, 0, 1, 1, 1, 1]


def test_slightly_sloping_line_is_one_line() -> None:
    indices = _upright(6, np.random.default_rng(4))
    ink = np.zeros((260, 900), np.float32)
    boxes = [_paste(ink, _digit(i, 4.0), 40 + 130 * k, 40 + 14 * k) for k, i in enumerate(indices)]
    crops = segment_digits(_paper(ink))
    _assert_found(crops, boxes, tolerance=6)
    assert {c.line for c in crops} == {0}


@pytest.mark.parametrize("uphill", [True, False])
def test_a_steeply_sloping_number_is_one_line_in_order(uphill: bool) -> None:
    # 25 degrees: each digit's rows overlap its neighbour's too little to chain them as they
    # lie, so the lines fall side by side, a staircase, until the blobs are levelled.
    indices = _upright(6, np.random.default_rng(12))
    rise = 130 * np.tan(np.radians(25)) * (1 if uphill else -1)
    ink = np.zeros((900, 900), np.float32)
    boxes = [
        _paste(ink, _digit(i, 3.5), 40 + 130 * k, round(420 - rise * k))
        for k, i in enumerate(indices)
    ]
    crops = segment_digits(_paper(ink))
    _assert_found(crops, boxes, tolerance=6)
    assert {c.line for c in crops} == {0}


def test_a_short_piece_on_a_sloping_line_joins_the_line() -> None:
    # Digits 100 px tall, each 30 px higher than the last; a 5's detached bar to the right of
    # the third one's body, level with the fourth's top: it shares 10 of its 30 rows with the
    # third, all of them with the fourth, which must still follow the third on its line.
    digits = [
        Blob((k,), (200 - 30 * k, 100 * k + 10, 300 - 30 * k, 100 * k + 70)) for k in range(4)
    ]
    bar = Blob((4,), (120, 270, 150, 330))
    assert reading_order([*digits, bar]) == [[0, 1, 2, 4, 3]]


def _five(gap: int, bar: int = 10, width: int = 400) -> np.ndarray:
    """A pen-drawn 5 whose top bar (`bar` px thick) is detached from the body by `gap` px, and
    a 3 beside it, on a page `width` px wide."""
    image = Image.new("L", (width, 260), 0)
    draw = ImageDraw.Draw(image)
    draw.line([(70, 50), (150, 50)], fill=255, width=bar)
    draw.line([(72, 50 + gap), (68, 118)], fill=255, width=10)
    draw.arc([(60, 95), (150, 205)], start=-160, end=140, fill=255, width=10)
    draw.arc([(230, 50), (310, 130)], start=-160, end=90, fill=255, width=10)
    draw.arc([(225, 125), (315, 210)], start=-90, end=160, fill=255, width=10)
    return np.asarray(image, dtype=np.float32) / 255


def test_detached_top_bar_of_a_five_is_one_digit() -> None:
    crops = segment_digits(_paper(_five(gap=18)))
    assert len(crops) == 2
    _, y, w, h = crops[0].box
    assert y <= 46 and y + h >= 205 and w < 110
    assert list(_read(crops)) == [5, 3]


def test_a_thinner_detached_bar_of_a_five_in_a_photo_is_one_digit() -> None:
    # The bar drawn lighter, 6 px where the body is 10, on a page wide enough for the photo
    # pipeline: a straight flat piece, but no thinner-than-a-pen ruled line's fragment.
    crops = segment_digits(_paper(_five(gap=18, bar=6, width=1100)))
    assert len(crops) == 2
    _, y, w, h = crops[0].box
    assert y <= 48 and y + h >= 205 and w < 110
    assert list(_read(crops)) == [5, 3]


def test_a_slanted_sixs_detached_stem_is_one_digit_with_its_loop() -> None:
    # The stem leans right from above the loop, sharing under half its columns with it (a third
    # of them): dropped as a stroke of its own, the loop reads as a 0.
    image = Image.new("L", (400, 260), 0)
    draw = ImageDraw.Draw(image)
    draw.line([(118, 112), (172, 70)], fill=255, width=10)
    draw.ellipse([(60, 118), (140, 205)], outline=255, width=10)
    draw.arc([(230, 50), (310, 130)], start=-160, end=90, fill=255, width=10)
    draw.arc([(225, 125), (315, 210)], start=-90, end=160, fill=255, width=10)
    crops = segment_digits(_paper(np.asarray(image, dtype=np.float32) / 255))
    assert len(crops) == 2
    x, y, w, h = crops[0].box
    assert x <= 62 and y <= 68 and x + w >= 170 and y + h >= 204
    assert list(_read(crops)) == [6, 3]


def test_touching_digits_are_split() -> None:
    indices = _upright(6, np.random.default_rng(5))
    ink, boxes = _number(indices, scale=4.0, gap=-3)
    crops = segment_digits(_paper(ink))
    assert len(crops) == len(indices)
    centres = np.array(_centres_x(crops))
    expected = np.array([x + w / 2 for x, _, w, _ in boxes])
    assert np.abs(centres - expected).max() < 12
    assert np.mean(_read(crops) == _mnist()[1][indices]) >= 0.8


def test_ruled_lines_are_removed() -> None:
    indices = _upright(5, np.random.default_rng(6))
    ink, boxes = _number(indices, scale=4.0, gap=20)
    # Notebook lines across the page: one through the digits, one just under them, and a
    # margin line down the left side.
    for row in (80, 40 + 112 + 6):
        ink[row : row + 3] = np.maximum(ink[row : row + 3], 0.8)
    ink[:, 20:23] = np.maximum(ink[:, 20:23], 0.8)
    crops = segment_digits(_paper(ink))
    _assert_found(crops, boxes, tolerance=8)
    assert np.mean(_read(crops) == _mnist()[1][indices]) >= 0.8


def test_dark_border_and_specks_are_ignored() -> None:
    indices = _upright(4, np.random.default_rng(8))
    ink, boxes = _number(indices, scale=4.0, shape=(300, 700))
    page = _paper(ink)
    rng = np.random.default_rng(9)
    for y, x in zip(rng.integers(0, 300, 40), rng.integers(0, 700, 40), strict=True):
        page[y : y + 3, x : x + 3] = 0.2
    # The dark table around the photographed sheet, wider at the bottom right.
    page[:12], page[:, :10], page[-30:], page[:, -45:] = 0.15, 0.15, 0.15, 0.15
    crops = segment_digits(page)
    _assert_found(crops, boxes, tolerance=6)


@pytest.mark.parametrize("angle", [-7, 5])
def test_table_around_a_tilted_sheet_is_ignored(angle: float) -> None:
    indices = _upright(4, np.random.default_rng(11))
    ink, _ = _number(indices, scale=4.0, shape=(400, 700))
    sheet = np.pad(_paper(ink), 60, constant_values=0.9)
    photo = ndimage.rotate(sheet, angle, reshape=True, order=1, cval=0.15)
    assert list(_read(segment_digits(photo))) == list(_mnist()[1][indices])


@pytest.mark.parametrize("side", ["right", "bottom"])
def test_a_page_photographed_close_with_a_strip_of_desk_along_one_side_is_read(side: str) -> None:
    # The page runs off three sides of the photo, a dark desk shows along the fourth: the strip
    # is a band across the photo as the page is, and was taken for a dark sheet, its edge for
    # the sheet's, and the digits looked for in it: none found.
    indices = _upright(6, np.random.default_rng(5))
    ink, _ = _number(indices, scale=2.0, gap=6, shape=(270, 420))
    photo = _paper(ink)
    if side == "right":
        photo[:, -100:] = 0.25
    else:
        photo[-60:] = 0.25
    photo += np.random.default_rng(0).normal(0, 0.01, photo.shape)
    assert list(_read(segment_digits(photo))) == list(_mnist()[1][indices])


def test_a_small_number_near_the_sheets_edge_is_read_up_close_on_the_sheet() -> None:
    # A small sheet on a dark, grainy table, a small number written close to its edge: the look
    # up close at the number takes in the table beside it, where the grain read as digits and
    # the table's edge as a "1" unless it keeps to the sheet the first look found.
    rng = np.random.default_rng(3)
    for _ in range(3):
        indices = _upright(6, rng)
        digits = [_digit(i, 0.6) for i in indices]
        ink = np.zeros((270, 200), np.float32)
        x = 165 - sum(d.shape[1] + 3 for d in digits)
        for digit in digits:
            _paste(ink, digit, x, 130)
            x += digit.shape[1] + 3
        paper = np.full(ink.shape, 0.24, np.float32)
        paper[25:250, 20:170] = 0.84
        photo = paper - 0.5 * ink * (paper - 0.12) + rng.normal(0, 0.024, ink.shape)
        assert list(_read(segment_digits(np.clip(photo, 0, 1)))) == list(_mnist()[1][indices])


@pytest.mark.parametrize(
    "page",
    [
        np.full((300, 400), 0.9),
        np.zeros((300, 400), np.uint8),
        np.tile(np.linspace(0.3, 0.95, 400), (300, 1)),
        np.clip(0.8 + np.random.default_rng(0).normal(0, 0.05, (300, 400)), 0, 1),
    ],
    ids=["white", "black", "gradient", "noise"],
)
def test_no_digits_on_blank_flat_or_noisy_page(page: np.ndarray) -> None:
    assert segment_digits(page) == []


def _on_12mp_page(ink: np.ndarray, boxes: list[Box], y0: int, x0: int):
    """A 4000x3000 grey page with the number's ink at (y0, x0), and the digits' boxes there."""
    page = np.full((3000, 4000), 230, np.uint8)
    height, width = ink.shape
    page[y0 : y0 + height, x0 : x0 + width] = np.round(_paper(ink) * 255).astype(np.uint8)
    return page, [(x + x0, y + y0, w, h) for x, y, w, h in boxes]


def test_boxes_in_original_coordinates_of_a_large_photo() -> None:
    indices = _upright(4, np.random.default_rng(10))
    page, boxes = _on_12mp_page(*_number(indices, scale=14.0, gap=60), 1300, 900)
    crops = segment_digits(page)
    # One working pixel is 9 original ones here: a box edge may fall a working pixel either
    # way of the drawn ink's (a faint stroke end), not more.
    _assert_found(crops, boxes, tolerance=2 * 4000 / WORK_SIZE)


def test_a_small_number_on_a_12_megapixel_page_is_looked_for_closer() -> None:
    # Digits ~56 px tall on a 4000x3000 page are ~6 px in the working copy, under MIN_DIGIT_PX:
    # found and read only by the second, closer look.
    indices = _upright(4, np.random.default_rng(11))
    page, boxes = _on_12mp_page(*_number(indices, scale=2.8, gap=14), 1400, 1700)
    crops = segment_digits(page)
    _assert_found(crops, boxes, tolerance=2 * 4000 / (segment.LOOK_CLOSER * WORK_SIZE))
    assert list(_read(crops)) == list(_mnist()[1][indices])


def _spy_on_segment(monkeypatch) -> list[tuple[int, ...]]:
    """The shapes of the images find_pieces segments, in order."""
    seen, real = [], segment.look_at

    def spying(gray, *args, **kwargs):
        seen.append(np.shape(gray)[:2])
        return real(gray, *args, **kwargs)

    monkeypatch.setattr(segment, "look_at", spying)
    return seen


def test_small_digits_in_a_small_photo_are_read_from_an_enlarged_copy(monkeypatch) -> None:
    # Digits ~15 px tall in a small photo: the part around them is segmented again enlarged,
    # and the boxes come back in the photo's own pixels.
    photo, boxes = _small_photo()
    seen = _spy_on_segment(monkeypatch)
    crops = segment.find_pieces(photo).by_geometry()
    # The part around the digits (ZOOM_MARGIN digit heights of room), segmented enlarged.
    height = float(np.median([b[3] for b in boxes]))
    around = boxes[-1][0] + boxes[-1][2] - boxes[0][0] + 2 * segment.ZOOM_MARGIN * height
    assert len(seen) == 2 and seen[1][1] > 1.5 * min(around, photo.shape[1])
    _assert_found(crops, boxes, tolerance=2)


def _small_photo(grain: float = 0.02) -> tuple[np.ndarray, list[Box]]:
    """Digits ~15 px tall in a 150x250 photo (paper `grain` and shading, so no clean scan)."""
    indices = _upright(4, np.random.default_rng(21))
    ink, boxes = _number(indices, scale=0.75, gap=6, shape=(150, 250))
    rng = np.random.default_rng(22)
    shade = np.linspace(0.0, 0.12, ink.shape[1])[None, :]
    return np.clip(_paper(ink) - shade + rng.normal(0, grain, ink.shape), 0, 1), boxes


def test_the_part_around_small_digits_is_not_searched_for_a_sheet(monkeypatch) -> None:
    # Cut out of the page, the paper runs off the part's edges; a strip of table beside it
    # passed for the sheet there, and the digits, outside it, went. The first look, at the
    # whole photo, searches (and the part keeps to what it found).
    searched, real = [], look.find_sheet
    monkeypatch.setattr(look, "find_sheet", lambda g: searched.append(g.shape) or real(g))
    seen = _spy_on_segment(monkeypatch)
    photo, _ = _small_photo(grain=0.04)  # grainy enough that the enlarged part is no clean scan
    assert not segment.find_pieces(photo).clean
    assert len(seen) == 2 and searched == [photo.shape]


@pytest.mark.parametrize("dtype, top", [(np.int32, 255), (np.int64, 255), (np.uint16, 65535)])
def test_integer_photos_of_any_width_read_as_bytes_do(dtype, top: int) -> None:
    # As arrays from the Python API: grey and RGB, through the enlarged closer look too.
    photo, _ = _small_photo()
    as_bytes = np.round(photo * 255).astype(np.uint8)
    for image in (as_bytes, np.repeat(as_bytes[:, :, None], 3, axis=2)):
        expected = [c.box for c in segment.find_pieces(image).crops]
        wide = (image.astype(np.int64) * top // 255).astype(dtype)
        assert expected and [c.box for c in segment.find_pieces(wide).crops] == expected


def test_a_clean_small_digit_is_not_enlarged(monkeypatch) -> None:
    # An MNIST digit as it is, 28x28: the fast path for clean images reads it once.
    seen = _spy_on_segment(monkeypatch)
    crops = segment.find_pieces(_mnist()[0][0]).by_geometry()
    assert len(crops) == 1 and seen == [(28, 28)]


@pytest.mark.parametrize("height, kept", [(40, True), (120, True), (150, False)])
def test_the_closer_look_keeps_only_digits_too_small_for_the_first(
    monkeypatch, height: int, kept: bool
) -> None:
    # On a 4000-px page the first look finds digits down to MIN_DIGIT_PX x 4000 / WORK_SIZE,
    # ~71 px: a 150-px candidate that only the closer look finds is something the first look
    # saw and dropped (a sheet's edge), a 40-px one a digit too small for it, and a 120-px one
    # one it may have seen too faint (thin strokes averaged out).
    crop = DigitCrop((100, 100, height // 2, height), np.zeros((28, 28), np.float32), 0)
    # The first look, the closer one, and (for a small find) the zoom, here finding nothing more.
    looks = iter([Pieces([], []), Pieces([crop], []), Pieces([], [])])
    monkeypatch.setattr(
        segment, "look_at", lambda gray, stages, work_size, *rest, **options: next(looks)
    )
    pieces = segment.find_pieces(np.zeros((3000, 4000), np.float32), zoom=True)
    assert [c.box for c in pieces.crops] == ([crop.box] if kept else [])
    assert pieces.second_look == kept


def test_a_12_megapixel_photo_is_averaged_into_the_working_copy() -> None:
    # Sampled every few pixels before averaging, the working copy keeps the page's level and
    # a thin pen stroke at the contrast that averaging all pixels would give it.
    rng = np.random.default_rng(4)
    photo = np.clip(rng.normal(200, 20, (3000, 4000, 3)), 0, 255).astype(np.uint8)
    photo[1500:1509] = 40  # a 9-px stroke: one working pixel's width
    small, scale = work_image(photo, WORK_SIZE)
    assert max(small.shape) == WORK_SIZE and scale[1] == pytest.approx(4000 / WORK_SIZE)
    assert np.median(small) == pytest.approx(200 / 255, abs=0.02)
    assert small.std(axis=1)[: small.shape[0] // 3].max() < 0.05  # noise averaged away
    row = round(1504 / scale[0])
    assert small[row - 2 : row + 3].min() < 0.5


@pytest.mark.parametrize("angle", [-4.0, 2.5, 6.0])
def test_sloping_ruled_lines_are_removed(angle: float) -> None:
    """Notebook lines on a slightly rotated sheet: too steep for a horizontal run, thin and
    broken by the threshold, their fragments must not become flat "digits"."""
    indices = _upright(5, np.random.default_rng(12))
    ink, boxes = _number(indices, scale=4.0, gap=24, shape=(420, 0))
    width = ink.shape[1]
    lines = Image.new("L", (width, ink.shape[0]), 0)
    draw = ImageDraw.Draw(lines)
    rise = width * np.tan(np.radians(angle))
    for y in np.arange(-abs(rise), ink.shape[0] + abs(rise), 100.0):
        draw.line([(0, y), (width, y + rise)], fill=150, width=2)
    ink = np.maximum(ink, np.asarray(lines, np.float32) / 255)
    crops = segment_digits(_paper(ink))
    _assert_found(crops, boxes, tolerance=8)
    assert np.mean(_read(crops) == _mnist()[1][indices]) >= 0.8


def test_soft_glare_on_a_board_is_not_a_digit() -> None:
    """Chalk digits on a dark board with a bright, soft hot spot beside them."""
    indices = _upright(3, np.random.default_rng(13))
    ink, boxes = _number(indices, scale=4.0, shape=(400, 700))
    rows, cols = np.mgrid[: ink.shape[0], : ink.shape[1]]
    glare = 0.35 * np.exp(-((rows - 300) ** 2 + (cols - 500) ** 2) / (2 * 45.0**2))
    board = np.clip(0.18 + glare + 0.7 * ink, 0, 1)
    crops = segment_digits(board)
    _assert_found(crops, boxes, tolerance=8)


@pytest.mark.parametrize("blur", [12.0, 16.0])
def test_a_band_of_shadow_beside_dust_is_no_digit(blur: float) -> None:
    """A blank sheet with a few crisp specks of dust and a digit-sized band of shadow whose
    edges fade over a few px: crisp enough for ink alone, far softer than the dust."""
    page = np.full((480, 640), 0.9, np.float32)
    band = np.zeros_like(page)
    band[150:330, 420:460] = 1.0
    page -= 0.35 * ndimage.gaussian_filter(band, blur)
    for y, x in ((60, 80), (400, 150), (200, 250), (90, 560)):
        page[y : y + 4, x : x + 4] = 0.25
    assert segment_digits(page) == []


def test_dust_and_fibres_on_a_blank_page_are_no_digits() -> None:
    rng = np.random.default_rng(14)
    image = Image.new("L", (640, 480), 240)
    draw = ImageDraw.Draw(image)
    for _ in range(60):  # faint paper fibres
        x, y = rng.uniform(0, 640), rng.uniform(0, 480)
        dx, dy = rng.normal(0, 6, 2)
        draw.line([(x, y), (x + dx, y + dy), (x + 2 * dx, y + 2 * dy)], fill=225)
    for _ in range(6):  # dark dust specks
        x, y, r = rng.uniform(5, 635), rng.uniform(5, 475), rng.uniform(0.5, 1.5)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.uniform(40, 150)))
    page = np.asarray(image, np.float32) / 255 + rng.normal(0, 0.015, (480, 640))
    assert segment_digits(np.clip(page, 0, 1)) == []


def test_small_digits_far_apart_on_a_big_page_are_not_segmented_at_full_size(
    monkeypatch,
) -> None:
    # Two small digits in opposite corners of a 12-MP page: the zoom region around them would
    # be the whole page, segmented at full size for seconds. They are read where first found.
    page = np.full((3000, 4000), 0.9, np.float32)
    corners = ((200, 200), (2600, 3600))
    for index, (y, x) in zip(_upright(2, np.random.default_rng(2)), corners, strict=True):
        digit = _digit(index, 5.0)
        page[y : y + digit.shape[0], x : x + digit.shape[1]] *= 1 - 0.85 * digit
    sizes = []
    original = segment.look_at

    def recorded(gray, stages, work_size, *rest, **options):
        sizes.append(work_size)
        return original(gray, stages, work_size, *rest, **options)

    monkeypatch.setattr(segment, "look_at", recorded)
    crops = segment.segment_digits(page)
    assert len(crops) == 2
    assert max(sizes) <= segment.ZOOM_MAX_SIDE


def test_merging_sees_a_bounded_number_of_pieces(monkeypatch) -> None:
    # Merging is cubic in the piece count: a page of thousands of ink bits once took minutes.
    from digitrec.vision import grouping

    rng = np.random.default_rng(3)
    page = np.full((1200, 1200), 235, np.uint8)
    ys, xs = rng.integers(0, 1190, (2, 4000))
    for y, x in zip(ys, xs, strict=True):
        page[y : y + rng.integers(3, 10), x : x + rng.integers(3, 10)] = 30
    seen: list[int] = []
    real_merge = grouping.merge_pieces

    def counting_merge(parts, height):
        seen.append(len(parts))
        return real_merge(parts, height)

    monkeypatch.setattr(grouping, "merge_pieces", counting_merge)
    segment_digits(page)
    assert seen and max(seen) <= grouping.MAX_PIECES


def test_a_blob_two_columns_wide_cut_in_two_has_no_path_to_cut_along() -> None:
    # The least-ink path is looked for strictly inside the blob: two columns leave no room,
    # which once raised on an empty array (a synthetic photo of a number, below).
    labels = np.zeros((20, 8), np.int32)
    labels[2:18, 2:4] = 1
    parts = cut(Blob((1,), (2, 2, 18, 4)), labels, 2)
    assert [part.box for part in parts] == [(2, 2, 18, 3), (2, 3, 18, 4)]
    glyphs = GlyphSource(mnist_part=TRAIN_PART, use_fonts=False)
    photo = make_photo(np.random.default_rng([14000, 1508]), "number", glyphs)
    segment_digits(photo.image)


def test_a_blob_that_may_be_two_digits_is_offered_whole_and_cut_in_two() -> None:
    labels = np.zeros((120, 400), np.int32)
    labels[10:110, 20:112] = 1  # 0.92 as wide as tall: one wide digit, or two touching
    labels[10:110, 200:250] = 2  # 0.5: one digit
    (wide, narrow), _ = find_blobs(labels, 8)
    assert narrow.halves is None
    assert wide.halves is not None and len(wide.halves) == 2
    parts = tentative_halves([(wide, 0), (narrow, 0)])
    assert [part.box for part, _ in parts][2] == narrow.box
    left, right = (part for part, _ in parts[:2])
    assert left.group == right.group is not None
    assert left.box[1] == 20 and right.box[3] == 112 and left.box[3] <= right.box[1]


def test_a_flat_piece_beside_a_digit_is_kept_a_dash_apart_is_not() -> None:
    labels = np.zeros((120, 400), np.int32)
    labels[10:110, 60:72] = 1  # a 7's stem
    labels[10:22, 20:52] = 2  # its bar, written apart: 8 px from the stem, flat
    labels[10:22, 150:190] = 3  # a dash 78 px away
    blobs, _ = find_blobs(labels, 8)
    assert sorted(blob.box for blob in blobs) == [(10, 20, 22, 52), (10, 60, 110, 72)]


def test_upper_quartile_is_numpys_75th_percentile() -> None:
    rng = np.random.default_rng(4)
    for size in (1, 2, 3, 4, 5, 7, 12, 40):
        heights = rng.integers(3, 300, size).tolist()
        assert upper_quartile(heights) == float(np.percentile(heights, 75))
        floats = rng.random(size) * 100
        assert upper_quartile(floats) == pytest.approx(float(np.percentile(floats, 75)))
    assert upper_quartile(iter([10, 40, 20, 30])) == 32.5  # any iterable, in any order
    with pytest.raises(ValueError):
        upper_quartile([])


def test_a_reader_told_there_is_one_digit_gets_no_halves_of_a_clean_image() -> None:
    page = np.full((160, 200), 255, np.uint8)
    cv2.ellipse(page, (100, 80), (44, 50), 0, 0, 360, 0, 8)  # a 0, 0.9 as wide as tall
    offered = segment.find_pieces(page)
    assert len(offered.crops) == 2 and [j.tentative for j in offered.joins] == [True]
    told = segment.find_pieces(page, one_digit=True)
    assert len(told.crops) == 1 and not told.joins
    assert all(crop.context is not None for crop in offered.crops)
    assert told.crops[0].context is None  # no choice for the gate to weigh
    # A photo's blob is still cut: each half grows by the faint ink on its side (completed).
    rng = np.random.default_rng(3)
    shade = np.linspace(0.0, 0.12, page.shape[1])[None, :]
    photo = np.clip(page / 255 * 0.9 - shade + rng.normal(0, 0.02, page.shape), 0, 1)
    assert len(segment.find_pieces(photo, one_digit=True).crops) == 2
    assert told.crops[0].box == offered.joins[0].crop.box
    np.testing.assert_array_equal(told.crops[0].image, offered.joins[0].crop.image)


def test_two_slanted_strokes_touching_are_cut_along_their_slant() -> None:
    # Two parallel strokes leaning right (a slanted 1 against a slanted 1), joined by a short
    # bridge: any straight column through the blob crosses both, the cut follows the gap.
    labels = np.zeros((120, 200), np.int32)
    first = np.zeros_like(labels, dtype=bool)
    second = np.zeros_like(first)
    for row in range(10, 110):
        lean = (110 - row) * 2 // 5  # 40 px over 100 rows
        first[row, 20 + lean : 28 + lean] = True
        second[row, 62 + lean : 70 + lean] = True
    labels[first | second] = 1
    labels[58:61, 28 + 20 : 62 + 20] = 1  # the bridge, at mid height
    (blob,), relabelled = find_blobs(labels, 8)
    assert blob.halves is not None
    left, right = blob.halves
    assert relabelled[first].tolist().count(left.ids[0]) == first.sum()
    assert set(relabelled[second].tolist()) == set(right.ids)
    assert labels.max() == 1  # the input is left as it was


def test_the_context_image_keeps_the_lines_scale() -> None:
    """A fragment half as tall as the line's digits fills digit_image's 20-px box as a whole
    digit does, but only half as much of its context image."""
    ink = np.zeros((120, 300), np.float32)
    labels = np.zeros(ink.shape, np.int32)
    ink[10:110, 40:50] = labels[10:110, 40:50] = 1  # a "1", 100 px tall
    ink[35:85, 150:160] = 1.0
    labels[35:85, 150:160] = 2  # a stroke half as tall
    rules = np.zeros(ink.shape, bool)

    def rows(image: np.ndarray) -> int:
        tall = np.flatnonzero(image.max(axis=1) > 0.5)
        return int(tall[-1] - tall[0] + 1)

    digit, piece = Blob((1,), (10, 40, 110, 50)), Blob((2,), (35, 150, 85, 160))
    assert rows(look.digit_image(ink, labels, piece, rules)) == rows(
        look.digit_image(ink, labels, digit, rules)
    )
    whole = rows(look.context_image(ink, labels, digit, rules, 100.0))
    half = rows(look.context_image(ink, labels, piece, rules, 100.0))
    assert whole == pytest.approx(28 / look.CONTEXT_SPAN, abs=2)
    assert half == pytest.approx(whole / 2, abs=2)
