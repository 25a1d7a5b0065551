"""The fast path for clean images: taken for drawings and clean scans, refused for photos."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitrec.data.datasets import load_test_set
from digitrec.vision.clean import clean_ink


def _drawing(size: int = 112, width: int = 9) -> np.ndarray:
    """A "7" drawn as a page's canvas sends it: black marker strokes on white, anti-aliased."""
    image = Image.new("L", (size * 4, size * 4), 255)
    draw = ImageDraw.Draw(image)
    s = size * 4 / 112
    draw.line(
        [(30 * s, 25 * s), (80 * s, 25 * s), (45 * s, 95 * s)], fill=0, width=round(width * s)
    )
    return np.asarray(image.resize((size, size), Image.Resampling.BOX), np.float32) / 255


def test_drawing_takes_the_fast_path() -> None:
    gray = _drawing()
    found = clean_ink(gray)
    assert found is not None
    ink, mask = found
    assert ink.dtype == np.float32 and mask.dtype == bool and ink.shape == gray.shape
    # Ink where the strokes are dark, nothing on the paper.
    assert np.all(ink[gray > 0.95] == 0.0)
    assert np.all(mask[gray < 0.2]) and not np.any(mask[gray > 0.8])


def test_light_ink_on_dark_ground_too() -> None:
    digit = load_test_set("mnist").images[0].astype(np.float32) / 255  # MNIST: white on black
    found = clean_ink(digit)
    assert found is not None
    ink, mask = found
    assert np.corrcoef(ink.ravel(), digit.ravel())[0, 1] > 0.95
    assert mask.sum() == pytest.approx((digit > 0.5).sum(), rel=0.25)


def test_lighting_gradient_is_no_clean_image() -> None:
    rows = np.linspace(0.55, 0.95, 112, dtype=np.float32)[:, None]
    assert clean_ink(_drawing() * rows) is None


def test_noisy_paper_is_no_clean_image() -> None:
    noise = np.random.default_rng(0).normal(0, 0.06, (112, 112)).astype(np.float32)
    assert clean_ink(np.clip(_drawing() + noise, 0, 1)) is None


def test_ruled_line_is_left_to_the_full_pipeline() -> None:
    gray = _drawing().copy()
    gray[100:102, :] = 0.3
    assert clean_ink(gray) is None


def test_blank_and_faint_images_are_left_to_the_full_pipeline() -> None:
    assert clean_ink(np.ones((112, 112), np.float32)) is None
    faint = 1.0 - 0.2 * (1.0 - _drawing())  # ink at 20% contrast: a pencil's, say
    assert clean_ink(faint) is None


def test_clean_scans_read_through_the_fast_path(monkeypatch) -> None:
    """MNIST test digits as a page sends drawings (dark on white, 112 px) and as a clean scan
    of a number: all take the fast path, and read as well as MNIST itself."""
    from digitrec.models.loading import load_classifier
    from digitrec.predictor import Predictor
    from digitrec.vision import look
    from digitrec.vision.look import WORK_SIZE

    taken: list[bool] = []
    shapes: list[tuple[int, ...]] = []

    def counting(gray: np.ndarray):
        found = clean_ink(gray)
        taken.append(found is not None)
        shapes.append(gray.shape)
        return found

    monkeypatch.setattr(look, "clean_ink", counting)
    predictor = Predictor(load_classifier("default"))
    test = load_test_set("mnist").subset(slice(0, 200))
    scans = [
        np.asarray(Image.fromarray(255 - image).resize((112, 112), Image.Resampling.BILINEAR))
        for image in test.images
    ]
    texts = [predictor.read_image(scan, single=True).text for scan in scans]
    # A few bold MNIST digits look too thick for strokes and take the full pipeline instead.
    assert np.mean(taken) >= 0.9
    assert np.mean([t == str(label) for t, label in zip(texts, test.labels, strict=True)]) >= 0.97
    number = np.concatenate(
        [np.pad(scan, ((20, 20), (10, 10)), constant_values=255) for scan in scans[:3]], axis=1
    )
    expected = "".join(str(label) for label in test.labels[:3])
    taken.clear()
    assert predictor.read_image(number).text == expected
    assert taken == [True]
    # So does a wider scan of it (up to CLEAN_MAX_SIDE).
    wide = np.pad(number, ((0, 0), (0, 500)), constant_values=255)
    taken.clear()
    assert predictor.read_image(wide).text == expected
    assert taken == [True]
    # A photo-sized image goes through the full pipeline, tuned for photos, however clean: the
    # fast path is not even tried on it (only, perhaps, on the small region around its digits
    # when they are read again up close).
    shapes.clear()
    big = np.pad(number, ((0, 0), (0, 1100)), constant_values=255)
    assert predictor.read_image(big).text == expected
    assert all(shape[1] < big.shape[1] * WORK_SIZE / max(big.shape) for shape in shapes)


def test_lines_joined_to_the_digit_are_left_to_the_full_pipeline() -> None:
    ruled = _drawing().copy()
    ruled[25:27, :] = 0.2  # a rule through the 7's bar: one component with the digit
    assert clean_ink(ruled) is None
    squared = _drawing().copy()
    squared[8:104:16, 8:104] = 0.3  # a grid short of the edges, joined to the digit
    squared[8:104, 8:104:16] = 0.3
    assert clean_ink(squared) is None


def test_flat_paper_is_a_flat_background_however_little_there_is():
    from digitrec.vision.clean import flat_paper

    crop = np.full((60, 40), 0.95, np.float32)  # a drawn "0" cropped to its ink
    crop[:, :6] = crop[:, -6:] = crop[:6] = crop[-6:] = 0.05
    assert flat_paper(crop)
    rng = np.random.default_rng(0)
    photo = np.clip(crop + rng.normal(0, 0.08, crop.shape), 0, 1).astype(np.float32)
    assert not flat_paper(photo)  # the paper of a photo is not flat


def test_a_sheet_of_squared_paper_on_a_dark_table_is_left_to_the_full_pipeline() -> None:
    # The bright sheet is the image's minority, "ink" on a flat dark ground, and its lines cut
    # it into cells too small to look thick: but it is paper, and the full pipeline finds it.
    gray = np.full((300, 225), 0.35, np.float32)
    gray[80:220, 50:175] = 0.9
    for start in (0, 1):  # lines 2 px wide every 8 px
        gray[80 + start : 220 : 8, 50:175] = gray[80:220, 50 + start : 175 : 8] = 0.45
    gray[130:170, 120:124] = 0.2  # a "1" on it
    assert clean_ink(gray) is None
