"""`digitrec compare`: train every model the same way and print a leaderboard."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from digitrec.compare import CompareOptions, compare, leaderboard_table, write_leaderboard


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "compare",
        help="train models side by side and print a leaderboard",
        description="Train (or, with --reuse, load) each model with its own recipe on the "
        "same data, then rank them on test accuracy, size and speed. Writes leaderboard.md, "
        "leaderboard.json and leaderboard.png.",
    )
    parser.add_argument("models", nargs="*", metavar="MODEL", help="default: every model")
    parser.add_argument("--data", default="mnist", help="mnist, an IDX folder or image folder")
    parser.add_argument("--out", type=Path, default=Path("runs/compare"), help="output folder")
    parser.add_argument("--reuse", action="store_true", help="reuse models trained before")
    parser.add_argument("--train-limit", type=int, help="train on the first N samples only")
    parser.add_argument("--val-size", type=int, default=5000, help="validation samples")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options = CompareOptions(
        models=args.models,
        data=args.data,
        out_dir=args.out,
        reuse=args.reuse,
        train_limit=args.train_limit,
        val_size=args.val_size,
        seed=args.seed,
        threads=args.threads,
        show_progress=not args.no_progress and sys.stderr.isatty(),
    )
    args.interrupt_hint = f"finished models are kept: rerun with --reuse --out {args.out}"
    rows = compare(options)
    paths = write_leaderboard(rows, args.out, f"Leaderboard on {args.data}")
    if args.json:
        print(json.dumps(rows))
        return 0
    print(leaderboard_table(rows))
    print(f"written: {', '.join(str(path) for path in paths.values())}")
    return 0
