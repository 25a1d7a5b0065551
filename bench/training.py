"""Training benchmark: the classic tutorial recipes and the default, on the full MNIST."""

from __future__ import annotations

import shutil
from pathlib import Path

from digitrec.config import recipe_config
from digitrec.runs import run_training

# (recipe, what it reproduces, the accuracy the tutorials report)
RECIPES = [
    ("tutorial-mlp", "Keras MLP tutorial: `mlp`, adam, batch 32, 20 epochs", "about 95-97%"),
    ("tutorial-cnn", "Keras CNN tutorial: `cnn`, adam, batch 64, 10 epochs", "at least 99.0%"),
    ("default", "digitrec default: `fastcnn`, adamw one-cycle, batch 128, 6 epochs", "-"),
]


def tutorial_recipes(runs_dir: Path) -> str:
    rows = [
        "## Training on MNIST (55,000 train / 5,000 validation; test set 10,000)",
        "",
        "| recipe | what | test accuracy | expected | epochs | s/epoch | total s |",
        "|---|---|---|---|---|---|---|",
    ]
    for recipe, description, expected in RECIPES:
        run_dir = runs_dir / recipe
        shutil.rmtree(run_dir, ignore_errors=True)
        summary = run_training(recipe_config(recipe), run_dir)
        metrics = summary.metrics
        per_epoch = metrics["train_seconds"] / metrics["epochs"]
        rows.append(
            f"| `{recipe}` | {description} | {metrics['test_accuracy']:.2%} | {expected} "
            f"| {metrics['epochs']} | {per_epoch:.1f} | {metrics['train_seconds']:.0f} |"
        )
        print(rows[-1], flush=True)
    rows += [
        "",
        "Seconds are wall time of the training loop (including the validation pass after each "
        "epoch), with all cores. Run folders with curves and confusion matrices: "
        f"`{runs_dir}/<recipe>/`.",
        "",
    ]
    return "\n".join(rows)
