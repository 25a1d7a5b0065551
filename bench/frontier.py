"""The frontier benchmark: the tutorial recipe against `fast`, `best` and `ensemble`, side by
side on the full MNIST, with test accuracy followed epoch by epoch.

Each recipe is trained through the one training loop; after every epoch (outside the timed
part) the model is scored on the test set, which gives the seconds each recipe needs to reach
99.0% and the accuracy-against-time plot. The test set is only watched, never used to choose
anything. `--reuse` keeps finished runs (their curve is in frontier.json), so that the slow
`best` members need not be retrained to re-measure the rest.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from digitrec.config import TrainConfig, recipe_config
from digitrec.data.datasets import DataSplits, load_splits
from digitrec.evaluation import evaluate
from digitrec.models.classifier import TorchClassifier
from digitrec.models.ensemble import build_ensemble
from digitrec.models.loading import MODEL_FILE, load_classifier
from digitrec.training import evaluate_tensors, to_tensor, train

log = logging.getLogger(__name__)

CURVE_FILE = "frontier.json"
TARGET = 0.99  # the accuracy whose time-to-reach is reported
ENSEMBLE_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Entry:
    label: str  # the run folder's name and the table's first column
    recipe: str
    description: str
    overrides: tuple[tuple[str, Any], ...] = ()

    def config(self) -> TrainConfig:
        return recipe_config(self.recipe, **dict(self.overrides))


ENTRIES = [
    Entry("tutorial-cnn", "tutorial-cnn", "tutorial: `cnn`, adam, batch 64, 10 epochs, fp32"),
    Entry("fast", "fast", "`fast` (the default recipe)"),
    Entry("fast-60s", "fast", "`fast` with more epochs", (("epochs", 8),)),
    *(
        Entry(f"best-s{seed}", "best", f"`best`, seed {seed}", (("seed", seed),))
        for seed in ENSEMBLE_SEEDS
    ),
]


def train_tracked(entry: Entry, splits: DataSplits, run_dir: Path) -> dict[str, Any]:
    """Train one entry, scoring the test set after every epoch; the curve and the model are
    written to `run_dir`."""
    config = entry.config()
    mean = float(splits.train.images.mean() / 255.0)
    std = float(splits.train.images.std() / 255.0)
    test_x, test_y = to_tensor(splits.test, mean, std)
    curve: list[dict[str, float]] = []

    def after_epoch(epoch: int, module: torch.nn.Module, seconds: float) -> None:
        _, accuracy = evaluate_tensors(module, test_x, test_y)
        curve.append({"epoch": epoch, "seconds": round(seconds, 2), "test_accuracy": accuracy})
        log.info("%s: epoch %d, %.1f s, test %.2f%%", entry.label, epoch, seconds, 100 * accuracy)

    shutil.rmtree(run_dir, ignore_errors=True)
    result = train(config, splits, run_dir, after_epoch=after_epoch)
    result.classifier.metrics = {
        "test_accuracy": curve[-1]["test_accuracy"],
        "train_seconds": round(result.seconds, 2),
        "epochs": len(curve),
    }
    result.classifier.save(run_dir / MODEL_FILE, training=config.to_dict())
    record = {
        "label": entry.label,
        "description": entry.description,
        "config": config.to_dict(),
        "threads": torch.get_num_threads(),
        "measured": time.strftime("%Y-%m-%d %H:%M %Z"),
        "seconds": round(result.seconds, 2),
        "test_accuracy": curve[-1]["test_accuracy"],
        "curve": curve,
    }
    (run_dir / CURVE_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return record


def seconds_to(curve: list[dict[str, float]], target: float) -> float | None:
    """Training seconds at the end of the first epoch whose test accuracy reaches `target`."""
    return next((point["seconds"] for point in curve if point["test_accuracy"] >= target), None)


def frontier_runs(runs_dir: Path, reuse: bool) -> tuple[list[dict[str, Any]], DataSplits]:
    splits = load_splits("mnist")
    records = []
    for entry in ENTRIES:
        run_dir = runs_dir / "frontier" / entry.label
        if reuse and (run_dir / CURVE_FILE).is_file() and (run_dir / MODEL_FILE).is_file():
            log.info("%s: reusing %s", entry.label, run_dir)
            records.append(json.loads((run_dir / CURVE_FILE).read_text()))
        else:
            records.append(train_tracked(entry, splits, run_dir))
    return records, splits


def ensemble_record(runs_dir: Path, splits: DataSplits) -> dict[str, Any]:
    """The `best` runs combined: training time is the members' sum (trained one after another
    on this machine), accuracy is the combined model's on the test set."""
    labels = [f"best-s{seed}" for seed in ENSEMBLE_SEEDS]
    members = [load_classifier(runs_dir / "frontier" / label, accelerate=False) for label in labels]
    ensemble = build_ensemble([m for m in members if isinstance(m, TorchClassifier)])
    metrics = evaluate(ensemble, splits.test)
    curves = [
        json.loads((runs_dir / "frontier" / label / CURVE_FILE).read_text()) for label in labels
    ]
    seconds = sum(curve["seconds"] for curve in curves)
    ensemble.metrics = {
        "test_accuracy": metrics["accuracy"],
        "test_errors": metrics["errors"],
        "train_seconds": round(seconds, 2),
        "members": labels,
    }
    out_dir = runs_dir / "frontier" / "ensemble"
    out_dir.mkdir(parents=True, exist_ok=True)
    ensemble.save(out_dir / MODEL_FILE)
    return {
        "label": "ensemble",
        "description": f"`ensemble` of the {len(labels)} `best` runs",
        "seconds": round(seconds, 2),
        "test_accuracy": metrics["accuracy"],
        "curve": [{"epoch": 0, "seconds": round(seconds, 2), "test_accuracy": metrics["accuracy"]}],
    }


def frontier_benchmark(runs_dir: Path, reuse: bool = False) -> str:
    records, splits = frontier_runs(runs_dir, reuse)
    records.append(ensemble_record(runs_dir, splits))
    chart = Path("bench/results/frontier.png")
    plot_curves(records, chart)
    return "\n".join(
        [
            "## The frontier: tutorial vs fast vs best vs ensemble",
            "",
            "Each recipe trained on the same 55,000 MNIST training digits with the one training "
            "loop, on all cores; the test set is scored after every epoch outside the timed "
            "part (never used to choose anything). Training seconds include the validation "
            "pass after each epoch. Ratios are to the tutorial recipe.",
            "",
            training_table(records),
            "",
            *_provenance(records),
            f"![test accuracy against training seconds]({chart.as_posix()})",
            "",
        ]
    )


def _provenance(records: list[dict[str, Any]]) -> list[str]:
    """Runs reused from an earlier bench run (`--reuse`) say when and how they were trained."""
    lines = [
        f"- `{record['label']}`: trained {record['measured']} with "
        f"{record['config'].get('threads') or 'all'} torch thread(s)"
        for record in records
        if "measured" in record and record["config"].get("threads")
    ]
    if not lines:
        return []
    return [
        "Runs reused from an earlier `--reuse` bench run, trained with a set thread count "
        "(their training seconds are from then):",
        "",
        *lines,
        "",
    ]


def training_table(records: list[dict[str, Any]]) -> str:
    tutorial = records[0]
    tutorial_seconds = tutorial["seconds"]
    tutorial_to_target = seconds_to(tutorial["curve"], TARGET)
    tutorial_errors = 1 - tutorial["test_accuracy"]
    lines = [
        "| recipe | test accuracy | errors vs tutorial | training s | × tutorial "
        f"| s to reach {TARGET:.1%} | × tutorial |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in records:
        to_target = seconds_to(record["curve"], TARGET)
        lines.append(
            f"| {record['description']} | {record['test_accuracy']:.2%} "
            f"| {(1 - record['test_accuracy']) / tutorial_errors:.2f}× "
            f"| {record['seconds']:.0f} | {record['seconds'] / tutorial_seconds:.2f}× "
            f"| {'not reached' if to_target is None else f'{to_target:.0f}'} "
            f"| {_ratio(to_target, tutorial_to_target)} |"
        )
    return "\n".join(lines)


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or reference is None:
        return "-"
    return f"{value / reference:.2f}×"


def plot_curves(records: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for record in records:
        seconds = [point["seconds"] for point in record["curve"]]
        accuracy = [100 * point["test_accuracy"] for point in record["curve"]]
        style = "o" if len(seconds) == 1 else "o-"
        axes.plot(seconds, accuracy, style, markersize=3, label=record["label"])
    axes.axhline(100 * TARGET, color="grey", linewidth=0.8, linestyle="--")
    axes.set_xscale("log")
    axes.set_ylim(98.0, 100.0)
    axes.set_xlabel("training seconds (2 CPU cores, log scale)")
    axes.set_ylabel("MNIST test accuracy (%)")
    axes.set_title("Test accuracy against training time")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
