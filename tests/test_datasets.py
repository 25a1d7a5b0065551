import shutil

import numpy as np
import pytest

from digitrec.data.datasets import (
    DigitSet,
    held_out,
    load_parts,
    load_splits,
    load_test_set,
    validation_indices,
)
from digitrec.data.idx import write_idx
from digitrec.errors import DataError
from tests.conftest import mnist_png_bytes

MNIST_DIR = "digitrec/data/mnist"


def test_bundled_mnist_parts(mnist_parts):
    train, test = mnist_parts
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == np.uint8
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(test.labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert train.images.mean() / 255 == pytest.approx(0.1307, abs=1e-4)


def test_validation_split_is_deterministic_and_disjoint():
    train_a, val_a = validation_indices(1000, 100, seed=3)
    _, val_b = validation_indices(1000, 100, seed=3)
    np.testing.assert_array_equal(val_a, val_b)
    assert len(val_a) == 100 and len(train_a) == 900
    assert not set(train_a) & set(val_a)
    assert not np.array_equal(validation_indices(1000, 100, seed=4)[1], val_a)


def test_held_out_part_is_both_validation_and_test_and_kept_apart_from_training():
    images = np.repeat(np.arange(50, dtype=np.uint8), 28 * 28).reshape(50, 28, 28)  # k is k
    labels = np.arange(50) % 2
    splits = held_out(DigitSet(images, labels, ("no", "yes")), 10, seed=1, name="marks")
    assert (splits.name, len(splits.train), len(splits.val)) == ("marks", 40, 10)
    assert splits.val is splits.test and splits.classes == ("no", "yes")
    seen = np.concatenate([splits.train.images[:, 0, 0], splits.val.images[:, 0, 0]])
    assert sorted(seen.tolist()) == list(range(50))
    with pytest.raises(DataError):
        held_out(DigitSet(images, labels, ("no", "yes")), 50, seed=1, name="marks")


def test_splits_keep_test_apart():
    splits = load_splits("mnist", val_size=5000, train_limit=None)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (55000, 5000, 10000)


def test_corrupted_bundled_file_is_named(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(MNIST_DIR, folder)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        load_parts(str(folder))


def _write_idx_set(folder, train_count=60, test_count=20, test_stem="t10k"):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(
        folder / "train-images-idx3-ubyte.gz",
        rng.integers(0, 255, (train_count, 28, 28), dtype=np.uint8),
    )
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(train_count, dtype=np.uint8) % 10)
    write_idx(folder / f"{test_stem}-images-idx3-ubyte", np.zeros((test_count, 28, 28), np.uint8))
    write_idx(folder / f"{test_stem}-labels-idx1-ubyte", np.arange(test_count, dtype=np.uint8) % 10)


def test_any_idx_folder_loads(tmp_path):
    _write_idx_set(tmp_path / "fashion", test_stem="test")
    (tmp_path / "fashion" / "classes.txt").write_text("\n".join(f"c{i}" for i in range(10)))
    splits = load_splits(str(tmp_path / "fashion"), val_size=10)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (50, 10, 20)
    assert splits.classes[3] == "c3"


def test_idx_folder_with_mismatched_counts(tmp_path):
    _write_idx_set(tmp_path / "bad")
    write_idx(tmp_path / "bad" / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="labels for 60 images"):
        load_parts(str(tmp_path / "bad"))


def test_unknown_source_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match="unknown data"):
        load_parts("no-such-set")
    with pytest.raises(DataError, match="no <label>/ sub-folders"):
        load_parts(str(tmp_path))


def test_image_folder_of_own_handwriting(tmp_path, mnist_parts):
    _, test = mnist_parts
    for index in range(40):
        label_dir = tmp_path / "digits" / str(test.labels[index])
        label_dir.mkdir(parents=True, exist_ok=True)
        (label_dir / f"{index}.png").write_bytes(mnist_png_bytes(test.images[index]))
    (tmp_path / "digits" / "3" / "notes.txt").write_text("not an image")
    (tmp_path / "digits" / "3" / "broken.png").write_bytes(b"\x89PNG broken")
    train, held_out = load_parts(str(tmp_path / "digits"))
    assert len(train) + len(held_out) == 40  # the broken image is skipped, not fatal
    assert train.images.shape[1:] == (28, 28)
    assert held_out.classes == tuple(str(d) for d in sorted(set(test.labels[:40])))
    # Normalized like MNIST: bright ink on black, 20-px box.
    assert train.images[:, 0, :].max() == 0 and train.images.max() == 255


def test_image_folder_with_no_usable_images(tmp_path):
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "blank.png").write_bytes(mnist_png_bytes(np.zeros((28, 28), np.uint8)))
    with pytest.raises(DataError, match="no usable images"):
        load_test_set(str(tmp_path))
