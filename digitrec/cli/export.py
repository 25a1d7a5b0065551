"""`digitrec export`: write a model as ONNX and check it against the original."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from digitrec.data.datasets import load_test_set
from digitrec.errors import DigitrecError
from digitrec.export import OnnxClassifier, compare_outputs, export_onnx
from digitrec.models.loading import load_classifier


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export",
        help="export a model to ONNX",
        description="Export a torch model to ONNX (input: images (N, 1, 28, 28) in [0, 1], "
        "output: probabilities; normalization and softmax are part of the graph), then run "
        "it with onnxruntime on the test set and check it predicts what the model predicts.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file, run folder or shipped name")
    parser.add_argument("--onnx", type=Path, required=True, metavar="FILE", help="output file")
    parser.add_argument("--data", default="mnist", help="the test set to check on")
    parser.add_argument("--limit", type=int, help="check on the first N test digits only")
    parser.add_argument("--json", action="store_true", help="print the check as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    classifier = load_classifier(args.model, accelerate=False)
    path = export_onnx(classifier, args.onnx)
    test = load_test_set(args.data).head(args.limit)
    check = compare_outputs(classifier, OnnxClassifier(path, classifier.classes), test.as_float())
    report = {"onnx": str(path), **check}
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"wrote {path}; on {check['count']} test digits onnxruntime predicts the same "
            f"class {check['same_prediction']:.2%} of the time "
            f"(largest probability difference {check['max_abs_difference']:.2e})"
        )
    if check["same_prediction"] < 1.0:
        raise DigitrecError("the exported model disagrees with the original")
    return 0
