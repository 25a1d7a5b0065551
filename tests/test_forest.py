"""The forest: accuracy on a small subset, numpy prediction against scikit-learn, saving."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec.config import TrainConfig
from digitrec.data.datasets import DigitSet
from digitrec.errors import DigitrecError
from digitrec.models import create_model
from digitrec.models.classic import flat_pixels
from digitrec.models.forest import ForestClassifier, export_forest
from digitrec.models.loading import load_classifier

CONFIG = TrainConfig(threads=2, seed=0)


@pytest.fixture(scope="module")
def parts(mnist_parts):
    """The first 5,000 training and 1,000 test digits."""
    train, test = mnist_parts
    return train.head(5000), test.head(1000)


@pytest.fixture(scope="module")
def forest_model(parts) -> ForestClassifier:
    model = ForestClassifier(trees=40)
    assert model.fit(parts[0], parts[0], CONFIG) == []
    return model


def accuracy(model, test) -> float:
    return float((model.predict_proba(test.as_float()).argmax(1) == test.labels).mean())


def test_learns_on_a_small_subset(parts, forest_model):
    # Measured 0.899 with 40 trees on 5,000 digits (96.9% with 100 trees on 55,000).
    assert accuracy(forest_model, parts[1]) >= 0.88


@pytest.mark.parametrize(
    "arguments",
    [
        {"trees": 15},
        {"trees": 15, "extra_trees": True, "min_samples_leaf": 3},
        {"trees": 10, "max_depth": 6, "max_features": 50},
    ],
)
def test_numpy_prediction_equals_scikit_learn(parts, arguments):
    train, test = parts
    model = ForestClassifier(**arguments)
    forest = model.estimator(CONFIG).fit(flat_pixels(train.images), train.labels)
    model.load_state(export_forest(forest, len(model.classes)))
    images = test.as_float()
    expected = forest.predict_proba(images.reshape(len(images), -1))
    np.testing.assert_allclose(model.predict_proba(images), expected, rtol=0, atol=1e-6)


def test_classes_missing_from_training_keep_their_columns(parts):
    train, test = parts
    no_sevens = train.subset(train.labels != 7)
    model = ForestClassifier(trees=5)
    model.fit(no_sevens, no_sevens, CONFIG)
    proba = model.predict_proba(test.as_float()[:100])
    assert proba.shape == (100, 10)
    assert np.all(proba[:, 7] == 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_fully_grown_trees_share_ten_leaf_rows(forest_model):
    state = forest_model.state_arrays()
    assert state["leaf_values"].shape == (10, 10)  # pure leaves: one row per class
    assert state["left"].dtype == np.int16
    assert len(state["roots"]) == 40
    assert len(state["tree_offsets"]) == 41


def test_save_and_load_predict_identically(parts, forest_model, tmp_path):
    path = forest_model.save(tmp_path / "m.safetensors")
    loaded = load_classifier(path)
    assert isinstance(loaded, ForestClassifier)
    assert loaded.arguments == forest_model.arguments
    images = parts[1].as_float()
    np.testing.assert_array_equal(loaded.predict_proba(images), forest_model.predict_proba(images))


def test_a_damaged_forest_is_refused(forest_model):
    state = forest_model.state_arrays()
    looping = {**state, "left": np.zeros_like(state["left"])}  # every node its own child
    with pytest.raises(ValueError, match="pointers"):
        ForestClassifier(trees=40).load_state(looping)
    too_far = {**state, "right": np.full_like(state["right"], -11)}  # leaf row 10 of 10
    with pytest.raises(ValueError, match="pointers"):
        ForestClassifier(trees=40).load_state(too_far)


def test_single_leaf_trees(parts):
    train, test = parts
    zeros = train.subset(train.labels == 0)
    model = ForestClassifier(trees=3)
    model.fit(DigitSet(zeros.images, zeros.labels), zeros, CONFIG)
    proba = model.predict_proba(test.as_float()[:5])
    np.testing.assert_array_equal(proba, np.tile(np.eye(10, dtype=np.float32)[0], (5, 1)))


def test_registered_and_checks_arguments():
    assert isinstance(create_model("forest", trees=3), ForestClassifier)
    for bad in ({"trees": 0}, {"max_depth": 0}, {"min_samples_leaf": 0}):
        with pytest.raises(DigitrecError):
            ForestClassifier(**bad)
