"""Photo crops: labelled pipeline crops of synthetic photos of MNIST training digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from digitrec.data import photo_crops
from digitrec.data.datasets import load_splits
from digitrec.data.photo_crops import cached_crops, harvest_crops
from digitrec.data.synthetic_photos import GlyphSource, make_set

KINDS = ("single", "number")


@pytest.fixture(scope="module")
def train_glyphs() -> GlyphSource:
    return GlyphSource(mnist_part="train", use_fonts=False)


def test_train_glyphs_are_the_training_part_only(train_glyphs: GlyphSource) -> None:
    train = load_splits("mnist", val_size=5000, seed=0).train
    assert sum(len(pool) for pool in train_glyphs.by_digit) == len(train) == 55_000
    assert not train_glyphs.fonts
    with pytest.raises(ValueError, match="mnist_part"):
        GlyphSource(mnist_part="validation")


def test_crops_are_labelled_with_the_digits_written(train_glyphs: GlyphSource) -> None:
    harvest = harvest_crops(6, 3, kinds=KINDS, glyphs=train_glyphs)
    assert harvest.photos == 6
    assert harvest.images.dtype == np.uint8 and harvest.images.shape[1:] == (28, 28)
    assert harvest.labels.dtype == np.int64 and len(harvest.labels) == len(harvest.images)
    assert harvest.kept, "the pipeline should read at least one of six photos digit for digit"
    photos = list(make_set(6, 3, KINDS, train_glyphs))
    written = "".join(photos[index].text for index in harvest.kept)
    assert "".join(map(str, harvest.labels)) == written
    assert harvest.images.max() > 200  # ink bright, as MNIST stores it


def test_time_limit_stops_early_and_keeps_what_it_made(train_glyphs: GlyphSource) -> None:
    harvest = harvest_crops(50, 3, kinds=KINDS, seconds=0.0, glyphs=train_glyphs)
    assert harvest.photos == 1


def test_cache_is_made_once_per_parameters(tmp_path: Path, monkeypatch) -> None:
    made: list[int] = []

    def fake_harvest(photos: int, seed: int, **_: object) -> photo_crops.Harvest:
        made.append(seed)
        images = np.full((2, 28, 28), 7, np.uint8)
        return photo_crops.Harvest(images, np.array([4, 2]), photos, [0], 1.0)

    monkeypatch.setattr(photo_crops, "harvest_crops", fake_harvest)
    first = cached_crops(3, 1, cache_dir=tmp_path)
    assert cached_crops(3, 1, cache_dir=tmp_path) == first and made == [1]
    assert cached_crops(3, 2, cache_dir=tmp_path) != first and made == [1, 2]
    with np.load(first) as data:
        assert data["labels"].tolist() == [4, 2] and data["images"].dtype == np.uint8
        assert tuple(data["holdout"]) == photo_crops.HOLDOUT


def test_the_cache_key_names_the_fonts_drawn_on(tmp_path: Path, monkeypatch) -> None:
    """A harvest with the training fonts is another file than one of MNIST digits only, and
    saying `fonts=False` gives the same file as having no fonts installed."""
    installed: list[str] = []

    def fake_fonts(part: str) -> list[str]:
        assert part == "train"
        return list(installed)

    class FakeGlyphs:
        def __init__(self, *, mnist_part: str, use_fonts: bool) -> None:
            assert mnist_part == "train"
            self.fonts = fake_fonts(mnist_part) if use_fonts else []

    def fake_harvest(photos: int, seed: int, **_: object) -> photo_crops.Harvest:
        return photo_crops.Harvest(np.zeros((1, 28, 28), np.uint8), np.array([1]), 1, [0], 1.0)

    monkeypatch.setattr(photo_crops, "usable_fonts", fake_fonts)
    monkeypatch.setattr(photo_crops, "GlyphSource", FakeGlyphs)
    monkeypatch.setattr(photo_crops, "harvest_crops", fake_harvest)
    none_installed = cached_crops(3, 1, cache_dir=tmp_path)
    installed.append("/fonts/kristi/Kristi.ttf")
    with_fonts = cached_crops(3, 1, cache_dir=tmp_path)
    assert with_fonts != none_installed
    assert cached_crops(3, 1, fonts=False, cache_dir=tmp_path) == none_installed
    with np.load(with_fonts) as data:
        assert json.loads(str(data["params"]))["fonts"] == ["Kristi.ttf"]


def test_harvests_merge_into_one_training_file(tmp_path: Path) -> None:
    def harvest(name: str, labels: list[int], holdout: tuple[int, int]) -> Path:
        path = tmp_path / name
        images = np.stack([np.full((28, 28), label, np.uint8) for label in labels])
        np.savez_compressed(
            path,
            images=images,
            labels=np.array(labels, np.int64),
            holdout=np.array(holdout, np.int64),
            photos=len(labels) + 1,
            kept=len(labels),
            seconds=2.0,
            params='{"seed": 1}',
        )
        return path

    first, second = harvest("a.npz", [3, 1], (5000, 0)), harvest("b.npz", [4], (5000, 0))
    merged = tmp_path / "ab.npz"
    assert photo_crops.merge_crops([first, second], merged) == 3
    with np.load(merged) as data:
        assert list(data["labels"]) == [3, 1, 4]
        assert [int(image[0, 0]) for image in data["images"]] == [3, 1, 4]
        assert tuple(data["holdout"]) == (5000, 0) and int(data["photos"]) == 5
    other = harvest("c.npz", [2], (5000, 1))
    with pytest.raises(ValueError, match="validation carvings"):
        photo_crops.merge_crops([first, other], tmp_path / "bad.npz")
    # A merged file merges again; its parts' parameters stay a flat list.
    again = tmp_path / "aab.npz"
    assert photo_crops.merge_crops([merged, first], again) == 5
    with np.load(again) as data:
        assert json.loads(str(data["params"])) == [{"seed": 1}] * 3


def test_a_file_that_is_no_harvest_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    for source in (broken, tmp_path / "missing.npz"):
        with pytest.raises(SystemExit) as stop:
            photo_crops.main(["--merge", str(source), "--output", str(tmp_path / "out.npz")])
        assert stop.value.code == 1
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and str(source) in error and "Traceback" not in error
