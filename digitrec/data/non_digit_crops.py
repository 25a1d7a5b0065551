"""What segmentation cuts out of photos of marks that are not digits: the non-digit side of the
digitness check's training data (digitrec.digitness), as the reader sees it in a photo.

Synthetic photos (digitrec.data.synthetic_photos) are drawn with NonDigitGlyphs in place of
digits: a photo of "one digit" holds one mark of digitrec.data.non_digits (a scribble, a letter
of the training fonts, a doodle), one of "a number" a row of 2-8 of them, a word. Every
candidate `segment_digits` finds there is kept, but the bar-like ones (non_digits.bar_like):
a stroke of a letter cut alone is a 1 to anyone.

    python -m digitrec.data.non_digit_crops --photos 6000 --seed 9001 --minutes 7

writes `runs/cache/non-digit-crops-<key>.npz` (uint8 `images` (N, 28, 28)).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from digitrec.data.non_digits import KINDS, bar_like, makers
from digitrec.data.photo_crops import CACHE_DIR, cached_harvest, harvest_parser
from digitrec.data.synthetic_photos import TRAIN_PART, GlyphSource, make_set, usable_fonts

log = logging.getLogger(__name__)


class NonDigitGlyphs(GlyphSource):
    """A GlyphSource whose every "digit" is a non-digit mark of the fonts of `part`: a photo of
    a number is one of a word, or of a row of scribbles and doodles."""

    def __init__(self, part: str = TRAIN_PART) -> None:  # no digits to load
        self.drawers = makers(usable_fonts(part))

    def glyph(self, rng: np.random.Generator, digit: int, height: float) -> np.ndarray:
        del digit, height  # any mark; the photo scales it to its line's height
        mask = None
        while mask is None:
            mask = self.drawers[KINDS[int(rng.integers(len(KINDS)))]](rng)
        return mask


def harvest_non_digits(
    photos: int, seed: int, *, seconds: float | None = None, part: str = TRAIN_PART
) -> tuple[np.ndarray, int]:
    """The candidates segmentation finds in up to `photos` photos of non-digit marks, less the
    bar-like ones, stopping after `seconds`: (uint8 (N, 28, 28), photos made)."""
    # Imported here: the data package does not load the vision stack at import.
    from digitrec.vision.segment import segment_digits

    crops: list[np.ndarray] = []
    done = 0
    started = time.perf_counter()
    for photo in make_set(photos, seed, ("single", "number"), NonDigitGlyphs(part)):
        done += 1
        crops += [crop.image for crop in segment_digits(photo.image) if not bar_like(crop.image)]
        if done % 200 == 0:
            log.info("%d photos, %d crops, %.0fs", done, len(crops), time.perf_counter() - started)
        if seconds is not None and time.perf_counter() - started > seconds:
            break
    stacked = np.stack(crops) if crops else np.zeros((0, 28, 28), np.float32)
    return np.clip(np.rint(stacked * 255), 0, 255).astype(np.uint8), done


def cached_non_digits(
    photos: int, seed: int, *, minutes: float | None = None, cache_dir: Path = CACHE_DIR
) -> Path:
    """The .npz of `harvest_non_digits`, made once per set of parameters and reused after."""

    def harvest(seconds: float | None, glyphs: GlyphSource) -> dict[str, object]:
        del glyphs  # the marks are drawn by NonDigitGlyphs
        images, done = harvest_non_digits(photos, seed, seconds=seconds)
        return {"images": images, "photos": done}

    return cached_harvest(
        "non-digit-crops", photos, seed, harvest, minutes=minutes, cache_dir=cache_dir
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = harvest_parser("Harvest candidates of photos of non-digits.", photos=6000, seed=9001)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = cached_non_digits(args.photos, args.seed, minutes=args.minutes, cache_dir=args.cache_dir)
    with np.load(path) as data:
        print(f"{path}: {len(data['images'])} candidates from {int(data['photos'])} photos")


if __name__ == "__main__":
    main()
