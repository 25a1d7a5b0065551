"""`digitrec predict`: read the digits in image files, folders or standard input."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from digitrec.errors import DigitrecError, ImageError
from digitrec.models.loading import DEFAULT_MODEL, load_classifier
from digitrec.predictor import Predictor
from digitrec.readings import Reading, reading_json
from digitrec.vision.decode import (
    DEFAULT_MAX_PIXELS,
    decode_image,
    image_suffixes,
    read_image_file,
)

STDIN = "-"
# stdin is read whole; cap it like a file so a runaway pipe cannot exhaust memory.
_MAX_STDIN_BYTES = 200 * 2**20


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="read the digits in images",
        description="Read handwritten digits in photos or scans (PNG, JPEG, BMP, TIFF, WEBP, "
        "GIF, HEIC/HEIF, AVIF): single digits or numbers of several digits, in reading order. "
        "Each digit is normalized the way MNIST was built before the model sees it. FILE may be "
        "a folder (searched recursively) or - for standard input.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files, folders or -")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="model file, run folder or shipped model name"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per image per line")
    parser.add_argument("--single", action="store_true", help="exactly one digit per image")
    parser.add_argument("--debug", type=Path, metavar="DIR", help="write a picture of each stage")
    parser.add_argument(
        "--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="refuse larger images"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def expand_inputs(names: list[str]) -> Iterator[str]:
    """Files as given, folders as the images below them (sorted), - as itself."""
    for name in names:
        path = Path(name)
        if name != STDIN and path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in image_suffixes()
            )
            if not found:
                raise DigitrecError(f"{path}: no images in this folder")
            yield from map(str, found)
        else:
            yield name


def load_input(name: str, max_pixels: int):
    if name == STDIN:
        data = sys.stdin.buffer.read(_MAX_STDIN_BYTES + 1)
        if len(data) > _MAX_STDIN_BYTES:
            raise ImageError(f"stdin: more than {_MAX_STDIN_BYTES} bytes")
        return decode_image(data, source="stdin", max_pixels=max_pixels)
    return read_image_file(name, max_pixels=max_pixels)


def run(args: argparse.Namespace) -> int:
    if args.max_pixels < 1:
        raise DigitrecError("--max-pixels must be positive")
    names = list(expand_inputs(args.files))
    if names.count(STDIN) > 1:
        raise DigitrecError("standard input (-) can be read only once")
    predictor = Predictor(load_classifier(args.model), max_pixels=args.max_pixels)
    show_bar = not args.no_progress and sys.stderr.isatty() and len(names) > 1
    failures = 0
    for name in tqdm(names, unit="image", disable=not show_bar):
        try:
            reading, error = read_one(predictor, name, args), None
        except DigitrecError as problem:
            reading, error = None, str(problem)
            failures += 1
        if args.json:
            print(json.dumps(reading_json(name, reading, error)), flush=True)
        elif error is not None:
            tqdm.write(f"digitrec: error: {error}", file=sys.stderr)
        else:
            tqdm.write(format_reading(name, reading), file=sys.stdout)  # type: ignore[arg-type]
    return 1 if failures else 0


def read_one(predictor: Predictor, name: str, args: argparse.Namespace) -> Reading:
    image = load_input(name, predictor.max_pixels)
    stages: dict | None = {} if args.debug else None
    reading = predictor.read_image(image, single=args.single, stages=stages)
    if args.debug:
        from digitrec.vision.debug import save_debug_images

        stem = "stdin" if name == STDIN else Path(name).stem
        save_debug_images(args.debug, stem, image, stages or {}, reading.inputs)
    return reading


def format_reading(name: str, reading: Reading) -> str:
    if not reading.digits:
        return f"{name}: no digit found"
    parts = []
    for digit in reading.digits:
        top = ", ".join(f"{label} {probability:.1%}" for label, probability in digit.top)
        flag = " LOW CONFIDENCE" if digit.low_confidence else ""
        parts.append(f"{digit.digit} ({digit.confidence:.1%}{flag}; top: {top})")
    return f"{name}: {reading.text}\n" + "\n".join(f"  {part}" for part in parts)
