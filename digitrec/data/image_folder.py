"""A folder of one's own labelled digit images: root/<label>/*.png|jpg|... .

Every image goes through the same MNIST-style normalization as a photo given to `predict`, so
a model trained here sees at prediction time exactly what it saw in training. If root holds
`train/` and `test/` folders (each laid out by label) they are used as given; otherwise a
deterministic sixth of the images is held out as the test part.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from digitrec.data.datasets import DigitSet
from digitrec.errors import DataError, ImageError

log = logging.getLogger(__name__)

_TEST_FRACTION = 6  # one image in six is held out when there is no test/ folder
_SPLIT_SEED = 0


def load_image_folder(root: Path) -> tuple[DigitSet, DigitSet]:
    if (root / "train").is_dir() and (root / "test").is_dir():
        classes = _class_names(root / "train")
        train = DigitSet(*_load_labelled(root / "train", classes), classes)
        test = DigitSet(*_load_labelled(root / "test", classes), classes)
        return train, test
    classes = _class_names(root)
    every = DigitSet(*_load_labelled(root, classes), classes)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(every))
    test_count = max(1, len(every) // _TEST_FRACTION)
    return every.subset(np.sort(order[test_count:])), every.subset(np.sort(order[:test_count]))


def _class_names(folder: Path) -> tuple[str, ...]:
    labels = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
    if not labels:
        raise DataError(f"{folder}: no <label>/ sub-folders of images (and no IDX files)")
    # Digit folders sort numerically so that folder "7" is class 7.
    if all(label.isdigit() for label in labels):
        labels.sort(key=int)
    return tuple(labels)


def _load_labelled(folder: Path, classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    from digitrec.vision.decode import image_suffixes, read_image_file, to_gray
    from digitrec.vision.mnist_frame import normalize_digit

    images: list[np.ndarray] = []
    labels: list[int] = []
    skipped = 0
    for index, label in enumerate(classes):
        label_dir = folder / label
        if not label_dir.is_dir():
            continue
        for path in sorted(label_dir.rglob("*")):
            if path.suffix.lower() not in image_suffixes():
                continue
            try:
                digit = normalize_digit(to_gray(read_image_file(path)))
            except ImageError as error:
                log.warning("skipping %s", error)
                skipped += 1
                continue
            if digit is None:
                log.warning("skipping %s: no digit found", path)
                skipped += 1
                continue
            images.append(np.round(digit * 255).astype(np.uint8))
            labels.append(index)
    if not images:
        raise DataError(f"{folder}: no usable images in its <label>/ folders")
    if skipped:
        log.warning("%s: skipped %d unusable images", folder, skipped)
    return np.stack(images), np.asarray(labels, dtype=np.int64)
