"""The `svm` model (RBF kernel approximation + linear SVM on HOG) and the batched HOG."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec.config import TrainConfig
from digitrec.data.datasets import validation_indices
from digitrec.errors import DigitrecError
from digitrec.features.hog import (
    cell_histograms,
    gradients,
    hog,
    multi_hog,
    orientation_votes,
    pooling_matrix,
)
from digitrec.models.loading import load_classifier
from digitrec.models.registry import create_model
from digitrec.models.svm import SVMClassifier, fit_temperature, softmax

# Our HOG and skimage's agree to ~7e-8 on MNIST digits (both compute in float64, but skimage
# sums cells in a different order); 1e-6 is far below the 0.2 clip and any feature that
# matters, yet would catch a wrong bin, cell or block order.
HOG_TOLERANCE = 1e-6
# Measured 98.2% with 4,500 training digits and 1,000 landmarks; full MNIST gives 99.2%.
SMALL_FIT_ACCURACY = 0.97


def _split(parts, count: int, val_size: int):
    train, _ = parts
    head = train.head(count)
    train_idx, val_idx = validation_indices(len(head), val_size, seed=0)
    return head.subset(train_idx), head.subset(val_idx)


@pytest.fixture(scope="module")
def fitted(mnist_parts) -> SVMClassifier:
    """Fitted on the first 5,000 training digits (500 of them for the temperature): ~4 s."""
    train, val = _split(mnist_parts, 5000, 500)
    model = SVMClassifier(landmarks=1000)
    assert model.fit(train, val, TrainConfig(model="svm", seed=0)) == []
    return model


@pytest.fixture(scope="module")
def test_images(mnist_parts) -> tuple[np.ndarray, np.ndarray]:
    test = mnist_parts[1].head(1000)
    return test.as_float(), test.labels


# --- HOG ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "block", "orientations"), [(4, 2, 9), (7, 2, 9), (4, 3, 9), (5, 2, 6)]
)
def test_hog_matches_skimage(mnist_parts, cell: int, block: int, orientations: int) -> None:
    skimage_feature = pytest.importorskip("skimage.feature")  # the oracle; a dev dependency
    rng = np.random.default_rng(0)
    digits = mnist_parts[1].images[:12].astype(np.float64) / 255.0
    noise = rng.random((2, 28, 28))  # every orientation, no flat areas
    images = np.concatenate([digits, noise])
    ours = hog(images, cell=cell, block=block, orientations=orientations, soft=False)
    for image, features in zip(images, ours, strict=True):
        expected = skimage_feature.hog(
            image,
            orientations=orientations,
            pixels_per_cell=(cell, cell),
            cells_per_block=(block, block),
            block_norm="L2-Hys",
        )
        np.testing.assert_allclose(features, expected, rtol=0, atol=HOG_TOLERANCE)


def test_multi_hog_concatenates_cell_sizes_in_batches(mnist_parts) -> None:
    images = mnist_parts[1].images[:50]
    batched = multi_hog(images, (4, 7), soft=False, batch_size=16)
    floats = images.astype(np.float64) / 255.0
    single = np.concatenate([hog(floats, cell=4), hog(floats, cell=7)], axis=1)
    assert batched.dtype == np.float32 and batched.shape == (50, 1296 + 324)
    np.testing.assert_allclose(batched, single, atol=1e-5)


@pytest.mark.parametrize("soft", [False, True])
def test_cell_histograms_keep_all_gradient_magnitude(mnist_parts, soft: bool) -> None:
    # Interpolated votes move magnitude between bins and cells but must not lose any of it.
    images = mnist_parts[1].images[:20].astype(np.float64) / 255.0
    g_row, g_col = gradients(images)
    total = np.hypot(g_row, g_col).sum(axis=(1, 2))
    for cell, histograms in zip((4, 7), cell_histograms(images, (4, 7), 9, soft), strict=True):
        np.testing.assert_allclose(histograms.sum(axis=(1, 2, 3)) * cell**2, total, rtol=1e-10)


@pytest.mark.parametrize(
    ("degrees", "expected"),
    [
        (10.0, {0: 1.0}),
        (20.0, {0: 0.5, 1: 0.5}),
        (95.0, {4: 0.75, 5: 0.25}),
        (175.0, {8: 0.75, 0: 0.25}),
    ],
)
def test_soft_votes_split_between_neighbouring_bin_centres(degrees: float, expected) -> None:
    # A linear ramp has the same gradient everywhere; bin k (of 9) is centred on 20k + 10°, and
    # 175° lies between the last bin (170°) and the first (190° = 10°).
    angle = np.deg2rad(degrees)
    rows, cols = np.mgrid[0:8, 0:8].astype(np.float64)
    ramp = (np.sin(angle) * rows + np.cos(angle) * cols)[None]
    votes = orientation_votes(ramp, 9, soft=True).reshape(8, 8, 9)[3, 3]
    shares = np.zeros(9)
    shares[list(expected)] = list(expected.values())
    np.testing.assert_allclose(votes, 2.0 * shares, atol=1e-12)  # centred differences: |g| = 2


def test_soft_pooling_splits_pixels_bilinearly_between_cell_centres() -> None:
    pooling = pooling_matrix(28, 28, 4, soft=True).reshape(28, 28, 7, 7) * 16
    np.testing.assert_allclose(pooling.sum(axis=(2, 3)), 1.0)  # every pixel counts once
    # Pixel (1, 5): its centre (1.5, 5.5) is outside the first cell centre (2) along rows, so
    # it stays in cell row 0; along columns it is 3.5 from cell 0 and 0.5 from cell 1.
    np.testing.assert_allclose(pooling[1, 5, 0, :2], [0.125, 0.875])
    assert pooling[1, 5, 1:].sum() == 0 and pooling[1, 5, :, 2:].sum() == 0


# --- the model ------------------------------------------------------------------------------


def test_small_fit_is_accurate(fitted: SVMClassifier, test_images) -> None:
    images, labels = test_images
    accuracy = float(np.mean(fitted.predict_proba(images).argmax(axis=1) == labels))
    assert accuracy >= SMALL_FIT_ACCURACY, accuracy


def test_probabilities_sum_to_one(fitted: SVMClassifier, test_images) -> None:
    probabilities = fitted.predict_proba(test_images[0][:200])
    assert probabilities.shape == (200, 10)
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert 0.01 < fitted.temperature < 10


def test_uint8_and_empty_inputs(fitted: SVMClassifier, mnist_parts) -> None:
    test = mnist_parts[1].head(20)
    np.testing.assert_allclose(
        fitted.predict_proba(test.images), fitted.predict_proba(test.as_float()), atol=1e-6
    )
    assert fitted.predict_proba(np.zeros((0, 28, 28), np.float32)).shape == (0, 10)


def test_save_load_round_trip(fitted: SVMClassifier, test_images, tmp_path) -> None:
    path = fitted.save(tmp_path / "m.safetensors")
    loaded = load_classifier(path)
    images = test_images[0][:300]
    np.testing.assert_array_equal(loaded.predict_proba(images), fitted.predict_proba(images))
    assert isinstance(loaded, SVMClassifier) and loaded.arguments == fitted.arguments


def test_fit_is_deterministic_given_the_seed(mnist_parts) -> None:
    train, val = _split(mnist_parts, 1200, 200)

    def fit(seed: int) -> dict[str, np.ndarray]:
        model = SVMClassifier(landmarks=200)
        model.fit(train, val, TrainConfig(model="svm", seed=seed))
        return model.state_arrays()

    first, again, other = fit(0), fit(0), fit(1)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["landmarks"], other["landmarks"])


def test_fit_temperature_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(4000, 10))
    labels = np.array([rng.choice(10, p=row) for row in softmax(logits)])
    # Scores are logits * 0.25, so the softmax temperature that fits them is 0.25.
    assert fit_temperature(logits * 0.25, labels) == pytest.approx(0.25, rel=0.1)


@pytest.mark.parametrize(
    "arguments", [{"cells": [16]}, {"gamma": 0.0}, {"C": -1.0}, {"landmarks": 0}]
)
def test_bad_arguments_are_refused(arguments) -> None:
    with pytest.raises(DigitrecError):
        create_model("svm", **arguments)


def test_load_state_refuses_arrays_of_another_hog_layout(fitted: SVMClassifier) -> None:
    with pytest.raises(ValueError, match="HOG"):
        SVMClassifier(cells=[7]).load_state(fitted.state_arrays())
