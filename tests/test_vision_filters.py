"""vision.filters against the scipy.ndimage filters they stand in for, on random images of odd
and even sizes, including windows longer than the image."""

import numpy as np
import pytest
from scipy import ndimage

from digitrec.vision import filters

SIZES = [(1, 1), (1, 2), (2, 2), (3, 3), (4, 5), (1, 37), (9, 1), (2, 60)]
SQUARE = np.ones((3, 3), dtype=bool)


def _images(count: int, dtype=np.float32):
    rng = np.random.default_rng(7)
    for _ in range(count):
        rows, cols = rng.integers(1, 90, 2)
        yield rng.random((rows, cols)).astype(dtype)


def _masks(count: int):
    rng = np.random.default_rng(8)
    for _ in range(count):
        rows, cols = rng.integers(1, 160, 2)
        yield rng.random((rows, cols)) > rng.uniform(0.2, 0.8)


@pytest.mark.parametrize("size", SIZES)
def test_min_max_and_opening_match_grey_morphology(size) -> None:
    pairs = [
        (filters.min_filter, ndimage.grey_erosion),
        (filters.max_filter, ndimage.grey_dilation),
        (filters.opening, ndimage.grey_opening),
    ]
    for image in _images(12):
        for ours, scipys in pairs:
            np.testing.assert_array_equal(ours(image, size), scipys(image, size=size))


def test_filters_take_transposed_views_and_keep_float64() -> None:
    for image in _images(4, np.float64):
        view = image.T
        got = filters.opening(view, (1, 5))
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, ndimage.grey_opening(view, size=(1, 5)))


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.7, 3.2])
def test_gaussian_and_its_gradient_match_ndimage(sigma: float) -> None:
    for image in _images(8):
        np.testing.assert_allclose(
            filters.gaussian(image, sigma), ndimage.gaussian_filter(image, sigma), atol=2e-6
        )
        np.testing.assert_allclose(
            filters.gradient_magnitude(image, sigma),
            ndimage.gaussian_gradient_magnitude(image, sigma),
            atol=2e-6,
        )


@pytest.mark.parametrize("size", [3, 5, 7])
def test_median_matches_median_filter(size: int) -> None:
    for image in _images(8):
        np.testing.assert_array_equal(
            filters.median(image, size), ndimage.median_filter(image, size, mode="nearest")
        )


@pytest.mark.parametrize("size", [1, 3, 7, 31])
def test_box_mean_matches_uniform_filter(size: int) -> None:
    for image in _images(8):
        np.testing.assert_allclose(
            filters.box_mean(image, size), ndimage.uniform_filter(image, size), atol=2e-6
        )
    with pytest.raises(ValueError, match="odd"):
        filters.box_mean(image, 4)


def test_labels_are_numbered_as_ndimage_numbers_them() -> None:
    for mask in _masks(25):
        for eight, structure in ((True, SQUARE), (False, None)):
            labels, count = filters.label(mask, eight=eight)
            expected, expected_count = ndimage.label(mask, structure=structure)
            assert count == expected_count
            np.testing.assert_array_equal(labels, expected)


@pytest.mark.parametrize("iterations", [1, 2, 5])
def test_binary_erosion_and_dilation_match_ndimage(iterations: int) -> None:
    for mask in _masks(10):
        np.testing.assert_array_equal(
            filters.erode(mask, iterations), ndimage.binary_erosion(mask, iterations=iterations)
        )
        np.testing.assert_array_equal(
            filters.erode(mask, iterations, outside=True),
            ndimage.binary_erosion(mask, iterations=iterations, border_value=1),
        )
        np.testing.assert_array_equal(
            filters.dilate(mask, iterations), ndimage.binary_dilation(mask, iterations=iterations)
        )
        np.testing.assert_array_equal(
            filters.dilate(mask, iterations, square=True),
            ndimage.binary_dilation(mask, structure=SQUARE, iterations=iterations),
        )


def test_binary_morphology_of_a_1d_mask() -> None:
    rng = np.random.default_rng(9)
    for length in (1, 2, 7, 50):
        row = rng.random(length) > 0.7
        for iterations in (1, 3):
            np.testing.assert_array_equal(
                filters.dilate(row, iterations), ndimage.binary_dilation(row, iterations=iterations)
            )
            np.testing.assert_array_equal(
                filters.erode(row, iterations), ndimage.binary_erosion(row, iterations=iterations)
            )


@pytest.mark.parametrize("size", [(1, 1), (3, 3), (5, 1), (1, 9), (21, 21)])
def test_grow_and_shrink_match_maximum_and_minimum_filters(size) -> None:
    pairs = [(filters.grow, ndimage.maximum_filter), (filters.shrink, ndimage.minimum_filter)]
    for mask in _masks(10):
        for ours, scipys in pairs:
            np.testing.assert_array_equal(ours(mask, size), scipys(mask, size=size))
    with pytest.raises(ValueError, match="odd"):
        filters.grow(mask, (2, 3))


def test_extent_is_the_longer_side_of_each_components_box() -> None:
    mask = np.zeros((40, 50), bool)
    mask[5:8, 10:30] = True  # 3 x 20
    mask[20:32, 5:6] = True  # 12 x 1
    mask[32, 6] = True  # its diagonal neighbour: 13 x 2
    labels, _ = ndimage.label(mask, structure=SQUARE)
    longer = np.zeros(labels.max() + 1, int)
    for index, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        longer[index] = max(rows.stop - rows.start, cols.stop - cols.start)
    assert np.array_equal(filters.extent(mask), longer[labels])
    assert filters.extent(mask)[6, 12] == 20 and filters.extent(mask)[32, 6] == 13
