"""The kNN classifier: accuracy on a small subset, chunking, PCA, distances, saving."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from digitrec.config import TrainConfig
from digitrec.errors import DigitrecError
from digitrec.models import create_model
from digitrec.models.knn import KNNClassifier, _smallest_k, fit_pca
from digitrec.models.loading import load_classifier


@pytest.fixture(scope="module")
def parts(mnist_parts):
    """The first 5,000 training and 1,000 test digits."""
    train, test = mnist_parts
    return train.head(5000), test.head(1000)


def fitted(train, **arguments) -> KNNClassifier:
    model = KNNClassifier(**arguments)
    assert model.fit(train, train, TrainConfig()) == []
    return model


def accuracy(model, test) -> float:
    return float((model.predict_proba(test.as_float()).argmax(1) == test.labels).mean())


@pytest.mark.parametrize(
    ("arguments", "threshold"),
    [
        # Measured 0.909, 0.912 and 0.925; MNIST's first 1,000 test digits are hard for kNN.
        ({"k": 3}, 0.89),
        ({"k": 3, "weights": "distance"}, 0.89),
        ({"k": 3, "pca_components": 40}, 0.905),
    ],
)
def test_learns_on_a_small_subset(parts, arguments, threshold):
    train, test = parts
    assert accuracy(fitted(train, **arguments), test) >= threshold


def test_probabilities_are_vote_shares(parts):
    train, test = parts
    proba = fitted(train, k=4).predict_proba(test.as_float()[:200])
    assert proba.shape == (200, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(np.unique(proba * 4).round(4)) <= {0.0, 1.0, 2.0, 3.0, 4.0}


def test_neighbours_match_brute_force(parts):
    train, test = parts
    model = fitted(train.head(1500), k=5)
    queries = test.as_float()[:30]
    distances, indices = model.kneighbors(queries)
    pixels = train.head(1500).as_float().reshape(1500, -1).astype(np.float64)
    exact = np.linalg.norm(queries.reshape(30, 1, -1) - pixels[None], axis=2)
    np.testing.assert_allclose(distances, np.sort(exact, axis=1)[:, :5], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.take_along_axis(exact, indices, 1), distances, atol=1e-3)


@pytest.mark.parametrize(("columns", "k"), [(1000, 1), (7777, 3), (60_000, 10), (100, 3)])
def test_pruned_top_k_finds_the_k_smallest(columns, k):
    scores = np.random.default_rng(columns).standard_normal((40, columns)).astype(np.float32)
    found = np.take_along_axis(scores, _smallest_k(scores, k), axis=1)
    np.testing.assert_array_equal(np.sort(found, axis=1), np.sort(scores, axis=1)[:, :k])


@pytest.mark.parametrize("pca_components", [None, 30])
def test_chunked_equals_unchunked(parts, pca_components):
    train, test = parts
    whole = fitted(train, k=3, weights="distance", pca_components=pca_components)
    chunked = fitted(train, k=3, weights="distance", pca_components=pca_components, chunk_size=7)
    images = test.as_float()[:300]
    # Equal up to float32 rounding: BLAS may sum a chunk's distances in another order.
    got, expected = chunked.predict_proba(images), whole.predict_proba(images)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))


def test_pca_stores_projections_and_matches_numpy_svd(parts):
    train, _ = parts
    model = fitted(train.head(2000), pca_components=20)
    state = model.state_arrays()
    assert state["train_points"].shape == (2000, 20)
    assert state["train_points"].dtype == np.float32
    assert state["components"].shape == (784, 20)
    # Same subspace as an SVD of the centred data: the projection onto it is the same.
    pixels = train.head(2000).as_float().reshape(2000, -1).astype(np.float64)
    with threadpool_limits(1, user_api="blas"):  # threaded OpenBLAS SVD crawls on busy CPUs
        _, _, vt = np.linalg.svd(pixels - pixels.mean(axis=0), full_matrices=False)
    axes = state["components"].astype(np.float64)
    np.testing.assert_allclose(axes @ axes.T, vt[:20].T @ vt[:20], atol=1e-4)


def test_pca_is_deterministic(parts):
    pixels = parts[0].head(1000).as_float().reshape(1000, -1)
    first, second = fit_pca(pixels, 10), fit_pca(pixels.copy(), 10)
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize(
    "arguments", [{"k": 3}, {"k": 2, "weights": "distance", "pca_components": 25}]
)
def test_save_and_load_predict_identically(parts, tmp_path, arguments):
    train, test = parts
    model = fitted(train.head(2000), **arguments)
    path = model.save(tmp_path / "m.safetensors")
    loaded = load_classifier(path)
    assert isinstance(loaded, KNNClassifier)
    assert loaded.arguments == model.arguments
    images = test.as_float()[:200]
    np.testing.assert_array_equal(loaded.predict_proba(images), model.predict_proba(images))
    if "pca_components" not in arguments:
        assert loaded.state_arrays()["train_points"].dtype == np.uint8


def test_registered_and_checks_arguments():
    assert isinstance(create_model("knn", k=5), KNNClassifier)
    for bad in ({"k": 0}, {"weights": "cubic"}, {"pca_components": 0}, {"chunk_size": 0}):
        with pytest.raises(DigitrecError):
            KNNClassifier(**bad)


def test_predicting_before_fitting_is_an_error():
    with pytest.raises(RuntimeError, match="fit"):
        KNNClassifier().predict_proba(np.zeros((1, 28, 28), dtype=np.float32))
