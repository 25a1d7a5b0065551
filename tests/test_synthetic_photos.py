"""The synthetic photo generator: deterministic, well-formed, and its boxes really hold ink."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digitrec.data import synthetic_photos
from digitrec.data.synthetic_photos import GlyphSource, make_photo, make_set

COUNT = 18
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(scope="module")
def mnist_glyphs() -> GlyphSource:
    """MNIST digits only, so the photos are the same on machines with other fonts."""
    return GlyphSource(use_fonts=False)


@pytest.fixture(scope="module")
def photos(mnist_glyphs: GlyphSource) -> list[synthetic_photos.SyntheticPhoto]:
    return list(make_set(COUNT, seed=11, glyphs=mnist_glyphs))


def test_same_seed_same_photos(mnist_glyphs, photos) -> None:
    again = list(make_set(6, seed=11, glyphs=mnist_glyphs))
    for first, second in zip(photos[:6], again, strict=True):
        assert np.array_equal(first.image, second.image)
        assert (first.text, first.boxes, first.kind) == (second.text, second.boxes, second.kind)
    other = next(iter(make_set(1, seed=12, glyphs=mnist_glyphs)))
    assert not np.array_equal(other.image, photos[0].image)


def test_photos_are_well_formed(photos) -> None:
    assert [photo.kind for photo in photos] == ["single", "number", "blank"] * (COUNT // 3)
    for photo in photos:
        height, width, channels = photo.image.shape
        assert photo.image.dtype == np.uint8 and channels == 3
        assert min(width, height) >= 200 and max(width, height) <= 2000
        assert photo.text.isdigit() or photo.text == ""
        assert len(photo.text) == len(photo.boxes)
        expected = {"single": range(1, 2), "number": range(2, 9), "blank": range(0, 1)}
        assert len(photo.text) in expected[photo.kind]
        for x, y, w, h in photo.boxes:
            assert x >= 0 and y >= 0 and w > 0 and h > 0
            assert x + w <= width and y + h <= height


def test_boxes_hold_all_the_ink(monkeypatch, mnist_glyphs, photos) -> None:
    """Against the same scenes drawn with invisible ink, every box holds ink in the expected
    polarity (dark on paper, light on boards), and no ink lies outside the boxes."""
    ink = synthetic_photos.pick_ink

    def invisible_ink(rng, board):  # draws the same random numbers, so the scene is identical
        color, _, grainy = ink(rng, board)
        return color, 0.0, grainy

    monkeypatch.setattr(synthetic_photos, "pick_ink", invisible_ink)
    for photo, paper in zip(photos, make_set(COUNT, seed=11, glyphs=mnist_glyphs), strict=True):
        change = photo.image.astype(np.int16) - paper.image
        darker = change.mean(axis=2) < 0
        inside = np.zeros(change.shape[:2], bool)
        for x, y, w, h in photo.boxes:
            ink_here = np.abs(change[y : y + h, x : x + w]).max(axis=2)
            assert np.percentile(ink_here, 98) > 40
            # Blur and JPEG spread the ink a pixel or two past its box.
            inside[max(0, y - 2) : y + h + 2, max(0, x - 2) : x + w + 2] = True
        strong = np.abs(change).max(axis=2) > 40
        assert not strong[~inside].any()
        if photo.boxes:
            is_board = np.median(paper.image) < 100
            assert np.mean(darker[strong]) > 0.9 or (is_board and np.mean(darker[strong]) < 0.1)


def test_boxes_in_reading_order(photos) -> None:
    """Left to right on a line; a second line starts lower down."""
    for photo in photos:
        for (x0, y0, _, h0), (x1, y1, _, h1) in zip(photo.boxes, photo.boxes[1:], strict=False):
            assert x1 > x0 or y1 > y0 + max(h0, h1) // 2


def test_size_and_kinds(mnist_glyphs) -> None:
    rng = np.random.default_rng(0)
    photo = make_photo(rng, "number", mnist_glyphs, size=(320, 240))
    assert photo.image.shape == (240, 320, 3)
    with pytest.raises(ValueError, match="kind"):
        make_photo(rng, "letters", mnist_glyphs)


def test_works_without_fonts(monkeypatch) -> None:
    monkeypatch.setattr(synthetic_photos, "FONT_GLOBS", ("/nonexistent/fonts/*.ttf",))
    glyphs = GlyphSource()
    assert glyphs.fonts == []
    assert len(next(iter(make_set(2, seed=1, kinds=("number",), glyphs=glyphs))).text) >= 2


def test_training_photos_draw_on_other_font_families(monkeypatch, tmp_path) -> None:
    for family, name in [("bwht", "a.otf"), ("comic-neue", "b.otf"), ("dkg", "c.ttf")]:
        (tmp_path / family).mkdir()
        (tmp_path / family / name).touch()
    monkeypatch.setattr(synthetic_photos, "FONT_GLOBS", (f"{tmp_path}/*/*.*",))
    train = synthetic_photos.find_fonts(synthetic_photos.TRAIN_PART)
    assert [Path(p).name for p in train] == ["a.otf", "b.otf"]
    for part in ("tune", "eval", "all"):
        assert [Path(p).name for p in synthetic_photos.find_fonts(part)] == ["c.ttf"]


def test_files_that_draw_no_digits_are_not_used_as_fonts(monkeypatch, tmp_path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "broken.ttf").write_bytes(b"not a font")
    monkeypatch.setattr(synthetic_photos, "FONT_GLOBS", (f"{tmp_path}/*/*.ttf",))
    assert synthetic_photos.find_fonts("eval") and GlyphSource().fonts == []


@pytest.mark.skipif(not Path(DEJAVU).exists(), reason="DejaVu Sans is not installed")
def test_a_font_with_its_own_ten_digits_is_used(monkeypatch) -> None:
    monkeypatch.setattr(synthetic_photos, "FONT_GLOBS", (DEJAVU,))
    assert GlyphSource().fonts == [DEJAVU]


def test_mnist_parts_are_disjoint() -> None:
    tune, evaluate = GlyphSource(mnist_part="tune"), GlyphSource(mnist_part="eval")
    assert sum(map(len, tune.by_digit)) == sum(map(len, evaluate.by_digit)) == 5000


def test_a_big_slanted_digit_on_a_narrow_sheet_fits() -> None:
    # Found by the photo benchmark: slant and rotation widened this lone digit past its sheet,
    # and pasting it failed.
    photo = make_photo(np.random.default_rng([2024, 907]), "single", GlyphSource())
    x, y, w, h = photo.boxes[0]
    height, width = photo.image.shape[:2]
    assert 0 <= x <= x + w <= width and 0 <= y <= y + h <= height and photo.text


def test_cropped_to_digits_cuts_the_photo_to_its_boxes(photos) -> None:
    number = next(photo for photo in photos if photo.kind == "number")
    cut = synthetic_photos.cropped_to_digits(number, 0.3)
    height, width = cut.image.shape[:2]
    assert cut.text == number.text and len(cut.boxes) == len(number.boxes)
    # The tallest digits touch the top and bottom; the sides keep some paper.
    assert min(y for _, y, _, _ in cut.boxes) == 0
    assert max(y + h for _, y, _, h in cut.boxes) == height
    assert min(x for x, _, _, _ in cut.boxes) > 0 or min(x for x, *_ in number.boxes) == 0
    for (x, y, w, h), (ox, oy, _, _) in zip(cut.boxes, number.boxes, strict=True):
        assert x >= 0 and x + w <= width
        # The same pixels as in the photo.
        inside = number.image[oy : oy + h, ox : ox + w]
        assert np.array_equal(cut.image[y : y + h, x : x + w], inside)
    single = next(photo for photo in photos if photo.kind == "single")
    box = synthetic_photos.cropped_to_digits(single, 0.0)
    assert box.boxes == [(0, 0, box.image.shape[1], box.image.shape[0])]
    blank = next(photo for photo in photos if photo.kind == "blank")
    assert synthetic_photos.cropped_to_digits(blank, 0.3) is blank
