"""Training benchmarks on the full MNIST: every model side by side (the leaderboard), and the
classic tutorial recipes against their published figures."""

from __future__ import annotations

import json
from pathlib import Path

from digitrec.compare import (
    CompareOptions,
    compare,
    leaderboard_table,
    measure,
    write_leaderboard,
)
from digitrec.data.datasets import load_splits
from digitrec.models.loading import MODEL_FILE, load_classifier
from digitrec.models.registry import model_names

# (model, its recipe as the tutorials ran it, the accuracy the tutorials report)
TUTORIALS = [
    ("mlp", "`tutorial-mlp`: Keras MLP tutorial, adam, batch 32, 20 epochs", "about 95-97%"),
    ("cnn", "`tutorial-cnn`: Keras CNN tutorial, adam, batch 64, 10 epochs", "at least 99.0%"),
    ("fastcnn", "`fastcnn`: adamw one-cycle, batch 128, 6 epochs", "-"),
]


# Trained by the frontier benchmark (which runs first): measured from its runs, not retrained.
FROM_FRONTIER = {"deepcnn": "best-s0", "ensemble": "ensemble"}


def leaderboard(runs_dir: Path) -> str:
    out_dir = runs_dir / "compare"
    models = [name for name in model_names() if name not in FROM_FRONTIER]
    rows = compare(CompareOptions(models=models, out_dir=out_dir))
    splits = load_splits("mnist")
    for name, label in FROM_FRONTIER.items():
        run_dir = runs_dir / "frontier" / label
        if (run_dir / MODEL_FILE).is_file():
            rows.append(measure(name, load_classifier(run_dir), run_dir / MODEL_FILE, splits))
    rows.sort(key=lambda row: (-row["accuracy"], row["model"]))
    write_leaderboard(rows, out_dir, "Leaderboard on MNIST")
    return "\n".join(
        [
            "## Leaderboard: every model on MNIST",
            "",
            "Each model trained with its own recipe on the same 55,000 training digits "
            "(5,000 more for validation), tested on the 10,000 test digits "
            "(`digitrec compare`; `deepcnn` and `ensemble` are the frontier benchmark's "
            "`best-s0` and `ensemble` runs). Parameters of classic models count their stored "
            "values (the kNN stores its training set). Predict time is `predict_proba` on "
            "10,000 test digits in one call.",
            "",
            leaderboard_table(rows),
            "",
            f"Chart: `{out_dir}/leaderboard.png`; run folders: `{out_dir}/<model>/`.",
            "",
        ]
    )


def tutorial_recipes(runs_dir: Path) -> str:
    """Reads the runs `leaderboard` made (it trains these models with these recipes)."""
    rows = [
        "## The tutorial recipes",
        "",
        "| recipe | test accuracy | tutorials report | epochs | s/epoch | total s |",
        "|---|---|---|---|---|---|",
    ]
    for model, description, expected in TUTORIALS:
        run_dir = runs_dir / "compare" / model
        if not (run_dir / "metrics.json").is_file():
            compare(CompareOptions(models=[model], out_dir=runs_dir / "compare", reuse=True))
        metrics = json.loads((run_dir / "metrics.json").read_text())
        seconds, epochs = metrics["train_seconds"], metrics["epochs"]
        rows.append(
            f"| {description} | {metrics['test_accuracy']:.2%} | {expected} | {epochs} "
            f"| {seconds / epochs:.1f} | {seconds:.0f} |"
        )
    rows += [
        "",
        "Seconds are wall time of the training loop, including the validation pass after "
        "each epoch, on all cores.",
        "",
    ]
    return "\n".join(rows)
