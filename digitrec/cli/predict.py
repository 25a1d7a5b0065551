"""`digitrec predict`: read the digit in each image file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from digitrec.errors import DigitrecError
from digitrec.models.loading import DEFAULT_MODEL, load_classifier
from digitrec.predictor import Predictor, Reading
from digitrec.vision.decode import DEFAULT_MAX_PIXELS


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="read the digit in image files",
        description="Read the handwritten digit in each image (PNG, JPEG, BMP, TIFF, WEBP, "
        "GIF). The image is normalized the way MNIST was built before the model sees it.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="model file, run folder or shipped model name"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per file per line")
    parser.add_argument(
        "--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="refuse larger images"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    predictor = Predictor(load_classifier(args.model), max_pixels=args.max_pixels)
    failures = 0
    for name in args.files:
        try:
            reading: Reading | None = predictor.read_file(Path(name))
            error = None
        except DigitrecError as problem:
            reading, error = None, str(problem)
            failures += 1
        if args.json:
            print(json.dumps(reading_json(name, reading, error)), flush=True)
        elif error is not None:
            print(f"digitrec: error: {error}", file=sys.stderr)
        else:
            print(format_reading(name, reading))  # type: ignore[arg-type]
    return 1 if failures else 0


def reading_json(name: str, reading: Reading | None, error: str | None) -> dict[str, object]:
    if reading is None:
        return {"file": name, "text": None, "digits": [], "error": error}
    return {
        "file": name,
        "text": reading.text,
        "digits": [digit.to_json() for digit in reading.digits],
        "error": None,
    }


def format_reading(name: str, reading: Reading) -> str:
    if not reading.digits:
        return f"{name}: no digit found"
    parts = []
    for digit in reading.digits:
        top = ", ".join(f"{label} {probability:.1%}" for label, probability in digit.top)
        parts.append(f"{digit.digit} ({digit.confidence:.1%}; top: {top})")
    return f"{name}: {reading.text}  " + "  ".join(parts)
