"""MNIST-style normalisation on synthetic drawings and on real MNIST test digits."""

import functools
import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from digitrec.vision.mnist_frame import (
    DIGIT_BOX,
    FRAME,
    THIN_STROKE,
    center_by_mass,
    crop_to_ink,
    fit_box,
    mnist_digit,
    normalize_digit,
    stroke_width,
)
from digitrec.vision.preprocess import dark_ink, ink_map, ink_mask

MNIST_TEST_IMAGES = (
    Path(__file__).resolve().parents[1] / "digitrec/data/mnist/t10k-images-idx3-ubyte.gz"
)
HEIGHT, WIDTH = 300, 400
ROWS, COLS = np.mgrid[:HEIGHT, :WIDTH]
# MNIST convention, measured on its digits: mass centre within half a pixel of index 14.
MASS_CENTRE = FRAME / 2


@functools.lru_cache(maxsize=1)
def _mnist(count: int = 200) -> np.ndarray:
    with gzip.open(MNIST_TEST_IMAGES) as stream:
        raw = stream.read(16 + count * 28 * 28)
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, 28, 28)


def _seven(width: int = 14) -> np.ndarray:
    """Ink coverage (1 = ink) of a '7' drawn with a thick pen on a 300x400 page."""
    image = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(image).line([(140, 60), (260, 60), (170, 240)], fill=255, width=width)
    return np.asarray(image, dtype=np.float32) / 255


def _on_paper(ink: np.ndarray, paper: float | np.ndarray = 0.9) -> np.ndarray:
    """Dark ink on paper whose brightness may vary: ink absorbs 80% of the light."""
    return paper * (1 - 0.8 * ink)


def _mass_centre(image: np.ndarray) -> tuple[float, float]:
    cy, cx = ndimage.center_of_mass(image)
    return float(cy), float(cx)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _nonzero_extent(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image > 0)
    return int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1


def _assert_mnist_like(digit: np.ndarray | None) -> np.ndarray:
    assert digit is not None
    assert digit.shape == (FRAME, FRAME) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0
    assert max(_nonzero_extent(digit)) in (DIGIT_BOX - 1, DIGIT_BOX, DIGIT_BOX + 1)
    cy, cx = _mass_centre(digit)
    assert abs(cy - MASS_CENTRE) <= 0.5 and abs(cx - MASS_CENTRE) <= 0.5
    return digit


def test_ink_map_polarity() -> None:
    ink = _seven()
    strokes, paper = ink > 0.99, ndimage.binary_dilation(ink > 0, iterations=5) == 0
    for image in (_on_paper(ink), 0.1 + 0.8 * ink):  # dark on light, light on dark
        found = ink_map(image)
        assert found.shape == image.shape and found.dtype == np.float32
        assert found[strokes].mean() > 0.9
        assert found[paper].max() < 0.05


def _small_seven_beside_highlights() -> tuple[np.ndarray, np.ndarray]:
    """(paper level, ink coverage): a 40-px '7' of 2-px strokes on a 448-px page with bright
    soft bands of light across it, which outweigh the thin strokes at a coarse scale."""
    size = 448
    image = Image.new("L", (size, size), 0)
    ImageDraw.Draw(image).line([(200, 200), (224, 200), (206, 240)], fill=255, width=2)
    ink = np.asarray(image, dtype=np.float32) / 255
    cols = np.arange(size)[None, :]
    bands = sum(np.exp(-(((cols - centre) / 30.0) ** 2)) for centre in (40, 120, 330))
    return np.broadcast_to(0.6 + 0.3 * bands, (size, size)), ink


def test_polarity_of_a_small_digit_among_highlights_and_shadows() -> None:
    paper, ink = _small_seven_beside_highlights()
    assert dark_ink(_on_paper(ink, paper))  # dark pen on paper with bright bands of light
    # Light chalk on a dark board crossed by dark bands of shadow.
    assert not dark_ink(1.0 - paper + 0.8 * ink)


def test_black_on_white_equals_white_on_black() -> None:
    ink = _seven()
    dark_on_light = normalize_digit(1.0 - ink)
    light_on_dark = normalize_digit(ink)
    _assert_mnist_like(dark_on_light)
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=0.02)


def test_uint8_float_and_rgb_inputs_agree() -> None:
    page = _on_paper(_seven())
    as_uint8 = np.round(page * 255).astype(np.uint8)
    expected = normalize_digit(as_uint8)
    np.testing.assert_allclose(normalize_digit(as_uint8 / 255), expected, atol=1e-5)
    np.testing.assert_allclose(normalize_digit(np.dstack([as_uint8] * 3)), expected, atol=1e-3)


def test_input_is_not_modified() -> None:
    page = _on_paper(_seven())
    before = page.copy()
    normalize_digit(page)
    np.testing.assert_array_equal(page, before)


def _uneven_light() -> np.ndarray:
    """Paper lit from the right, with a soft shadow over the bottom-right corner."""
    gradient = 0.5 + 0.45 * COLS / WIDTH
    shadow = 1 - 0.35 / (1 + np.exp(-((COLS - 300) + (ROWS - 200)) / 25))
    return gradient * shadow


def test_gradient_and_shadow_still_give_one_digit() -> None:
    ink = _seven()
    page = _on_paper(ink, paper=_uneven_light())
    mask = ink_mask(ink_map(page))
    near_digit = ndimage.binary_dilation(ink > 0, iterations=6)
    assert mask.any() and not mask[~near_digit].any()
    digit = _assert_mnist_like(normalize_digit(page))
    assert _correlation(digit, normalize_digit(_on_paper(ink))) > 0.95


@pytest.mark.parametrize(
    "page",
    [
        np.ones((HEIGHT, WIDTH)),
        np.zeros((HEIGHT, WIDTH)),
        np.full((HEIGHT, WIDTH), 128, dtype=np.uint8),
        np.tile(np.linspace(0.2, 0.95, WIDTH), (HEIGHT, 1)),
        _uneven_light(),
        0.95 - 0.35 * ((COLS - 200) ** 2 + (ROWS - 150) ** 2) / (250**2 + 150**2),
        0.9 - 0.3 * np.exp(-((COLS - 100) ** 2 + (ROWS - 220) ** 2) / (2 * 40**2)),
    ],
    ids=["white", "black", "grey", "gradient", "shadow", "vignette", "shadow-blob"],
)
def test_no_digit_on_a_blank_or_flat_page(page: np.ndarray) -> None:
    assert normalize_digit(page) is None
    assert not ink_mask(ink_map(page)).any()


def test_stroke_along_the_edge_is_ink() -> None:
    """A tight crop: the bar of the 7 lies on the top edge, half of it cut off."""
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(20, 0), (180, 0), (60, 199)], fill=0, width=12)
    digit = _assert_mnist_like(normalize_digit(np.asarray(image)))
    top = np.flatnonzero(digit.any(axis=1))[0]
    assert (digit[top] > 0.5).sum() >= 12  # the bar spans most of the width


@pytest.mark.parametrize("level", [0.85, 0.5, 0.1])
def test_light_noise_alone_is_no_digit(level: float) -> None:
    noise = np.random.default_rng(3).normal(0.0, 0.04, (HEIGHT, WIDTH))
    page = np.clip(level + noise, 0.0, 1.0)
    assert normalize_digit(page) is None
    assert normalize_digit(np.round(page * 255).astype(np.uint8)) is None


def test_noisy_faint_digit_is_found() -> None:
    noise = np.random.default_rng(4).normal(0.0, 0.03, (HEIGHT, WIDTH))
    page = np.clip(0.85 * (1 - 0.4 * _seven()) + noise, 0.0, 1.0)
    digit = _assert_mnist_like(normalize_digit(page))
    assert _correlation(digit, normalize_digit(_on_paper(_seven()))) > 0.8


def test_far_specks_are_removed() -> None:
    ink = _seven()
    clean = normalize_digit(_on_paper(ink))
    page = _on_paper(ink)
    specks = np.zeros(ink.shape, dtype=bool)
    for top, left, size in [(10, 10, 4), (280, 380, 3), (20, 360, 6), (250, 20, 25)]:
        specks[top : top + size, left : left + size] = True  # the last one is a big blot
    page[specks] = 0.05
    assert not ink_mask(ink_map(page))[specks].any()
    np.testing.assert_allclose(normalize_digit(page), clean, atol=1e-4)


@pytest.mark.parametrize(
    ("box", "extent"),
    [((180, 40, 220, 260), "tall"), ((60, 130, 340, 170), "wide")],
)
def test_longer_side_becomes_twenty(box: tuple[int, int, int, int], extent: str) -> None:
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    ImageDraw.Draw(image).ellipse(box, fill=0)
    digit = _assert_mnist_like(normalize_digit(np.asarray(image)))
    rows, cols = _nonzero_extent(digit)
    assert (rows > cols) == (extent == "tall")
    assert min(rows, cols) < 8  # aspect ratio kept


def test_fit_box_keeps_aspect_and_grey_levels() -> None:
    crop = np.zeros((60, 15), dtype=np.float32)
    crop[:, 5:10] = 1.0
    fitted = fit_box(crop)
    assert fitted.shape == (20, 5)
    assert 0.0 < fitted[:, 1].max() < 1.0  # anti-aliased edge, not a hard step
    assert fit_box(crop.T).shape == (5, 20)
    assert fit_box(np.ones((4, 2), dtype=np.float32)).shape == (20, 10)  # enlarged too


@pytest.mark.parametrize("seed", range(5))
def test_center_by_mass_lands_on_pixel_fourteen(seed: int) -> None:
    digit = np.random.default_rng(seed).random((20, 13)).astype(np.float32) ** 4
    framed = center_by_mass(digit)
    assert framed.shape == (FRAME, FRAME)
    assert framed.sum() == pytest.approx(digit.sum(), rel=1e-5)
    cy, cx = _mass_centre(framed)
    assert abs(cy - MASS_CENTRE) <= 0.5 and abs(cx - MASS_CENTRE) <= 0.5


def test_center_by_mass_never_cuts_ink_off() -> None:
    digit = np.zeros((20, 20), dtype=np.float32)
    digit[0, :] = 1.0  # all mass on the top edge: the ideal shift would push it out
    digit[:, 0] = 0.01
    framed = center_by_mass(digit)
    assert framed.sum() == pytest.approx(digit.sum())
    assert np.flatnonzero(framed.sum(axis=1))[0] == FRAME - 20  # clamped as low as it can go


def test_crop_to_ink_keeps_grey_levels_and_handles_empty_masks() -> None:
    ink = np.zeros((30, 30), dtype=np.float32)
    ink[10:20, 12:16] = 1.0
    ink[10:20, 11] = ink[10:20, 16] = 0.3  # anti-aliased edges, below the threshold
    ink[2, 2] = 0.9  # a speck that was not kept in the mask
    mask = ink == 1.0
    crop = crop_to_ink(ink, mask)
    assert crop is not None and crop.shape == (10, 6)
    np.testing.assert_allclose(np.unique(crop), [0.3, 1.0])
    assert crop_to_ink(ink, np.zeros_like(mask)) is None


def test_real_mnist_digits_survive() -> None:
    digits = _mnist()
    correlations = []
    for sample in digits:
        normalized = _assert_mnist_like(normalize_digit(sample))
        correlations.append(_correlation(normalized, sample.astype(np.float32)))
    assert np.mean(correlations) > 0.9
    assert np.median(correlations) > 0.99


def test_real_mnist_digits_photographed() -> None:
    """MNIST digits enlarged, printed dark on unevenly lit paper, normalised back."""
    correlations = []
    for sample in _mnist()[:20]:
        big = Image.fromarray(sample).resize((240, 240), Image.Resampling.BILINEAR)
        ink = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
        ink[30:270, 80:320] = np.asarray(big, dtype=np.float32) / 255
        photo = normalize_digit(_on_paper(ink, paper=_uneven_light()))
        correlations.append(_correlation(_assert_mnist_like(photo), normalize_digit(sample)))
    # Not 1.0: enlarging then shrinking the 28-px original blurs it by about a pixel.
    assert np.mean(correlations) > 0.9


@pytest.mark.parametrize("scale", [4, 8, 16])
def test_smoothly_enlarged_digits_are_found(scale: int) -> None:
    # A bicubic enlargement has edges as soft as a slightly blurred photo; they are still ink.
    for digit in _mnist(20):
        page = Image.fromarray(255 - digit).resize((28 * scale, 28 * scale), Image.BICUBIC)
        result = _assert_mnist_like(normalize_digit(np.asarray(page)))
        # Looser than for crisp input: the blur widens strokes and the faint fringe the box.
        assert _correlation(result, normalize_digit(digit)) > 0.65


def test_stroke_width_of_mnist_digits_and_of_lines() -> None:
    widths = [stroke_width(digit / 255.0) for digit in _mnist()]
    assert 1.6 < np.median(widths) < 2.0
    assert np.mean(np.array(widths) < THIN_STROKE) < 0.02
    bar = np.zeros((28, 28), dtype=np.float32)
    bar[4:24, 10:13] = 1.0  # 3 px wide, 20 long
    assert stroke_width(bar) == pytest.approx(3 * 2 * 20 / (2 * 20 + 2 * 3), rel=1e-6)


def test_a_fine_pen_digit_is_widened_a_bold_one_is_not() -> None:
    # A 7 written 170 px tall with a 2-px pen: scaled to the 20-px box, its strokes are a
    # quarter of a pixel wide, thinner than any MNIST digit's.
    fine = crop_to_ink(_seven(width=2), _seven(width=2) > 0.5)
    assert fine is not None
    assert stroke_width(_assert_mnist_like(mnist_digit(fine))) >= THIN_STROKE
    bold = crop_to_ink(_seven(width=14), _seven(width=14) > 0.5)
    assert bold is not None
    plain = center_by_mass(fit_box(bold) / fit_box(bold).max())
    np.testing.assert_allclose(mnist_digit(bold), plain, atol=1e-6)


def test_a_dark_sliver_along_the_border_does_not_set_the_inks_strength() -> None:
    # The table's sliver beside the paper's edge, far darker than the writing: the strongest
    # ink is looked for inside the border, so the seven still maps to full strength.
    ink = 0.4 * _seven()
    ink[:, :4] = 1.0
    found = ink_map(_on_paper(ink))
    assert found[_seven() > 0.9].mean() > 0.9
    assert ink_mask(found)[_seven() > 0.9].mean() > 0.9
