"""`digitrec models`: the architectures, recipes and shipped models there are."""

from __future__ import annotations

import argparse

from digitrec.config import RECIPES
from digitrec.models.loading import load_classifier, shipped_models
from digitrec.models.registry import get_spec, model_names


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help="list architectures, recipes and shipped models")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("architectures (digitrec train --model NAME):")
    for name in model_names():
        spec = get_spec(name)
        recipe = f"  [recipe: {spec.recipe}]" if spec.recipe else ""
        print(f"  {name:<14} {spec.description}{recipe}")
    print("recipes (digitrec train --recipe NAME):")
    for name, recipe in sorted(RECIPES.items()):
        settings = ", ".join(f"{k}={v}" for k, v in recipe.items() if k != "model")
        print(f"  {name:<16} model {recipe['model']}: {settings}")
    print("shipped models (digitrec predict --model NAME):")
    for name in shipped_models():
        accuracy = load_classifier(name).metrics.get("test_accuracy")
        shown = f"test accuracy {accuracy:.2%}" if accuracy is not None else ""
        print(f"  {name:<14} {shown}")
    return 0
