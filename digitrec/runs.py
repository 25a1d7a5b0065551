"""A training run and its folder: runs/<name>/ with the model, config, history, metrics and
pictures. The CLI's `train` is a thin layer over `run_training`."""

from __future__ import annotations

import csv
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitrec.checkpoint import CHECKPOINT_FILE
from digitrec.config import TrainConfig
from digitrec.data.datasets import DataSplits, load_splits
from digitrec.errors import DigitrecError
from digitrec.evaluation import metrics_from_probabilities, misclassified
from digitrec.models.classifier import Classifier
from digitrec.models.loading import MODEL_FILE
from digitrec.models.registry import create_model, get_spec
from digitrec.training import TrainResult, train, training_part

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"


@dataclass
class RunSummary:
    run_dir: Path
    metrics: dict[str, Any]
    files: dict[str, Path]


def default_run_name(config: TrainConfig) -> str:
    return f"{config.model}-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_run_dir(run_dir: Path, *, resume: bool) -> None:
    if resume:
        if not (run_dir / CHECKPOINT_FILE).is_file():
            raise DigitrecError(f"{run_dir}: nothing to resume (no {CHECKPOINT_FILE})")
        return
    if run_dir.exists() and any(run_dir.iterdir()):
        raise DigitrecError(
            f"{run_dir}: run folder exists; pick another --name or pass --resume to continue it"
        )
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise DigitrecError(f"{run_dir}: cannot write here ({error.strerror or error})") from None


def run_training(
    config: TrainConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    show_progress: bool = False,
    splits: DataSplits | None = None,
) -> RunSummary:
    """Train, evaluate on the test set and write everything into `run_dir`."""
    config.validate()
    prepare_run_dir(run_dir, resume=resume)
    if not resume:
        config.save(run_dir / CONFIG_FILE)
    if splits is None:
        splits = load_splits(
            config.data, val_size=config.val_size, seed=config.seed, train_limit=config.train_limit
        )
    log.info(
        "data %s: %d train, %d validation, %d test",
        splits.name,
        len(splits.train),
        len(splits.val),
        len(splits.test),
    )
    if get_spec(config.model).kind == "torch":
        result = train(config, splits, run_dir, resume=resume, show_progress=show_progress)
    else:
        if resume:
            raise DigitrecError(f"{config.model} trains in one go: start it again instead")
        result = fit_classic(config, splits, show_progress=show_progress)
    return finish_run(run_dir, result.classifier, result.history, result.seconds, splits, config)


def fit_classic(config: TrainConfig, splits: DataSplits, *, show_progress: bool) -> TrainResult:
    """Fit a classic (non-torch) model: they bring their own fit()."""
    model = create_model(config.model, classes=splits.classes, **config.model_args)
    # The same training part as the torch loop's: with --extra-data's digits, if any.
    train_set = training_part(config, splits)
    started = time.perf_counter()
    history = model.fit(train_set, splits.val, config, show_progress=show_progress)
    return TrainResult(model, history, time.perf_counter() - started, stopped_early=False)


def finish_run(
    run_dir: Path,
    classifier: Classifier,
    history: list[dict[str, float]],
    seconds: float,
    splits: DataSplits,
    config: TrainConfig,
) -> RunSummary:
    from digitrec import plots  # matplotlib is slow to import; only runs that finish need it

    test_images = splits.test.as_float()
    probabilities = classifier.predict_proba(test_images)
    test = metrics_from_probabilities(probabilities, splits.test.labels, splits.classes)
    last = history[-1] if history else {}
    if not history:  # one-shot models: report validation accuracy all the same
        val = metrics_from_probabilities(
            classifier.predict_proba(splits.val.as_float()), splits.val.labels, splits.classes
        )
        last = {"val_acc": val["accuracy"], "val_loss": val["loss"]}
    metrics = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "test_errors": test["errors"],
        "val_accuracy": last.get("val_acc"),
        "val_loss": last.get("val_loss"),
        "epochs": len(history),
        "parameters": classifier.parameter_count(),
        "train_seconds": round(seconds, 2),
        "data": splits.name,
    }
    classifier.metrics = metrics
    files = {
        "model": classifier.save(run_dir / MODEL_FILE, training=config.to_dict()),
        "history": _write_history(run_dir / "history.csv", history),
        "metrics": run_dir / "metrics.json",
        "confusion": plots.plot_confusion(
            np.asarray(test["confusion"]), run_dir / "confusion.png", splits.classes
        ),
        "errors": plots.plot_errors(
            *misclassified(test_images, splits.test.labels, probabilities),
            run_dir / "errors.png",
            class_names=splits.classes,
        ),
    }
    if history:
        files["curves"] = plots.plot_curves(history, run_dir / "curves.png")
    (run_dir / "metrics.json").write_text(json.dumps({**metrics, "test": test}, indent=2) + "\n")
    return RunSummary(run_dir, metrics, files)


def _write_history(path: Path, history: list[dict[str, float]]) -> Path:
    with path.open("w", newline="") as handle:
        if history:
            writer = csv.DictWriter(handle, fieldnames=list(history[0]))
            writer.writeheader()
            writer.writerows(history)
    return path
