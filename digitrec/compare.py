"""Side-by-side comparison of models on the same data and machine: the leaderboard."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from digitrec.config import recipe_config
from digitrec.data.datasets import DataSplits, load_splits
from digitrec.errors import DigitrecError
from digitrec.evaluation import metrics_from_probabilities
from digitrec.models.classifier import Classifier
from digitrec.models.loading import MODEL_FILE, load_classifier
from digitrec.models.registry import get_spec, model_names
from digitrec.runs import run_training

log = logging.getLogger(__name__)

# Timing prediction on fewer digits than this would mostly measure call overhead.
_TIMING_DIGITS = 10_000


@dataclass
class CompareOptions:
    models: list[str] = field(default_factory=list)  # empty: every registered model
    data: str = "mnist"
    out_dir: Path = Path("runs/compare")
    reuse: bool = False  # load runs/compare/<model> when it exists instead of training
    train_limit: int | None = None
    val_size: int = 5000
    seed: int = 0
    threads: int | None = None
    show_progress: bool = False


def compare(options: CompareOptions) -> list[dict[str, Any]]:
    """Train (or reuse) each model, measure it on the test set; rows sorted best first."""
    # Composite models (an ensemble) are built from trained ones, not trained from a recipe.
    names = options.models or [name for name in model_names() if get_spec(name).recipe]
    for name in names:
        if not get_spec(name).recipe:  # also fails on a typo, before hours of training
            raise DigitrecError(f"'{name}' is not trained from a recipe (see digitrec {name})")
    splits = load_splits(
        options.data, val_size=options.val_size, seed=options.seed, train_limit=options.train_limit
    )
    rows = []
    bar = tqdm(names, unit="model", disable=not options.show_progress, position=0)
    for name in bar:
        bar.set_description(f"compare: {name}")
        classifier, run_dir = _trained(name, splits, options)
        rows.append(measure(name, classifier, run_dir / MODEL_FILE, splits))
        log.info("%s: test accuracy %.2f%%", name, 100 * rows[-1]["accuracy"])
    rows.sort(key=lambda row: (-row["accuracy"], row["model"]))
    return rows


def _trained(name: str, splits: DataSplits, options: CompareOptions) -> tuple[Classifier, Path]:
    run_dir = options.out_dir / name
    if options.reuse and (run_dir / MODEL_FILE).is_file():
        log.info("%s: reusing %s", name, run_dir)
        return load_classifier(run_dir), run_dir
    shutil.rmtree(run_dir, ignore_errors=True)
    config = recipe_config(
        get_spec(name).recipe,
        model=name,
        data=options.data,
        seed=options.seed,
        threads=options.threads,
        train_limit=options.train_limit,
        val_size=options.val_size,
    )
    summary = run_training(config, run_dir, show_progress=options.show_progress, splits=splits)
    return load_classifier(summary.run_dir), run_dir


def measure(
    name: str, classifier: Classifier, model_file: Path, splits: DataSplits
) -> dict[str, Any]:
    images = splits.test.as_float()
    probabilities = classifier.predict_proba(images)
    test = metrics_from_probabilities(probabilities, splits.test.labels, splits.classes)
    # Timed on a second call: the first doubles as warm-up (the kNN, for one, prepares its
    # distance tables on first use), so the figure is steady-state prediction.
    timed = images[:_TIMING_DIGITS]
    started = time.perf_counter()
    classifier.predict_proba(timed)
    predict_seconds = time.perf_counter() - started
    return {
        "model": name,
        "kind": classifier.kind,
        "accuracy": test["accuracy"],
        "errors": test["errors"],
        "parameters": classifier.parameter_count(),
        "file_bytes": model_file.stat().st_size,
        "train_seconds": classifier.metrics.get("train_seconds"),
        "predict_ms_per_1000": 1000 * predict_seconds / len(timed) * 1000,
    }


def write_leaderboard(rows: list[dict[str, Any]], out_dir: Path, title: str) -> dict[str, Path]:
    from digitrec import plots

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": out_dir / "leaderboard.md",
        "json": out_dir / "leaderboard.json",
        "chart": out_dir / "leaderboard.png",
    }
    paths["markdown"].write_text(f"# {title}\n\n{leaderboard_table(rows)}\n")
    paths["json"].write_text(json.dumps(rows, indent=2) + "\n")
    plots.plot_leaderboard(rows, paths["chart"])
    return paths


def leaderboard_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| rank | model | test accuracy | errors | parameters | file size | train s "
        "| predict ms / 1,000 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rank, row in enumerate(rows, 1):
        seconds = row["train_seconds"]
        lines.append(
            f"| {rank} | `{row['model']}` | {row['accuracy']:.2%} | {row['errors']} "
            f"| {row['parameters']:,} | {_size(row['file_bytes'])} "
            f"| {'-' if seconds is None else f'{seconds:.1f}'} "
            f"| {row['predict_ms_per_1000']:.1f} |"
        )
    return "\n".join(lines)


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"
