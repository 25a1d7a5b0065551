"""Extra training digits (`extra_data`): added to the training part only, checked first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digitrec.cli.train import add_parser, config_from_args
from digitrec.config import recipe_config
from digitrec.errors import DataError, DigitrecError
from digitrec.training import train, training_part


def _extra(path: Path, count: int = 40, **extra: np.ndarray) -> str:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    np.savez(path, images=images, labels=rng.integers(0, 10, count), **extra)
    return str(path)


def test_extra_digits_join_the_training_part_only(tiny_splits, tmp_path: Path) -> None:
    config = recipe_config("fast", epochs=1, batch_size=32, threads=1)
    config.extra_data = _extra(tmp_path / "extra.npz")
    part = training_part(config, tiny_splits)
    assert len(part) == len(tiny_splits.train) + 40
    assert np.array_equal(part.images[: len(tiny_splits.train)], tiny_splits.train.images)
    with np.load(config.extra_data) as data:
        assert np.array_equal(part.labels[-40:], data["labels"])

    with_extra = train(config, tiny_splits)
    without = train(recipe_config("fast", epochs=1, batch_size=32, threads=1), tiny_splits)
    # The standardization is the training part's: random-pixel extras move it.
    assert with_extra.classifier.mean == pytest.approx(float(part.images.mean()) / 255)
    assert with_extra.classifier.mean != without.classifier.mean
    # Validation is untouched: both runs are measured on the same digits.
    assert len(with_extra.history) == len(without.history) == 1


def test_bad_extra_data_is_refused(tiny_splits, tmp_path: Path) -> None:
    config = recipe_config("fast", epochs=1, threads=1)
    config.extra_data = str(tmp_path / "missing.npz")
    with pytest.raises(DigitrecError, match="no such file"):
        config.validate()
    for name, content in (("garbage.npz", b"not numpy"), ("missing-labels.npz", None)):
        bad = tmp_path / name
        if content is None:
            np.savez(bad, images=np.zeros((3, 28, 28), np.uint8))
        else:
            bad.write_bytes(content)
        config.extra_data = str(bad)
        with pytest.raises(DataError, match="not an .npz of images and labels"):
            training_part(config, tiny_splits)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, images=np.zeros((3, 14, 14), np.uint8), labels=np.zeros(3, np.int64))
    config.extra_data = str(wrong)
    with pytest.raises(DataError, match="28x28"):
        training_part(config, tiny_splits)
    labels = tmp_path / "labels.npz"
    np.savez(labels, images=np.zeros((3, 28, 28), np.uint8), labels=np.array([0, 1, 10]))
    config.extra_data = str(labels)
    with pytest.raises(DataError, match="0-9"):
        training_part(config, tiny_splits)


def test_photo_crops_demand_the_split_they_avoided(tiny_splits, tmp_path: Path) -> None:
    # Crops of training digits outside the (5000, seed 0) validation set must not meet a
    # differently carved validation set, which could hold those very digits.
    path = _extra(tmp_path / "crops.npz", holdout=np.array([5000, 0]))
    config = recipe_config("fast", epochs=1, threads=1, seed=1, extra_data=path)
    with pytest.raises(DigitrecError, match="seed 0"):
        training_part(config, tiny_splits)
    config = recipe_config("fast", epochs=1, threads=1, extra_data=path)
    assert len(training_part(config, tiny_splits)) == len(tiny_splits.train) + 40


def test_cli_flag_reaches_the_config(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    path = _extra(tmp_path / "extra.npz")
    args = parser.parse_args(["train", "--recipe", "fastcnn", "--extra-data", path])
    assert config_from_args(args).extra_data == path


def test_classic_models_train_on_the_extra_digits_too(tiny_splits, tmp_path: Path) -> None:
    from digitrec.config import TrainConfig
    from digitrec.runs import fit_classic

    config = TrainConfig(model="knn", extra_data=_extra(tmp_path / "extra.npz"))
    result = fit_classic(config, tiny_splits, show_progress=False)
    # A kNN keeps its training digits: the 40 extra ones are among them.
    assert len(result.classifier.train_labels) == len(tiny_splits.train) + 40
