"""`digitrec eval`: accuracy, loss, per-class scores and the confusion matrix of a model."""

from __future__ import annotations

import argparse
import json
from typing import Any

from digitrec.data.datasets import load_test_set
from digitrec.errors import DigitrecError
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
    names = [row["class"] for row in metrics["per_class"]]
    label = max(6, *(len(name) for name in names))
    lines = [
        f"model {model}: accuracy {metrics['accuracy']:.2%} "
        f"({metrics['errors']} errors in {metrics['count']}), loss {metrics['loss']:.4f}",
        "",
        f"{'class':>{label}} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
    ]
    for row in metrics["per_class"]:
        lines.append(
            f"{row['class']:>{label}} {row['precision']:>9.4f} {row['recall']:>7.4f} "
            f"{row['f1']:>7.4f} {row['support']:>8}"
        )
    # The matrix is labelled by class index: long names would make it unreadably wide.
    lines += ["", "confusion (rows: true, columns: predicted, by class index)"]
    width = max(5, *(len(str(v)) + 1 for row in metrics["confusion"] for v in row))
    lines.append(" " * 4 + "".join(f"{index:>{width}}" for index in range(len(names))))
    for index, row in enumerate(metrics["confusion"]):
        lines.append(f"{index:>4}" + "".join(f"{value:>{width}}" for value in row))
    return "\n".join(lines)
