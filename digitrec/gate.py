"""The gate: is a digit candidate one whole digit, or a fragment of one, or two run together?

Segmentation offers the reader alternatives (a piece alone or joined with its neighbour, a
wide blob whole or cut in two: vision.joins) and the reader keeps the likeliest partition. The
digit classifier's confidence alone misleads that choice: each candidate is normalized to a
20-px box first, so a half 0 is a confident 1 and a fragment of a 7 a fair 1. The gate sees
each candidate's context image instead (vision.look.context_image: its own ink at the scale
of its line's digits), where a fragment looks small and two digits too wide, and says how
likely it is one digit; the reader adds GATE_WEIGHT times the log of that to each candidate's
score.

It is a `fastcnn` trained with the ordinary training loop on candidates harvested from
synthetic photos of MNIST training digits and the training fonts (data.piece_crops):

    python -m digitrec.gate --data runs/cache/piece-crops-A.npz runs/cache/piece-crops-B.npz

writes digitrec/pretrained/gate/one-digit.safetensors and its ONNX twin.
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

GATE_CLASSES = ("not one digit", "one digit")
# How much the gate's log-probability counts against the classifier's, in a candidate's score.
# On synthetic photos (tune half, 1,000 numbers) 0.3, 0.5 and 1.0 read about as well (760,
# 760, 759 right; 733 without the gate); 2.0 a little worse.
GATE_WEIGHT = 0.5
VALIDATION = 5000  # candidates held out to report the gate's accuracy


def shipped_gate_path() -> Path:
    return Path(str(resources.files("digitrec.pretrained"))) / "gate" / "one-digit.safetensors"


@cache
def load_gate() -> Classifier:
    """The shipped gate (loaded once per process: it never changes while one runs)."""
    from digitrec.models.loading import load_classifier

    return load_classifier(shipped_gate_path())


def one_digit_probability(gate: Classifier, contexts: np.ndarray) -> np.ndarray:
    """(N,) probability that each candidate, given by its context image (N, 28, 28), is one
    digit."""
    return np.asarray(gate.predict_proba(contexts))[:, GATE_CLASSES.index("one digit")]


def train_gate(
    paths: Sequence[Path], *, epochs: int = 4, seed: int = 0, threads: int | None = None
) -> Classifier:
    """A gate trained on piece_crops harvests (`paths`), VALIDATION of them held out."""
    from digitrec.config import TrainConfig
    from digitrec.data.datasets import DigitSet, held_out
    from digitrec.training import train

    images, labels = [], []
    for path in paths:
        with np.load(path, allow_pickle=False) as data:
            images.append(data["images"])
            labels.append(data["labels"].astype(np.int64))
    everything = DigitSet(np.concatenate(images), np.concatenate(labels), GATE_CLASSES)
    config = TrainConfig(
        model="fastcnn", epochs=epochs, seed=seed, threads=threads, precision="fp32"
    )
    result = train(config, held_out(everything, VALIDATION, seed, "piece-crops"))
    log.info("gate: validation accuracy %.4f", result.history[-1]["val_acc"])
    return result.classifier


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the one-digit gate on piece crops.")
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="piece_crops files")
    parser.add_argument("--output", type=Path, default=shipped_gate_path())
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from digitrec.export import save_with_twin

    gate = train_gate(args.data, epochs=args.epochs, seed=args.seed, threads=args.threads)
    twin = save_with_twin(gate, args.output)
    print(f"gate written to {args.output} and {twin}")


if __name__ == "__main__":
    main()
