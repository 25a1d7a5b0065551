"""Data sets as in-memory arrays: the bundled MNIST, any folder of MNIST-format IDX files, or a
folder of labelled images of one's own handwriting.

Everything downstream sees `DigitSet`: uint8 images (N, 28, 28) with ink bright on a dark
background, as MNIST stores them, and integer labels. Validation is carved deterministically
from the training part; the test part is only ever used for the final report.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from digitrec.data.idx import read_idx
from digitrec.errors import DataError

log = logging.getLogger(__name__)

BUILTIN_DATA = ("mnist",)
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# Sets that a system package installs: name -> (folder, class names, how to get it).
SYSTEM_DATA = {
    "fashion-mnist": (
        Path("/usr/share/datasets/fashion-mnist"),
        FASHION_CLASSES,
        "apt-get install dataset-fashion-mnist",
    ),
}
# File name stems of the four IDX files; the test files are "t10k" in MNIST, "test" elsewhere.
_IDX_PARTS = {
    "train_images": ("train-images",),
    "train_labels": ("train-labels",),
    "test_images": ("t10k-images", "test-images"),
    "test_labels": ("t10k-labels", "test-labels"),
}


@dataclass(frozen=True)
class DigitSet:
    """Images (N, H, W) uint8, ink bright, and labels (N,) int64 indexing `classes`."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] = DIGIT_CLASSES

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels):
            raise DataError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray | slice) -> DigitSet:
        return DigitSet(self.images[indices], self.labels[indices], self.classes)

    def head(self, count: int | None) -> DigitSet:
        """The first `count` samples (all when None): quick runs on a small subset."""
        return self if count is None or count >= len(self) else self.subset(slice(0, count))

    def as_float(self) -> np.ndarray:
        """Images as float32 in [0, 1], the form every classifier's predict_proba takes."""
        return self.images.astype(np.float32) / 255.0


@dataclass(frozen=True)
class DataSplits:
    name: str
    train: DigitSet
    val: DigitSet
    test: DigitSet

    @property
    def classes(self) -> tuple[str, ...]:
        return self.train.classes


def validation_indices(count: int, val_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train, val) index split: the same count, size and seed give the same split."""
    if not 0 <= val_size < count:
        raise DataError(f"validation size {val_size} must be below the {count} training samples")
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[val_size:]), np.sort(order[:val_size])


def held_out(data: DigitSet, val_size: int, seed: int, name: str) -> DataSplits:
    """`data` as splits named `name`: `val_size` of it (validation_indices) held out, for
    validation and test alike, and the rest to train on. For the reader's small helper nets,
    whose data has no test part of its own."""
    train_idx, val_idx = validation_indices(len(data), val_size, seed)
    held = data.subset(val_idx)
    return DataSplits(name, data.subset(train_idx), held, held)


def load_splits(
    source: str = "mnist", *, val_size: int = 5000, seed: int = 0, train_limit: int | None = None
) -> DataSplits:
    """Train/validation/test splits of a data source (see `load_parts`).

    `train_limit` keeps only the first N training samples before the validation split, for
    quick runs; the validation set is carved from what is kept.
    """
    train, test = load_parts(source)
    train = train.head(train_limit)
    if val_size >= len(train):
        # A small folder of one's own digits can't spare 5,000: keep a sixth for validation.
        val_size = max(1, len(train) // 6)
        log.info("validation size reduced to %d for %d training samples", val_size, len(train))
    train_idx, val_idx = validation_indices(len(train), val_size, seed)
    return DataSplits(source, train.subset(train_idx), train.subset(val_idx), test)


def load_extra_set(path: str | Path, like: DigitSet) -> tuple[DigitSet, tuple[int, int] | None]:
    """More training digits from an .npz with `images` (N, H, W) uint8 and `labels` (N,), fit
    to be added to `like`; and the (val_size, seed) carving their source kept clear of, when
    the file records one as `holdout` (digitrec.data.photo_crops does)."""
    try:
        # An .npz is a zip archive. Anything else numpy would call pickled data and suggest
        # loading it unsafely, which digitrec never does: say what the file is not instead.
        if not zipfile.is_zipfile(path):
            raise ValueError("not a zip archive")
        data = np.load(Path(path), allow_pickle=False)
        with data:
            images, labels = data["images"], data["labels"]
            holdout = data["holdout"] if "holdout" in data.files else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not an .npz of images and labels ({error})") from None
    if images.dtype != np.uint8 or images.shape[1:] != like.images.shape[1:]:
        shape = "x".join(map(str, like.images.shape[1:]))
        raise DataError(
            f"{path}: expected uint8 images (N, {shape}), got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: labels must be integers (N,), got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(like.classes)):
        raise DataError(f"{path}: labels must be in 0-{len(like.classes) - 1}")
    extra = DigitSet(images, labels.astype(np.int64), like.classes)
    return extra, None if holdout is None else (int(holdout[0]), int(holdout[1]))


def load_test_set(source: str = "mnist") -> DigitSet:
    """The part of a source used for evaluation."""
    return load_parts(source)[1]


def load_parts(source: str) -> tuple[DigitSet, DigitSet]:
    """(train, test) of `source`: "mnist" (bundled), a folder of IDX files, or an image folder."""
    if source in BUILTIN_DATA:
        return _load_idx_folder(_bundled_folder(source), verify=True)
    if source in SYSTEM_DATA:
        folder, classes, install = SYSTEM_DATA[source]
        if not folder.is_dir():
            raise DataError(f"{source} is not installed in {folder} (try: {install})")
        return _load_idx_folder(folder, verify=False, classes=classes)
    folder = Path(source).expanduser()
    if not folder.exists():
        raise DataError(
            f"unknown data '{source}': not a known set "
            f"({', '.join([*BUILTIN_DATA, *SYSTEM_DATA])}) and no such folder"
        )
    if not folder.is_dir():
        raise DataError(f"{folder}: data must be a folder (IDX files or <label>/ image folders)")
    if _find_idx_files(folder) is not None:
        return _load_idx_folder(folder, verify=(folder / "SHA256SUMS").exists())
    from digitrec.data.image_folder import load_image_folder

    return load_image_folder(folder)


def _bundled_folder(name: str) -> Path:
    return Path(str(resources.files("digitrec.data").joinpath(name)))


def _find_idx_files(folder: Path) -> dict[str, Path] | None:
    found: dict[str, Path] = {}
    names = sorted(path.name for path in folder.iterdir() if path.is_file())
    for part, stems in _IDX_PARTS.items():
        matches = [
            name
            for name in names
            for stem in stems
            if name.startswith(stem) and ("idx" in name or name.endswith((".gz", ".ubyte")))
        ]
        if not matches:
            return None
        found[part] = folder / matches[0]
    return found


def _load_idx_folder(
    folder: Path, *, verify: bool, classes: tuple[str, ...] | None = None
) -> tuple[DigitSet, DigitSet]:
    files = _find_idx_files(folder)
    if files is None:
        raise DataError(f"{folder}: missing IDX files (need train/t10k images and labels)")
    if verify:
        verify_checksums(folder, files.values())
    classes = classes or _read_class_names(folder)
    train = _digit_set(files["train_images"], files["train_labels"], classes)
    test = _digit_set(files["test_images"], files["test_labels"], classes)
    if train.images.shape[1:] != test.images.shape[1:]:
        raise DataError(f"{folder}: train and test images differ in size")
    return train, test


def _digit_set(images_path: Path, labels_path: Path, classes: tuple[str, ...]) -> DigitSet:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{images_path}: expected uint8 images (N, H, W), got {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{labels_path}: {labels.shape} labels for {len(images)} images")
    if labels.size and labels.max() >= len(classes):
        raise DataError(f"{labels_path}: label {labels.max()} but only {len(classes)} classes")
    return DigitSet(images, labels.astype(np.int64), classes)


def _read_class_names(folder: Path) -> tuple[str, ...]:
    """Class names from an optional classes.txt (one per line), else the digits 0-9."""
    names_file = folder / "classes.txt"
    if not names_file.exists():
        return DIGIT_CLASSES
    names = tuple(line.strip() for line in names_file.read_text().splitlines() if line.strip())
    if not names:
        raise DataError(f"{names_file}: no class names")
    return names


def verify_checksums(folder: Path, paths: Iterable[Path]) -> None:
    """Check files against the folder's SHA256SUMS; a mismatch names the file."""
    sums_file = folder / "SHA256SUMS"
    expected: dict[str, str] = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            expected[name.strip().lstrip("*")] = digest.lower()
    for path in paths:
        want = expected.get(path.name)
        if want is None:
            raise DataError(f"{path}: no checksum listed in {sums_file}")
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as error:
            raise DataError(f"{path}: cannot read ({error.strerror or error})") from None
        if digest != want:
            raise DataError(f"{path}: checksum mismatch (corrupt or modified file)")
