"""Digit candidates cut out of synthetic photos of numbers, labelled "one digit" or "not one
digit": training data for the gate (digitrec.gate) that tells the reader a whole digit from a
fragment of one, or from two digits run together. The digit classifier alone cannot: normalized
to 20 px, the left half of a 0 is a fine 1, and two touching digits often pass for one.

Every candidate that segmentation offers for the reader to choose among (vision.segment's
pieces, the halves of a blob cut tentatively, and joins of neighbouring pieces) is kept as its
context image (DigitCrop.context: its own ink at its line's digit scale), labelled by its box
against the boxes the digits were written in (piece_label); candidates between the two (most
of a digit, a little of its neighbour) are left out. Photos are drawn from MNIST *training*
digits and the training font families only, as in photo_crops.

    python -m digitrec.data.piece_crops --photos 20000 --seed 6000 --minutes 11

writes `runs/cache/piece-crops-<key>.npz` (uint8 `images` (N, 28, 28), int64 `labels`, 1 for
one digit), which `python -m digitrec.gate` trains on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from digitrec.data.photo_crops import CACHE_DIR, cached_harvest, harvest_parser
from digitrec.data.synthetic_photos import TRAIN_PART, GlyphSource, make_set

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x, y, w, h
ONE_DIGIT, NOT_ONE_DIGIT, UNSURE = 1, 0, -1
# One digit: the candidate holds WHOLE of a written digit's box, lies WITHIN it for the most
# part (the rest is a neighbour's edge or slant), and holds under STRAY of any other digit.
WHOLE = 0.85
WITHIN = 0.75
STRAY = 0.15
# Not one digit: it holds TWO_DIGITS of a second digit too, or under PART of the digit it
# lies MOSTLY within (a fragment). A candidate over no digit (a speck, what is left of a line)
# is neither: telling ink from no ink is the other steps' work, not the gate's.
TWO_DIGITS = 0.35
PART = 0.6
MOSTLY = 0.5


def covered(inner: Box, outer: Box) -> float:
    """The share of box `inner`'s area that lies inside box `outer`."""
    ax, ay, aw, ah = inner
    bx, by, bw, bh = outer
    width = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0, min(ay + ah, by + bh) - max(ay, by))
    return width * height / max(1, aw * ah)


def piece_label(box: Box, digits: Sequence[Box]) -> int:
    """ONE_DIGIT, NOT_ONE_DIGIT or UNSURE for a candidate's box, given the written digits'."""
    if not digits:
        return NOT_ONE_DIGIT
    held = [covered(digit, box) for digit in digits]
    within = [covered(box, digit) for digit in digits]
    best = int(np.argmax(held))
    second = sorted(held)[-2] if len(held) > 1 else 0.0
    if held[best] >= WHOLE and within[best] >= WITHIN and second < STRAY:
        return ONE_DIGIT
    if second >= TWO_DIGITS or (held[best] < PART and max(within) > MOSTLY):
        return NOT_ONE_DIGIT
    return UNSURE


def harvest_pieces(
    photos: int, seed: int, *, seconds: float | None = None, glyphs: GlyphSource | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """(images, labels, photos done) from up to `photos` number photos, stopping after
    `seconds`."""
    # Imported here: the data package does not load the vision stack at import.
    from digitrec.vision.segment import find_pieces

    glyphs = glyphs or GlyphSource(mnist_part=TRAIN_PART, use_fonts=False)
    images: list[np.ndarray] = []
    labels: list[int] = []
    done = 0
    started = time.perf_counter()
    for photo in make_set(photos, seed, ("number",), glyphs):
        done += 1
        pieces = find_pieces(photo.image)
        for crop in pieces.crops + [join.crop for join in pieces.joins]:
            label = piece_label(crop.box, photo.boxes)
            if label != UNSURE and crop.context is not None:
                images.append(np.clip(np.rint(crop.context * 255), 0, 255).astype(np.uint8))
                labels.append(label)
        if done % 500 == 0:
            log.info(
                "%d photos, %d pieces, %.0fs", done, len(labels), time.perf_counter() - started
            )
        if seconds is not None and time.perf_counter() - started > seconds:
            break
    stacked = np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)
    return stacked, np.array(labels, np.int64), done


def cached_pieces(
    photos: int,
    seed: int,
    *,
    minutes: float | None = None,
    fonts: bool = True,
    cache_dir: Path = CACHE_DIR,
) -> Path:
    """The .npz of `harvest_pieces`, made once per set of parameters and reused after."""

    def harvest(seconds: float | None, glyphs: GlyphSource) -> dict[str, object]:
        images, labels, done = harvest_pieces(photos, seed, seconds=seconds, glyphs=glyphs)
        return {"images": images, "labels": labels, "photos": done}

    return cached_harvest(
        "piece-crops", photos, seed, harvest, minutes=minutes, fonts=fonts, cache_dir=cache_dir
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = harvest_parser("Harvest labelled digit candidates of photos.", photos=20000, seed=6000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = cached_pieces(
        args.photos,
        args.seed,
        minutes=args.minutes,
        fonts=not args.no_fonts,
        cache_dir=args.cache_dir,
    )
    with np.load(path) as data:
        labels = data["labels"]
        print(
            f"{path}: {len(labels)} candidates ({int(labels.sum())} one digit) from "
            f"{int(data['photos'])} photos ({float(data['seconds']):.0f}s)"
        )


if __name__ == "__main__":
    main()
