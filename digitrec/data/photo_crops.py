"""Labelled 28x28 digits cut out of synthetic photos by digitrec's own pipeline: training data
that looks like what a model sees when it reads a photo (thicker, blurred or broken strokes,
threshold artefacts), which MNIST alone does not show it.

Photos (digitrec.data.synthetic_photos) are drawn from MNIST *training* digits only, those that
training keeps after carving out its validation set (`GlyphSource(mnist_part="train")`), and
from the handwriting fonts of the training families (`TRAIN_FONT_FAMILIES`, installed by
`make fonts`; `--no-fonts` leaves them out), never the families the photo benchmark draws on.
The cache key names the fonts used, so a harvest made without them is not taken for one made
with them. Each photo goes
through `segment_digits`, as `Predictor.preprocess` does (segmentation only, no model); its
crops are kept only when the pipeline found as many digits as were written, and then paired
with the digits in order.

    python -m digitrec.data.photo_crops --photos 6000 --seed 1000 --minutes 25

writes `runs/cache/photo-crops-<key>.npz` (uint8 `images` (N, 28, 28), int64 `labels`, and
`holdout`, the validation carving the glyphs avoided), which `digitrec train --extra-data`
takes. Photo i depends only on (seed, i), so a harvest stopped by its time limit after k
photos holds exactly what `--photos k` gives. Harvests of different seeds (made one per core,
at the same time) become one training file with

    python -m digitrec.data.photo_crops --merge A.npz B.npz --output AB.npz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitrec.data.synthetic_photos import (
    TRAIN_HOLDOUT,
    TRAIN_PART,
    GlyphSource,
    make_set,
    usable_fonts,
)

log = logging.getLogger(__name__)

CACHE_DIR = Path("runs/cache")
# A number photo gives about four kept crops, a single one at most one, in about the same time
# (0.4 s on one core); two numbers per single gives more crops per minute while keeping the
# large lone digits that single photos have.
KINDS = ("single", "number", "number")
# The validation carving (val_size, seed) whose training part the glyphs come from.
HOLDOUT = TRAIN_HOLDOUT


@dataclass(frozen=True)
class Harvest:
    images: np.ndarray  # (N, 28, 28) uint8, ink bright, as MNIST stores digits
    labels: np.ndarray  # (N,) int64
    photos: int  # photos generated (fewer than asked when the time limit stopped it)
    kept: list[int]  # indices (in the photo set) of the photos whose crops were kept
    seconds: float


def harvest_crops(
    photos: int,
    seed: int,
    *,
    kinds: Sequence[str] = KINDS,
    seconds: float | None = None,
    glyphs: GlyphSource | None = None,
) -> Harvest:
    """Crops of up to `photos` photos (kinds taken in turn), stopping after `seconds`."""
    # Imported here: the data package does not load the vision stack at import.
    from digitrec.vision.segment import segment_digits

    glyphs = glyphs or GlyphSource(mnist_part=TRAIN_PART, use_fonts=False)
    images: list[np.ndarray] = []
    labels: list[int] = []
    kept: list[int] = []
    done = 0
    started = time.perf_counter()
    for photo in make_set(photos, seed, kinds, glyphs):
        done += 1
        crops = segment_digits(photo.image)
        if len(crops) == len(photo.text):
            kept.append(done - 1)
            images += [crop.image for crop in crops]
            labels += [int(digit) for digit in photo.text]
        if done % 200 == 0:
            log.info("%d photos, %d crops, %.0fs", done, len(labels), time.perf_counter() - started)
        if seconds is not None and time.perf_counter() - started > seconds:
            break
    stacked = np.stack(images) if images else np.zeros((0, 28, 28), np.float32)
    as_bytes = np.clip(np.rint(stacked * 255), 0, 255).astype(np.uint8)
    elapsed = time.perf_counter() - started
    return Harvest(as_bytes, np.array(labels, np.int64), done, kept, elapsed)


def cached_crops(
    photos: int,
    seed: int,
    *,
    kinds: Sequence[str] = KINDS,
    minutes: float | None = None,
    fonts: bool = True,
    cache_dir: Path = CACHE_DIR,
) -> Path:
    """The .npz of `harvest_crops`, made once per set of parameters and reused after. With
    `fonts`, the photos also draw on the installed fonts of the training families."""
    font_names = sorted(Path(path).name for path in usable_fonts(TRAIN_PART)) if fonts else []
    params = {"photos": photos, "seed": seed, "kinds": list(kinds), "minutes": minutes}
    key = json.dumps(params | {"fonts": font_names} if font_names else params)
    path = cache_dir / f"photo-crops-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
    if path.exists():
        return path
    if fonts and not font_names:
        log.warning("no training fonts installed (make fonts): MNIST digits only")
    # Only now: the glyphs load the MNIST training digits, which a cached harvest does not need.
    glyphs = GlyphSource(mnist_part=TRAIN_PART, use_fonts=fonts)
    harvest = harvest_crops(
        photos, seed, kinds=kinds, seconds=None if minutes is None else minutes * 60, glyphs=glyphs
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_npz(
        path,
        images=harvest.images,
        labels=harvest.labels,
        holdout=np.array(HOLDOUT, np.int64),
        photos=harvest.photos,
        kept=len(harvest.kept),
        seconds=harvest.seconds,
        params=key,
    )
    return path


def cached_harvest(
    prefix: str,
    photos: int,
    seed: int,
    harvest: Callable[[float | None, GlyphSource], dict[str, object]],
    *,
    minutes: float | None = None,
    fonts: bool = True,
    cache_dir: Path = CACHE_DIR,
) -> Path:
    """`runs/cache/<prefix>-<key>.npz`, made once per set of parameters and reused after: the
    arrays `harvest(seconds, glyphs)` returns from up to `photos` photos of seed `seed` (the
    gate's and the line reader's harvests), with the time it took and the parameters."""
    font_names = sorted(Path(path).name for path in usable_fonts(TRAIN_PART)) if fonts else []
    key = json.dumps({"photos": photos, "seed": seed, "minutes": minutes, "fonts": font_names})
    path = cache_dir / f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
    if path.exists():
        return path
    glyphs = GlyphSource(mnist_part=TRAIN_PART, use_fonts=fonts)
    started = time.perf_counter()
    arrays = harvest(None if minutes is None else minutes * 60, glyphs)
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_npz(path, **arrays, seconds=time.perf_counter() - started, params=key)
    return path


def harvest_parser(description: str, *, photos: int, seed: int) -> argparse.ArgumentParser:
    """The command-line arguments every harvest of synthetic photos takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--photos", type=int, default=photos, help="photos to generate at most")
    parser.add_argument("--seed", type=int, default=seed, help="seed of the photo set")
    parser.add_argument("--minutes", type=float, help="stop harvesting after this long")
    parser.add_argument(
        "--no-fonts", action="store_true", help="MNIST digits only, no handwriting fonts"
    )
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    return parser


def write_npz(path: Path, **arrays: object) -> None:
    """An .npz written whole, then renamed: never half a file under its name."""
    partial = path.with_suffix(".part.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(path)


def merge_crops(sources: Sequence[Path], output: Path) -> int:
    """Concatenate harvests into one .npz; returns its crop count. They must avoid the same
    validation carving, or the merged file could not say which. A file that is no harvest is
    a ValueError naming it."""
    images, labels, holdouts, photos, kept, seconds, params = [], [], set(), 0, 0, 0.0, []
    for source in sources:
        try:
            with np.load(source, allow_pickle=False) as data:
                images.append(data["images"])
                labels.append(data["labels"])
                holdouts.add(tuple(int(v) for v in data["holdout"]))
                photos, kept = photos + int(data["photos"]), kept + int(data["kept"])
                seconds += float(data["seconds"])
                made = json.loads(str(data["params"]))
        except (OSError, KeyError, ValueError, EOFError) as error:
            raise ValueError(f"{source}: not a harvest of photo crops ({error})") from None
        params += made if isinstance(made, list) else [made]  # a merged file lists its parts
    if len(holdouts) != 1:
        raise ValueError(f"the harvests avoid different validation carvings: {sorted(holdouts)}")
    write_npz(
        output,
        images=np.concatenate(images),
        labels=np.concatenate(labels),
        holdout=np.array(holdouts.pop(), np.int64),
        photos=photos,
        kept=kept,
        seconds=seconds,
        params=json.dumps(params),
    )
    return sum(len(part) for part in labels)


def main(argv: Sequence[str] | None = None) -> None:
    parser = harvest_parser("Harvest labelled pipeline crops of photos.", photos=6000, seed=1000)
    parser.add_argument("--kinds", default=",".join(KINDS), help="photo kinds, taken in turn")
    parser.add_argument("--merge", type=Path, nargs="+", help="harvest files to concatenate")
    parser.add_argument("--output", type=Path, help="where --merge writes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.merge:
        if args.output is None:
            parser.error("--merge needs --output")
        try:
            print(f"{args.output}: {merge_crops(args.merge, args.output)} crops")
        except ValueError as error:
            parser.exit(1, f"error: {error}\n")
        return
    kinds = tuple(args.kinds.split(","))
    path = cached_crops(
        args.photos,
        args.seed,
        kinds=kinds,
        minutes=args.minutes,
        fonts=not args.no_fonts,
        cache_dir=args.cache_dir,
    )
    with np.load(path) as data:
        print(
            f"{path}: {len(data['labels'])} crops from {int(data['kept'])} of "
            f"{int(data['photos'])} photos ({float(data['seconds']):.0f}s)"
        )


if __name__ == "__main__":
    main()
