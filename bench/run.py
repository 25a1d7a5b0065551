"""`make bench`: measure on this machine and write BENCHMARKS.md.

Every benchmark is a function returning a Markdown section; this file runs them in order and
writes them all, with the date, the command and the machine, so that every figure in
BENCHMARKS.md comes from one run of one command.
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

from bench.photos import photo_benchmark
from bench.training import leaderboard, tutorial_recipes

OUTPUT = Path("BENCHMARKS.md")
# In this order: the tutorial table reads the runs the leaderboard trained.
BENCHMARKS: dict[str, Callable[[Path], str]] = {
    "leaderboard": leaderboard,
    "tutorials": tutorial_recipes,
    "photos": photo_benchmark,
}


def machine_line() -> str:
    return (
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write BENCHMARKS.md.")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    # Never reuse a model from an earlier bench run: every figure comes from this one.
    shutil.rmtree(args.runs_dir, ignore_errors=True)
    sections = []
    for name in args.only or BENCHMARKS:
        print(f"== benchmark: {name}", flush=True)
        sections.append(BENCHMARKS[name](args.runs_dir))
    header = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (`python -m bench.run`) on {started}, on this machine: "
        f"{machine_line()}. Nothing else ran during the measurement.",
        "",
    ]
    OUTPUT.write_text("\n".join(header + sections) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
