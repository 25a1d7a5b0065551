"""The digitness check: is what the reader found a digit at all, or a scribble, a letter, a
doodle?

The digit classifier answers one of ten digits for anything, and a scribble or a letter often
gets a confident one. This second opinion sees the same 28x28 crop and says how likely it is
a digit of any kind. The reader (digitrec.predictor) flags every digit of a reading whose crops
it doubts as low confidence (the text stays), and told there is one digit, counts what a last
look found only if the check vouches for it (digitrec.single_digit).

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
# The reader flags every digit of a reading whose crops the check gives a median under this
# probability of being digits (doubted). On synthetic photos (tune half) of one mark, read
# without `single`: of those read as a digit the model is sure of, 17 of 55 letters of the
# evaluation fonts and 15 of 44 scribbles are flagged, and 4 of 589 single digits read right
# (0.1: 20, 19 and 6; 0.02: 11, 12 and 1). Of 536 numbers of 2-8 digits read right, 6 are
# flagged, and 41 of 134 rows of letters read as digits. The median: a number's crops need not
# be what the line reader reads, and each alone is often unsure.
DOUBTED_DIGITS = 0.05
# Told there is one digit, where no look found a stroke, single_digit.look_harder takes a last
# look at any ink but ruled lines (vision.strokes.stroke_tests' any_ink): a bold chalk digit
# is a filled blob to the stroke tests, a 13-px digit on ruled paper too soft. What it finds counts
# if the model reads it with SINGLE_SECOND_LOOK_CONFIDENCE and not as a 1 (there a 1 is a bar,
# which is what a shadow's or the paper's edge leaves), and the check gives it at least this
# probability of being a digit (vouched). On synthetic photos (tune half), single digits read
# 1,955 -> 1,957 of 2,000 and blank pages read with `single` 377 of 400 as before; taking 1s
# too, 1,959 and 373 (four edges on blank pages read as a sure 1); asking nothing of the
# check, 1,957 and 372. The last look found something on 52 of those 400 blank pages.
LAST_LOOK_DIGITNESS = 0.5


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


def doubted(check: Classifier, digits: np.ndarray) -> bool:
    """Whether the check gives the crops (N, 28, 28) a median under DOUBTED_DIGITS of being
    digits: the reader flags them all."""
    return _median_probability(check, digits) < DOUBTED_DIGITS


def vouched(check: Classifier, digits: np.ndarray) -> bool:
    """Whether the check gives the crops (N, 28, 28) a median of LAST_LOOK_DIGITNESS of being
    digits: what a last look found may count."""
    return _median_probability(check, digits) >= LAST_LOOK_DIGITNESS


def _median_probability(check: Classifier, digits: np.ndarray) -> float:
    return float(np.median(digit_probability(check, digits)))


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
    from digitrec.data.datasets import DigitSet, held_out
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
    config = TrainConfig(
        model="fastcnn",
        epochs=epochs,
        seed=seed,
        threads=threads,
        precision="fp32",
        augment_rotation=10.0,
        augment_shift=0.08,
    )
    result = train(config, held_out(everything, VALIDATION, seed, "marks"))
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
