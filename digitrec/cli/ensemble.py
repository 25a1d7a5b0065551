"""`digitrec ensemble`: combine trained models into one model file that averages them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from digitrec.data.datasets import load_test_set
from digitrec.errors import DigitrecError
from digitrec.evaluation import evaluate
from digitrec.models.classifier import TorchClassifier
from digitrec.models.ensemble import build_ensemble
from digitrec.models.loading import load_classifier


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ensemble",
        help="combine trained models into one that averages their probabilities",
        description="Build one model file from several trained torch models (model files, run "
        "folders or shipped names); it averages their class probabilities. The result is "
        "evaluated on the test set, and loads, predicts and exports like any model.",
    )
    parser.add_argument("models", nargs="+", metavar="MODEL", help="two or more models")
    parser.add_argument("-o", "--output", type=Path, required=True, help="model file to write")
    parser.add_argument("--data", default="mnist", help="test set to evaluate on")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    members = []
    for reference in args.models:
        classifier = load_classifier(reference, accelerate=False)
        if not isinstance(classifier, TorchClassifier):
            raise DigitrecError(
                f"{reference}: a '{classifier.architecture}' model cannot join an ensemble "
                "(only torch models can)"
            )
        members.append(classifier)
    ensemble = build_ensemble(members)
    test = load_test_set(args.data)
    if test.classes != ensemble.classes:
        raise DigitrecError(f"the models' classes do not match the {args.data} test set")
    metrics = evaluate(ensemble, test)
    ensemble.metrics = {
        "test_accuracy": metrics["accuracy"],
        "test_loss": metrics["loss"],
        "test_errors": metrics["errors"],
        "members": [
            {"model": str(reference), "test_accuracy": member.metrics.get("test_accuracy")}
            for reference, member in zip(args.models, members, strict=True)
        ],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    ensemble.save(args.output)
    if args.json:
        print(json.dumps({"output": str(args.output), **ensemble.metrics}))
    else:
        print(
            f"ensemble of {len(members)}: test accuracy {metrics['accuracy']:.2%} "
            f"({metrics['errors']} errors); written to {args.output}"
        )
    return 0
