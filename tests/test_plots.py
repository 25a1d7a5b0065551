"""Tests for digitrec.plots: every plot writes a real PNG, edge cases included.

Inputs are tiny on purpose: these check wiring and edge cases, not the look of the pictures.
"""

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitrec import plots
from digitrec.plots.mistakes import _most_confident
from digitrec.plots.scores import _axis_limits

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> tuple[int, int]:
    """The file is a PNG that Pillow decodes to a plausible picture size; returns the size."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.load()  # decode fully: a truncated file passes the signature check
        assert image.format == "PNG"
        width, height = image.size
    assert 150 <= width <= 4000
    assert 100 <= height <= 4000
    return width, height


def history_row(epoch: int, with_val: bool = True) -> dict[str, float]:
    row = {"epoch": epoch, "train_loss": 1.0 / epoch, "train_acc": 0.9 + 0.01 * epoch}
    if with_val:
        row |= {"val_loss": 1.1 / epoch, "val_acc": 0.91 + 0.01 * epoch}
    return row


def test_import_does_not_load_pyplot() -> None:
    # pyplot's global figure registry is exactly what digitrec.plots avoids; it must not sneak in.
    if "matplotlib.pyplot" in sys.modules:
        pytest.skip("another test module imported pyplot already")
    assert "matplotlib.pyplot" not in sys.modules


# --------------------------------------------------------------------------- curves


def test_curves(tmp_path: Path) -> None:
    out = plots.plot_curves([history_row(e) for e in (1, 2, 3)], tmp_path / "curves.png")
    assert out == tmp_path / "curves.png"
    assert_png(out)


def test_curves_single_epoch(tmp_path: Path) -> None:
    assert_png(plots.plot_curves([history_row(1)], tmp_path / "one.png"))


def test_curves_missing_and_nan_validation(tmp_path: Path) -> None:
    history = [
        history_row(1, with_val=False),
        history_row(2, with_val=False) | {"val_loss": math.nan, "val_acc": math.nan},
    ]
    # An all-NaN validation series must be left out quietly, not become an empty legend entry.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_png(plots.plot_curves(history, tmp_path / "noval.png"))


def test_curves_accepts_str_path(tmp_path: Path) -> None:
    out = plots.plot_curves([history_row(1)], str(tmp_path / "s.png"))
    assert isinstance(out, Path)
    assert_png(out)


def test_curves_rejects_empty_history(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        plots.plot_curves([], tmp_path / "x.png")


def test_missing_folder_fails_before_drawing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="folder"):
        plots.plot_curves([history_row(1)], tmp_path / "nope" / "x.png")


# --------------------------------------------------------------------------- confusion


def test_confusion(tmp_path: Path) -> None:
    confusion = np.array([[980, 0, 3], [1, 1100, 0], [7, 2, 990]])
    out = plots.plot_confusion(confusion, tmp_path / "conf.png", class_names=["a", "b", "c"])
    assert_png(out)


def test_confusion_perfect_and_empty_class(tmp_path: Path) -> None:
    # A perfect diagonal (every shown share is 100%) and a class without samples.
    confusion = np.diag([5, 0, 7])
    assert_png(plots.plot_confusion(confusion, tmp_path / "perfect.png"))


@pytest.mark.parametrize(
    ("confusion", "names", "message"),
    [
        (np.zeros((2, 3)), None, "KxK"),
        (np.array([[1, -1], [0, 1]]), None, "non-negative"),
        (np.eye(2), ["only one"], "class names"),
    ],
)
def test_confusion_rejects_bad_input(
    tmp_path: Path, confusion: np.ndarray, names: list[str] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plots.plot_confusion(confusion, tmp_path / "x.png", class_names=names)


# --------------------------------------------------------------------------- errors


def errors(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.random((count, 28, 28))
    true = rng.integers(0, 10, count)
    predicted = (true + 1) % 10
    confidence = rng.random(count)
    return images, true, predicted, confidence


def test_errors(tmp_path: Path) -> None:
    assert_png(plots.plot_errors(*errors(3), tmp_path / "err.png"))


def test_errors_zero_errors(tmp_path: Path) -> None:
    empty = np.empty((0, 28, 28))
    out = plots.plot_errors(empty, [], [], [], tmp_path / "none.png")
    assert_png(out)


def test_errors_more_than_max_items(tmp_path: Path) -> None:
    few = assert_png(plots.plot_errors(*errors(10), tmp_path / "few.png", max_items=4))
    all_ten = assert_png(plots.plot_errors(*errors(10), tmp_path / "all.png", max_items=10))
    # 4 items fit in one row, 10 need two: the cap really limits what is drawn.
    assert few[1] < all_ten[1]


def test_most_confident_orders_and_caps() -> None:
    confidence = np.array([0.2, math.nan, 0.9, 0.5, 0.9])
    order = _most_confident(confidence, 4)
    # Most confident first, ties in input order, NaN last (and here cut off).
    assert order.tolist() == [2, 4, 3, 0]


def test_errors_channel_axis_and_class_names(tmp_path: Path) -> None:
    images, true, predicted, confidence = errors(2)
    names = [f"digit {i}" for i in range(10)]
    out = plots.plot_errors(
        images[:, None], true, predicted, confidence, tmp_path / "c.png", class_names=names
    )
    assert_png(out)


def test_errors_rejects_mismatched_lengths(tmp_path: Path) -> None:
    images, true, predicted, confidence = errors(3)
    with pytest.raises(ValueError, match="same length"):
        plots.plot_errors(images, true[:2], predicted, confidence, tmp_path / "x.png")


# --------------------------------------------------------------------------- leaderboard


def test_leaderboard(tmp_path: Path) -> None:
    rows = [
        {"model": "mlp", "accuracy": 0.978},
        {"model": "cnn", "accuracy": 0.991},
        {"model": "logreg", "accuracy": 0.925},
    ]
    assert_png(plots.plot_leaderboard(rows, tmp_path / "lb.png"))


def test_leaderboard_single_model_other_metric(tmp_path: Path) -> None:
    rows = [{"model": "cnn", "f1": 0.99}]
    assert_png(plots.plot_leaderboard(rows, tmp_path / "lb1.png", metric="f1"))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "no models"),
        ([{"model": "cnn"}], "no numeric"),
        ([{"model": "cnn", "accuracy": 99.1}], "fraction"),
        ([{"accuracy": 0.9}], "model"),
    ],
)
def test_leaderboard_rejects_bad_rows(tmp_path: Path, rows: list[dict], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plots.plot_leaderboard(rows, tmp_path / "x.png")


def test_axis_limits_zoom_in() -> None:
    left, right = _axis_limits(np.array([97.0, 99.0]))
    # Zoomed: the axis does not start at 0, and both bars plus their labels fit.
    assert 90.0 < left < 97.0
    assert right > 99.0
