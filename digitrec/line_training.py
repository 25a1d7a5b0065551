"""Training the line reader (digitrec.line_reader) on strips the pipeline cut out of synthetic
photos of MNIST training digits and the training fonts (data.line_strips), and on strips drawn
from MNIST training digits afresh each epoch (data.drawn_strips):

    python -m digitrec.line_training --data runs/cache/line-strips-*.npz

writes digitrec/pretrained/line/line-reader.safetensors. Its own loop, not digitrec.training's:
that one fits classifiers of fixed-size images to one label each, this net maps strips of any
width to sequences, with CTC.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from digitrec.line_reader import (
    BLANK,
    LineNet,
    LineReader,
    ctc_targets,
    padded_batch,
    shipped_line_reader_path,
)
from digitrec.vision.strips import STRIP_HEIGHT

log = logging.getLogger(__name__)

VALIDATION = 1000  # strips held out to report the reader's accuracy


def load_strips(paths: Sequence[Path]) -> tuple[list[np.ndarray], list[str]]:
    strips, texts = [], []
    for path in paths:
        with np.load(path, allow_pickle=False) as data:
            for image, width, text in zip(
                data["images"], data["widths"], data["texts"], strict=True
            ):
                strips.append(image[:, :width].astype(np.float32) / 255.0)
                texts.append(str(text))
    return strips, texts


def _augmented(strip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The strip a little wider or narrower and shifted up or down, as handwriting varies."""
    import cv2

    width = max(4, round(strip.shape[1] * rng.uniform(0.85, 1.15)))
    out = cv2.resize(strip, (width, STRIP_HEIGHT), interpolation=cv2.INTER_LINEAR)
    return np.roll(out, int(rng.integers(-2, 3)), axis=0)


def train_line_reader(
    paths: Sequence[Path],
    *,
    epochs: int = 12,
    drawn: int | None = None,
    seed: int = 0,
    threads: int | None = None,
    width: int = 32,
    batch_size: int = 64,
    validation: int = VALIDATION,
) -> tuple[LineReader, float]:
    """A reader trained on line_strips harvests, `validation` strips held out, and each epoch on
    `drawn` fresh strips drawn from MNIST training digits (data.drawn_strips; as many as the
    harvests hold by default); and its exact-line accuracy on the held-out strips."""
    from digitrec.data.datasets import load_splits
    from digitrec.data.drawn_strips import drawn_strip
    from digitrec.data.synthetic_photos import TRAIN_HOLDOUT

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    strips, texts = load_strips(paths)
    order = rng.permutation(len(strips))
    held, kept = order[:validation], order[validation:]
    val_size, carving_seed = TRAIN_HOLDOUT
    digits = load_splits("mnist", val_size=val_size, seed=carving_seed).train
    drawn = len(kept) if drawn is None else drawn
    net = LineNet(width)
    steps = epochs * ((len(kept) + drawn) // batch_size)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 3e-3, total_steps=steps)
    started = time.perf_counter()
    accuracy = 0.0
    for epoch in range(epochs):
        net.train()
        examples = [(_augmented(strips[k], rng), texts[k]) for k in kept]
        examples += [drawn_strip(digits, rng) for _ in range(drawn)]
        shuffled = rng.permutation(len(examples))
        # Strips of similar width together, in chunks of 20 batches: less padding to compute.
        chunk_size = batch_size * 20
        total, count = 0.0, 0
        for first in range(0, len(shuffled), chunk_size):
            chunk = sorted(
                shuffled[first : first + chunk_size], key=lambda k: examples[k][0].shape[1]
            )
            for i in range(0, len(chunk) - batch_size + 1, batch_size):
                members = [examples[k] for k in chunk[i : i + batch_size]]
                batch, frames = padded_batch([strip for strip, _ in members])
                targets, lengths = ctc_targets([text for _, text in members])
                loss = F.ctc_loss(
                    net(batch), targets, frames, lengths, blank=BLANK, zero_infinity=True
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if schedule.last_epoch < steps - 1:
                    schedule.step()
                total += loss.item() * len(members)
                count += len(members)
        net.eval()
        accuracy = line_accuracy(
            LineReader(net), [strips[k] for k in held], [texts[k] for k in held]
        )
        log.info(
            "epoch %d: loss %.4f, held-out lines %.4f, %.0fs",
            epoch + 1,
            total / max(count, 1),
            accuracy,
            time.perf_counter() - started,
        )
    return LineReader(net.eval()), accuracy


def line_accuracy(reader: LineReader, strips: Sequence[np.ndarray], texts: Sequence[str]) -> float:
    right = 0
    for i in range(0, len(strips), 256):
        readings = reader.read(strips[i : i + 256])
        right += sum(r.text == t for r, t in zip(readings, texts[i : i + 256], strict=True))
    return right / max(len(strips), 1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the line reader on line strips.")
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--drawn", type=int, help="strips drawn from MNIST per epoch")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--output", type=Path, default=shipped_line_reader_path())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    reader, accuracy = train_line_reader(
        args.data,
        epochs=args.epochs,
        drawn=args.drawn,
        seed=args.seed,
        threads=args.threads,
        width=args.width,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    reader.save(
        args.output,
        {
            "width": args.width,
            "held_out_accuracy": accuracy,
            "seconds": round(time.perf_counter() - started),
        },
    )
    print(f"{args.output}: {accuracy:.4f} of held-out lines read exactly")


if __name__ == "__main__":
    main()
