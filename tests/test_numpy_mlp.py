"""The NumPy network: exact gradients, learning on a small MNIST subset, safe files, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec.config import TrainConfig
from digitrec.errors import ModelFileError
from digitrec.models.loading import load_classifier
from digitrec.models.numpy_mlp import NumpyMLP, learning_rate, loss_and_gradients
from digitrec.models.registry import create_model

SIGMOID = {"epochs": 10, "batch_size": 32, "lr": 1.0, "momentum": 0.0, "weight_decay": 0.0}
RELU = {"epochs": 5, "batch_size": 64, "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4}
HISTORY_KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"}


def _config(**values) -> TrainConfig:
    return TrainConfig(model="numpy-mlp", **{"schedule": "constant", "seed": 0, **values})


def _accuracy(model: NumpyMLP, digits) -> float:
    return float((model.predict_proba(digits.as_float()).argmax(axis=1) == digits.labels).mean())


@pytest.fixture(scope="module")
def sigmoid_run(mnist_parts):
    """Nielsen's [784, 30, 10] sigmoid net trained on the first 5,000 training digits."""
    train, test = mnist_parts
    model = NumpyMLP(layers=[784, 30, 10], activation="sigmoid")
    history = model.fit(train.head(5000), test.head(500), _config(**SIGMOID))
    return model, history


# --- gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_gradients_match_finite_differences(mnist_parts, activation: str) -> None:
    train, _ = mnist_parts
    x = train.head(16).as_float().reshape(16, -1).astype(np.float64)
    y = train.labels[:16]
    model = NumpyMLP(layers=[784, 12, 8, 10], activation=activation)
    # Nonzero biases and float64, so that every term of the gradient is exercised exactly.
    noise = np.random.default_rng(1)
    params = {
        name: value.astype(np.float64) + 0.1 * noise.standard_normal(value.shape)
        for name, value in model.state_arrays().items()
    }
    _, grads = loss_and_gradients(params, x, y, activation, weight_decay=0.01)
    picker, step = np.random.default_rng(2), 1e-5
    for name, value in params.items():
        for _ in range(4):
            index = tuple(int(picker.integers(size)) for size in value.shape)
            original = value[index]
            value[index] = original + step
            plus, _ = loss_and_gradients(params, x, y, activation, weight_decay=0.01)
            value[index] = original - step
            minus, _ = loss_and_gradients(params, x, y, activation, weight_decay=0.01)
            value[index] = original
            numeric, analytic = (plus - minus) / (2 * step), grads[name][index]
            error = abs(numeric - analytic) / max(abs(numeric) + abs(analytic), 1e-10)
            assert error < 1e-5, f"{name}{index}: numeric {numeric}, backprop {analytic}"


def test_method_gradients_are_float32_with_state_names(mnist_parts) -> None:
    train, _ = mnist_parts
    model = NumpyMLP()
    loss, grads = model.loss_and_gradients(
        train.head(8).as_float().reshape(8, -1), train.labels[:8]
    )
    assert loss > 0
    assert {name: grad.shape for name, grad in grads.items()} == {
        name: array.shape for name, array in model.state_arrays().items()
    }
    assert all(grad.dtype == np.float32 for grad in grads.values())


# --- learning ---------------------------------------------------------------------------------


def test_sigmoid_net_learns_from_5000_digits(sigmoid_run, mnist_parts) -> None:
    model, history = sigmoid_run
    # Measured 0.914 on these 1,000 test digits.
    assert _accuracy(model, mnist_parts[1].head(1000)) > 0.88
    assert [row["epoch"] for row in history] == list(range(1, SIGMOID["epochs"] + 1))
    assert all(set(row) == HISTORY_KEYS for row in history)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    seconds = [row["seconds"] for row in history]
    assert seconds == sorted(seconds)


def test_relu_net_learns_from_5000_digits(mnist_parts) -> None:
    train, test = mnist_parts
    model = create_model("numpy-mlp", layers=[784, 256, 128, 10], activation="relu")
    model.fit(train.head(5000), test.head(500), _config(**RELU, schedule="cosine"))
    # Measured 0.935 on these 1,000 test digits.
    assert _accuracy(model, test.head(1000)) > 0.91


def test_same_seed_gives_the_same_weights(mnist_parts) -> None:
    train, test = mnist_parts
    runs = []
    for seed in (3, 3, 4):
        model = NumpyMLP(layers=[784, 20, 10], activation="relu")
        model.fit(train.head(1000), test.head(100), _config(**RELU | {"epochs": 2}, seed=seed))
        runs.append(model.state_arrays())
    first, again, other = runs
    assert all(np.array_equal(first[name], again[name]) for name in first)
    assert not np.array_equal(first["w0"], other["w0"])


def test_learning_rate_schedules() -> None:
    assert learning_rate(_config(lr=0.5, epochs=4), 7, 2) == 0.5
    step = _config(lr=1.0, epochs=4, schedule="step", step_size=2, gamma=0.5)
    assert [learning_rate(step, s, 10) for s in (0, 19, 20, 39)] == [1.0, 1.0, 0.5, 0.5]
    cosine = _config(lr=1.0, epochs=2, schedule="cosine")
    assert learning_rate(cosine, 0, 10) == 1.0
    assert learning_rate(cosine, 10, 10) == pytest.approx(0.5)


# --- files and validation ---------------------------------------------------------------------


def test_save_and_load_predict_identically(sigmoid_run, mnist_parts, tmp_path) -> None:
    model, _ = sigmoid_run
    images = mnist_parts[1].head(300).as_float()
    loaded = load_classifier(model.save(tmp_path / "m.safetensors"))
    assert isinstance(loaded, NumpyMLP)
    assert loaded.arguments == {"layers": [784, 30, 10], "activation": "sigmoid"}
    np.testing.assert_array_equal(loaded.predict_proba(images), model.predict_proba(images))


def test_file_whose_arrays_do_not_fit_its_layers_is_refused(tmp_path) -> None:
    model = NumpyMLP(layers=[784, 30, 10])
    model.arguments["layers"] = [784, 20, 10]  # metadata that no longer describes the arrays
    path = model.save(tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match="w0"):
        load_classifier(path)


def test_load_state_names_the_mismatch() -> None:
    model = NumpyMLP(layers=[784, 16, 10], activation="relu")
    arrays = model.state_arrays()
    with pytest.raises(ValueError, match=r"b1 has shape \(9,\)"):
        model.load_state({**arrays, "b1": np.zeros(9, np.float32)})
    with pytest.raises(ValueError, match="w1 missing"):
        model.load_state({name: a for name, a in arrays.items() if name != "w1"})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"layers": [784, 30, 9]}, "last layer"),
        ({"layers": [100, 30, 10]}, "first layer"),
        ({"layers": [784]}, "two or more"),
        ({"activation": "tanh"}, "activation"),
    ],
)
def test_bad_layouts_are_refused(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NumpyMLP(**arguments)


def test_predict_proba_is_a_distribution_per_image(mnist_parts) -> None:
    model = NumpyMLP(layers=[784, 32, 10], activation="relu")
    probabilities = model.predict_proba(mnist_parts[1].head(5).images)  # uint8 accepted too
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.predict_proba(np.zeros((0, 28, 28), np.float32)).shape == (0, 10)
