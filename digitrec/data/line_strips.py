"""Line strips cut out of synthetic photos of numbers, with the digits each holds: training data
for the line reader (digitrec.line_reader), which reads a whole line of digits at once.

Each photo goes through segmentation as any photo would (vision.segment.find_pieces); each text
line's strip (vision.strips) is labelled with the written digits whose box centres fall within
it. A strip that cuts through a digit's box (centre outside, much of the box inside) is left
out: its label would be a guess. Photos are drawn from MNIST *training* digits and the training
font families only, as in photo_crops and piece_crops.

    python -m digitrec.data.line_strips --photos 20000 --seed 9000 --minutes 10

writes `runs/cache/line-strips-<key>.npz`: uint8 `images` (N, 32, MAX_STRIP) padded with
zeros, int64 `widths` (N,), and `texts` (N,) strings.
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
MAX_STRIP = 320  # px: longer strips are left out of training data (8 digits fit in ~250)
CUT_THROUGH = 0.3  # a digit with this much of its box in a strip but its centre outside


def strip_text(
    columns: tuple[float, float], rows: tuple[int, int], texts: str, boxes: Sequence[Box]
) -> str | None:
    """The written digits inside a strip spanning original x `columns` and y `rows`, left to
    right, or None if the strip cuts through one."""
    inside = []
    (left, right), (top, bottom) = columns, rows
    for digit, (x, y, w, h) in zip(texts, boxes, strict=True):
        cx, cy = x + w / 2, y + h / 2
        if left <= cx <= right and top <= cy <= bottom:
            inside.append((cx, digit))
            continue
        across = max(0.0, min(x + w, right) - max(x, left)) / max(w, 1)
        down = max(0.0, min(y + h, bottom) - max(y, top)) / max(h, 1)
        if across * down >= CUT_THROUGH:
            return None
    return "".join(digit for _, digit in sorted(inside))


def harvest_strips(
    photos: int, seed: int, *, seconds: float | None = None, glyphs: GlyphSource | None = None
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """(images, widths, texts, photos done) from up to `photos` photos of numbers and single
    digits, stopping after `seconds`."""
    # Imported here: the data package does not load the vision stack at import.
    from digitrec.vision.segment import find_pieces

    glyphs = glyphs or GlyphSource(mnist_part=TRAIN_PART, use_fonts=False)
    images: list[np.ndarray] = []
    widths: list[int] = []
    texts: list[str] = []
    done = 0
    started = time.perf_counter()
    for photo in make_set(photos, seed, ("number", "number", "single"), glyphs):
        done += 1
        for strip in find_pieces(photo.image).strips:
            width = strip.image.shape[1]
            span = (float(strip.columns[0]), float(strip.columns[-1]))
            text = strip_text(span, (strip.top, strip.bottom), photo.text, photo.boxes)
            if not text or width > MAX_STRIP:
                continue
            padded = np.zeros((strip.image.shape[0], MAX_STRIP), np.uint8)
            padded[:, :width] = np.clip(np.rint(strip.image * 255), 0, 255)
            images.append(padded)
            widths.append(width)
            texts.append(text)
        if done % 500 == 0:
            log.info("%d photos, %d strips, %.0fs", done, len(texts), time.perf_counter() - started)
        if seconds is not None and time.perf_counter() - started > seconds:
            break
    stacked = np.stack(images) if images else np.zeros((0, 32, MAX_STRIP), np.uint8)
    return stacked, np.array(widths, np.int64), texts, done


def cached_strips(
    photos: int,
    seed: int,
    *,
    minutes: float | None = None,
    fonts: bool = True,
    cache_dir: Path = CACHE_DIR,
) -> Path:
    """The .npz of `harvest_strips`, made once per set of parameters and reused after."""

    def harvest(seconds: float | None, glyphs: GlyphSource) -> dict[str, object]:
        images, widths, texts, done = harvest_strips(photos, seed, seconds=seconds, glyphs=glyphs)
        return {"images": images, "widths": widths, "texts": np.array(texts), "photos": done}

    return cached_harvest(
        "line-strips", photos, seed, harvest, minutes=minutes, fonts=fonts, cache_dir=cache_dir
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = harvest_parser("Harvest labelled line strips of photos.", photos=20000, seed=9000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = cached_strips(
        args.photos,
        args.seed,
        minutes=args.minutes,
        fonts=not args.no_fonts,
        cache_dir=args.cache_dir,
    )
    with np.load(path) as data:
        print(
            f"{path}: {len(data['texts'])} strips from {int(data['photos'])} photos "
            f"({float(data['seconds']):.0f}s)"
        )


if __name__ == "__main__":
    main()
