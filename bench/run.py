"""`make bench`: measure on this machine and write BENCHMARKS.md.

Every benchmark is a function returning a Markdown section. Each section is kept in
bench/results/<name>.md with the date, so `--only NAME` re-measures one section and
BENCHMARKS.md is then assembled from all of them; every figure names when it was measured.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import torch

from bench.frontier import frontier_benchmark
from bench.inference import inference_benchmark
from bench.load import load_benchmark
from bench.photos import photo_benchmark
from bench.training import leaderboard, tutorial_recipes

OUTPUT = Path("BENCHMARKS.md")
RESULTS = Path("bench/results")
# In this order: the leaderboard measures the frontier's best and ensemble runs, and the
# tutorial table reads the runs the leaderboard trained.
BENCHMARKS: dict[str, Callable[..., str]] = {
    "frontier": frontier_benchmark,
    "inference": inference_benchmark,
    "leaderboard": leaderboard,
    "tutorials": tutorial_recipes,
    "photos": photo_benchmark,
    "load": load_benchmark,
}


REUSABLE = {"frontier"}


def machine_line() -> str:
    return (
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads"
    )


def assemble() -> str:
    parts = [
        "# Benchmarks",
        "",
        "Every figure here comes from `make bench` (`python -m bench.run`; one section: "
        "`python -m bench.run --only NAME`) on the development machine; each section says "
        "when it was measured and on what.",
        "",
    ]
    for name in BENCHMARKS:
        section = RESULTS / f"{name}.md"
        if section.is_file():
            parts.append(section.read_text())
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write BENCHMARKS.md.")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="frontier: keep finished runs (the best members take minutes each) instead of "
        "retraining them",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    chosen = args.only or list(BENCHMARKS)
    if "leaderboard" in chosen:
        # Never reuse a model from an earlier bench run: every figure comes from this one.
        shutil.rmtree(args.runs_dir / "compare", ignore_errors=True)
    for name in chosen:
        print(f"== benchmark: {name}", flush=True)
        started = time.strftime("%Y-%m-%d %H:%M %Z")
        options = {"reuse": args.reuse} if name in REUSABLE else {}
        section = BENCHMARKS[name](args.runs_dir, **options)
        stamp = f"_Measured {started} with `python -m bench.run --only {name}`; {machine_line()}._"
        lines = section.rstrip("\n").split("\n")
        (RESULTS / f"{name}.md").write_text("\n".join([lines[0], "", stamp, *lines[1:]]) + "\n")
        OUTPUT.write_text(assemble())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
