"""Photo benchmark: how well the default model reads photo-like images of handwritten digits.

The photos come from `digitrec.data.synthetic_photos` (MNIST test digits from the "eval" part,
indices 5000-9999, plus the handwriting fonts of the families no model trains on, which
`make bench` installs), seeded, so every run sees the same photos on the same machine.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import Image

from digitrec.data.synthetic_photos import (
    FONT_SHARE,
    GlyphSource,
    SyntheticPhoto,
    cropped_to_digits,
    make_photo,
    make_set,
)
from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor
from digitrec.vision.tilt import turned

SEED = 2024
COUNTS = {"single": 1000, "number": 500, "blank": 500}
TARGETS = {"single": "≥ 98%", "number": "≥ 92%", "blank": "≥ 99%"}
EXAMPLES = 5  # failure pictures saved per kind
BIG_PHOTO = (4000, 3000)  # 12 megapixels, as a phone takes them
# Timed runs of preprocessing it, after one untimed warm-up call (first-call costs: lazy imports,
# allocator growth, cold caches), as a server or batch reads its second photo and on.
BIG_RUNS = 11
# Phone-size photos (12 MP, either orientation) of each kind: fewer, as each takes ~5 s to make.
PHONE_COUNTS = {"single": 30, "number": 40, "blank": 20}
PHONE_SEED = 4048
# The same photos cut down to their digits, as a user crops a photo before sending it: numbers
# with this many digit heights of paper left and right and none above or below, single digits
# to their box.
CROP_SIDE_MARGIN = {"single": 0.0, "number": 0.3}
# The number photos also turned this many degrees, clockwise and anticlockwise in turn, as a
# photo taken askew (the sheet and the digits on it lean alike).
TURN_DEGREES = 15.0
# Numbers are also counted by two traits that decide most failures: whether neighbouring digits
# overlap side by side (their boxes share columns, so they may touch), and the median digit
# height in the photo's pixels, in these bands (upper bounds, px).
HEIGHT_BANDS = (16, 32, 64)
LAYOUTS = ("digits apart", "neighbours overlap")  # indexed by whether any overlap


def photo_benchmark(runs_dir: Path) -> str:
    predictor = Predictor(load_classifier("default"))
    glyphs = GlyphSource(mnist_part="eval")
    failures_dir = runs_dir / "photo-failures"
    failures_dir.mkdir(parents=True, exist_ok=True)
    for old in failures_dir.glob("*.png"):  # this run's failures only, not an earlier run's
        old.unlink()
    # "unsaid": the single digits read as a user who does not say there is one digit sends them.
    right: dict[str, Counter[int]] = {kind: Counter() for kind in [*COUNTS, "unsaid"]}
    total: dict[str, Counter[int]] = {kind: Counter() for kind in [*COUNTS, "unsaid"]}
    cropped_right: Counter[str] = Counter()
    turned_right = 0
    trait_right: Counter[str] = Counter()
    trait_total: Counter[str] = Counter()
    for offset, (kind, count) in enumerate(COUNTS.items()):
        failures = 0
        # A single-digit photo is read the way a user who knows it holds one digit would.
        single = kind == "single"
        for index, photo in enumerate(make_set(count, SEED + offset, (kind,), glyphs)):
            got = predictor.read_image(photo.image, single=single).text
            total[kind][len(photo.text)] += 1
            if single:
                total["unsaid"][1] += 1
                right["unsaid"][1] += predictor.read_image(photo.image).text == photo.text
            if kind == "number":
                for trait in number_traits(photo):
                    trait_total[trait] += 1
                    trait_right[trait] += got == photo.text
                askew, _ = turned(photo.image, TURN_DEGREES * (-1) ** index)
                turned_right += predictor.read_image(askew).text == photo.text
            if got == photo.text:
                right[kind][len(photo.text)] += 1
            elif failures < EXAMPLES:
                failures += 1
                _save_failure(failures_dir, f"{kind}-{index:04d}", photo, got)
            if kind in CROP_SIDE_MARGIN:
                cropped = cropped_to_digits(photo, CROP_SIDE_MARGIN[kind])
                cropped_right[kind] += predictor.read_image(cropped.image, single=single).text == (
                    photo.text
                )
                if single:  # and as a user who does not say so sends it
                    cropped_right["unsaid"] += predictor.read_image(cropped.image).text == (
                        photo.text
                    )
        rate = sum(right[kind].values()) / count
        print(f"{kind}: {rate:.2%} of {count} read right", flush=True)
    phone = _phone_photos(predictor, glyphs)
    seconds = _preprocess_seconds(predictor, glyphs)
    return (
        _report(right, total, seconds, failures_dir, glyphs)
        + _traits_report(trait_right, trait_total)
        + _cropped_report(cropped_right)
        + _turned_report(turned_right)
        + _phone_report(phone)
    )


def number_traits(photo: SyntheticPhoto) -> tuple[str, str]:
    """How a number's digits are laid out (one of LAYOUTS: whether any two neighbours overlap
    side by side) and the band of their median height (one of _height_bands())."""
    boxes = sorted(photo.boxes)
    overlap = any(b[0] < a[0] + a[2] for a, b in pairwise(boxes))
    height = float(np.median([h for _, _, _, h in boxes]))
    return LAYOUTS[overlap], _height_bands()[bisect_right(HEIGHT_BANDS, height)]


def _height_bands() -> list[str]:
    """The labels of the bands that HEIGHT_BANDS bound, smallest first."""
    bounds = [0, *HEIGHT_BANDS]
    return [f"{lo}-{hi} px" for lo, hi in pairwise(bounds)] + [f"{HEIGHT_BANDS[-1]} px or more"]


def _traits_report(right: Counter[str], total: Counter[str]) -> str:
    rows = [
        "Numbers read exactly, by layout (neighbouring digits overlapping side by side, so "
        "they may touch, or all apart) and by the digits' median height in the photo:",
        "",
        "| numbers | right |",
        "|---|---|",
    ]
    for trait in [*LAYOUTS, *_height_bands()]:
        if total[trait]:
            rows.append(
                f"| {trait} | {right[trait] / total[trait]:.1%} ({right[trait]}/{total[trait]}) |"
            )
    return "\n".join(["", *rows, ""])


def _cropped_report(right: Counter[str]) -> str:
    rows = [
        "The same photos cropped to their digits, as a user cuts a photo down before sending it "
        "(`synthetic_photos.cropped_to_digits`): the digits touch the image's edge, where the "
        "paper's edge and the table are looked for.",
        "",
        "| photos | cropped | right |",
        "|---|---|---|",
        f"| one digit | to its box | {right['single'] / COUNTS['single']:.1%} "
        f"({right['single']}/{COUNTS['single']}) |",
        f"| one digit, read without `single` | to its box | "
        f"{right['unsaid'] / COUNTS['single']:.1%} ({right['unsaid']}/{COUNTS['single']}) |",
        f"| numbers of 2-8 digits | to the digits, {CROP_SIDE_MARGIN['number']} digit heights "
        f"of paper left and right | {right['number'] / COUNTS['number']:.1%} "
        f"({right['number']}/{COUNTS['number']}) |",
    ]
    return "\n".join(["", *rows, ""])


def _turned_report(right: int) -> str:
    count = COUNTS["number"]
    return (
        f"\nThe numbers' photos turned {TURN_DEGREES:g} degrees (clockwise and anticlockwise in "
        f"turn, `vision.tilt.turned`), as a photo taken askew: {right / count:.1%} "
        f"({right}/{count}) read exactly.\n"
    )


def _phone_photos(predictor: Predictor, glyphs: GlyphSource) -> dict[str, tuple[int, int, float]]:
    """Per kind: (read right, photos, mean seconds to read one) for 12-MP photos."""
    results = {}
    for offset, (kind, count) in enumerate(PHONE_COUNTS.items()):
        hits, seconds = 0, []
        for index in range(count):
            rng = np.random.default_rng([PHONE_SEED + offset, index])
            size = BIG_PHOTO if rng.random() < 0.5 else BIG_PHOTO[::-1]
            photo = make_photo(rng, kind, glyphs, size=size)
            started = time.perf_counter()
            got = predictor.read_image(photo.image, single=kind == "single").text
            seconds.append(time.perf_counter() - started)
            hits += got == photo.text
        results[kind] = (hits, count, float(np.mean(seconds)))
        print(f"phone-size {kind}: {hits}/{count} read right", flush=True)
    return results


def _phone_report(results: dict[str, tuple[int, int, float]]) -> str:
    rows = [
        f"Phone-size photos ({BIG_PHOTO[0]}x{BIG_PHOTO[1]}, either orientation; seed "
        f"{PHONE_SEED}; fewer, as each takes seconds to generate), read from the decoded array:",
        "",
        "| photos | right | mean time to read one |",
        "|---|---|---|",
    ]
    names = {"single": "one digit", "number": "numbers of 2-8 digits", "blank": "blank pages"}
    for kind, (hits, count, seconds) in results.items():
        rows.append(f"| {names[kind]} | {hits / count:.1%} ({hits}/{count}) | {seconds:.2f} s |")
    return "\n".join(["", *rows, ""])


def _rate(right: Counter[int], total: Counter[int], key: int | None = None) -> str:
    hits, count = (right[key], total[key]) if key is not None else (right.total(), total.total())
    return f"{hits / count:.1%} ({hits}/{count})" if count else "-"


def _report(
    right, total, seconds: tuple[float, float], failures_dir: Path, glyphs: GlyphSource
) -> str:
    lengths = range(2, 9)
    families = sorted({Path(path).parent.name for path in glyphs.fonts})
    fonts = (
        f"and, for {FONT_SHARE:.0%} of the digits, {len(glyphs.fonts)} handwriting fonts "
        f"({', '.join(families)}; families no model trains on)"
        if glyphs.fonts
        else "(no handwriting fonts installed: MNIST digits only)"
    )
    rows = [
        "## Reading photos (synthetic, `digitrec.data.synthetic_photos`)",
        "",
        f"Seeded photos (seed {SEED}) of MNIST test digits 5000-9999 {fonts} on paper, "
        "notebook pages and chalkboards, with perspective, uneven light, shadows, blur, noise "
        "and JPEG artefacts, read by the shipped `default` model.",
        "",
        "| photos | how it is read | right | target |",
        "|---|---|---|---|",
        f"| one digit | `single=True`, the digit | {_rate(right['single'], total['single'])} "
        f"| {TARGETS['single']} |",
        f"| one digit | as any image (without `single`), the digit alone | "
        f"{_rate(right['unsaid'], total['unsaid'])} | - |",
        f"| numbers of 2-8 digits | the whole number exactly | "
        f"{_rate(right['number'], total['number'])} | {TARGETS['number']} |",
        f'| blank pages | "no digit" | {_rate(right["blank"], total["blank"])} '
        f"| {TARGETS['blank']} |",
        "",
        "Numbers read exactly, by length:",
        "",
        "| digits | " + " | ".join(str(n) for n in lengths) + " |",
        "|---" * (len(lengths) + 1) + "|",
        "| right | "
        + " | ".join(_rate(right["number"], total["number"], n) for n in lengths)
        + " |",
        "",
        f"Preprocessing a {BIG_PHOTO[0]}x{BIG_PHOTO[1]} (12-megapixel) photo, without the model: "
        f"{seconds[0]:.3f} s, the median of {BIG_RUNS} runs after one untimed warm-up call "
        f"(slowest {seconds[1]:.3f} s). A few failures of each kind: "
        f"`{failures_dir}/`.",
        "",
    ]
    return "\n".join(rows)


def _preprocess_seconds(predictor: Predictor, glyphs: GlyphSource) -> tuple[float, float]:
    """Median and slowest seconds of preprocessing one 12-MP photo."""
    photo = make_photo(np.random.default_rng(SEED), "number", glyphs, size=BIG_PHOTO)
    predictor.preprocess(photo.image)  # warm-up, untimed
    times = []
    for _ in range(BIG_RUNS):
        started = time.perf_counter()
        predictor.preprocess(photo.image)
        times.append(time.perf_counter() - started)
    return float(np.median(times)), max(times)


def _save_failure(folder: Path, name: str, photo: SyntheticPhoto, got: str) -> None:
    # The file name says what was written and what was read ("none" for no digit).
    # Noise can read as hundreds of digits: keep the name short enough for any file system.
    read = got[:12] + "..." if len(got) > 12 else got or "none"
    label = f"{name}-wrote-{photo.text or 'none'}-read-{read}.png"
    Image.fromarray(photo.image).save(folder / label)


if __name__ == "__main__":
    print(photo_benchmark(Path("runs/bench")))
