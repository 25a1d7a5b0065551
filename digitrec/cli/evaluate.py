"""`digitrec eval`: accuracy, loss, per-class scores and the confusion matrix of a model."""

from __future__ import annotations

import argparse
import json
from typing import Any

from digitrec.data.datasets import load_test_set
from digitrec.evaluation import evaluate
from digitrec.models.loading import load_classifier


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "eval",
        help="evaluate a model on a test set",
        description="Evaluate a model (a model file, a run folder, or a shipped model name) "
        "on the test part of a data set.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file, run folder, or 'default'")
    parser.add_argument("--data", default="mnist", help="mnist, an IDX folder or image folder")
    parser.add_argument("--limit", type=int, help="evaluate only the first N test samples")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    classifier = load_classifier(args.model)
    test = load_test_set(args.data).head(args.limit)
    if test.classes != classifier.classes:
        from digitrec.errors import DigitrecError

        raise DigitrecError(
            f"the model knows classes {list(classifier.classes)} "
            f"but the data has {list(test.classes)}"
        )
    metrics = evaluate(classifier, test)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(format_report(metrics, args.model))
    return 0


def format_report(metrics: dict[str, Any], model: str) -> str:
    lines = [
        f"model {model}: accuracy {metrics['accuracy']:.2%} "
        f"({metrics['errors']} errors in {metrics['count']}), loss {metrics['loss']:.4f}",
        "",
        f"{'class':>6} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
    ]
    for row in metrics["per_class"]:
        lines.append(
            f"{row['class']:>6} {row['precision']:>9.4f} {row['recall']:>7.4f} "
            f"{row['f1']:>7.4f} {row['support']:>8}"
        )
    lines += ["", "confusion (rows: true, columns: predicted)"]
    names = [row["class"] for row in metrics["per_class"]]
    width = max(5, *(len(str(v)) + 1 for row in metrics["confusion"] for v in row))
    lines.append(" " * 6 + "".join(f"{name:>{width}}" for name in names))
    for name, row in zip(names, metrics["confusion"], strict=True):
        lines.append(f"{name:>6}" + "".join(f"{value:>{width}}" for value in row))
    return "\n".join(lines)
