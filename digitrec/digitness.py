"""The digitness check: is what the reader found a digit at all, or a scribble, a letter, a
doodle?

The digit classifier answers one of ten digits for anything, and a scribble or a letter often
gets a confident one. This second opinion sees the same 28x28 crop and says how likely it is
a digit of any kind. The reader (digitrec.predictor) flags a digit it doubts as low confidence,
and answers "no digit" for an image whose every digit it doubts.

It is a `fastcnn` trained with the ordinary training loop on marks drawn by
digitrec.data.non_digits (MNIST training digits, the training fonts' and printed digits,
against scribbles, letters and doodles), and on what segmentation cuts out of synthetic
photos: of digits (data.photo_crops) and of non-digits (data.non_digit_crops):

    python -m digitrec.digitness --photo-digits runs/cache/photo-crops-*.npz \
        --non-digit-crops runs/cache/non-digit-crops-*.npz

writes digitrec/pretrained/digitness/digitness.safetensors and its ONNX twin.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from digitrec.models.classifier import Classifier

log = logging.getLogger(__name__)

DIGITNESS_CLASSES = ("not a digit", "digit")
VALIDATION = 5000  # marks held out to report the check's accuracy


def shipped_digitness_path() -> Path:
    root = Path(str(resources.files("digitrec.pretrained")))
    return root / "digitness" / "digitness.safetensors"


@cache
def load_digitness() -> Classifier:
    """The shipped check (loaded once per process: it never changes while one runs)."""
    from digitrec.models.loading import load_classifier

    return load_classifier(shipped_digitness_path())


def digit_probability(check: Classifier, digits: np.ndarray) -> np.ndarray:
    """(N,) probability that each MNIST-style crop (N, 28, 28) in [0, 1] is a digit."""
    return np.asarray(check.predict_proba(digits))[:, DIGITNESS_CLASSES.index("digit")]


def train_digitness(
    count: int,
    photo_digits: Sequence[Path] = (),
    non_digit_crops: Sequence[Path] = (),
    *,
    epochs: int = 8,
    seed: int = 0,
    threads: int | None = None,
) -> Classifier:
    """A check trained on `count` drawn marks (half digits), the digits cut out of photos
    (`photo_digits`: data.photo_crops harvests) and the non-digits (`non_digit_crops`:
    data.non_digit_crops harvests); VALIDATION of them held out."""
    from digitrec.config import TrainConfig
    from digitrec.data.datasets import DataSplits, DigitSet
    from digitrec.data.non_digits import marks
    from digitrec.training import train

    images, labels = marks(count, seed)
    parts, tags = [images], [labels]
    for paths, label in ((photo_digits, 1), (non_digit_crops, 0)):
        for path in paths:
            with np.load(path, allow_pickle=False) as data:
                parts.append(data["images"])
                tags.append(np.full(len(data["images"]), label, np.int64))
    everything = DigitSet(np.concatenate(parts), np.concatenate(tags), DIGITNESS_CLASSES)
    order = np.random.default_rng(seed).permutation(len(everything))
    held, kept = everything.subset(order[:VALIDATION]), everything.subset(order[VALIDATION:])
    config = TrainConfig(
        model="fastcnn",
        epochs=epochs,
        seed=seed,
        threads=threads,
        precision="fp32",
        augment_rotation=10.0,
        augment_shift=0.08,
    )
    result = train(config, DataSplits("marks", kept, held, held))
    log.info("digitness: validation accuracy %.4f", result.history[-1]["val_acc"])
    return result.classifier


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the digitness check.")
    parser.add_argument("--marks", type=int, default=100000, help="drawn marks, half digits")
    parser.add_argument(
        "--photo-digits", type=Path, nargs="*", default=[], help="photo_crops harvests"
    )
    parser.add_argument(
        "--non-digit-crops", type=Path, nargs="*", default=[], help="non_digit_crops harvests"
    )
    parser.add_argument("--output", type=Path, default=shipped_digitness_path())
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from digitrec.export import save_with_twin

    check = train_digitness(
        args.marks,
        args.photo_digits,
        args.non_digit_crops,
        epochs=args.epochs,
        seed=args.seed,
        threads=args.threads,
    )
    twin = save_with_twin(check, args.output)
    print(f"digitness check written to {args.output} and {twin}")


if __name__ == "__main__":
    main()
