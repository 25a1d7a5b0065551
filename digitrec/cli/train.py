"""`digitrec train`: train a model from a recipe, with flags overriding single settings."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from digitrec.config import (
    DEFAULT_RECIPE,
    OPTIMIZERS,
    PRECISIONS,
    RECIPES,
    SCHEDULES,
    TrainConfig,
    recipe_config,
)
from digitrec.errors import DigitrecError

# (flag, type, help) for every TrainConfig field the CLI exposes; defaults come from the recipe.
_FLAGS: list[tuple[str, Any, str]] = [
    ("model", str, "architecture name (see `digitrec models`)"),
    ("data", str, "mnist (bundled), a folder of IDX files, or a folder of <label>/ images"),
    ("epochs", int, "number of epochs"),
    ("batch_size", int, "mini-batch size"),
    ("optimizer", str, f"one of {', '.join(OPTIMIZERS)}"),
    ("lr", float, "learning rate (the peak for onecycle)"),
    ("momentum", float, "SGD momentum"),
    ("weight_decay", float, "weight decay"),
    ("schedule", str, f"learning-rate schedule: {', '.join(SCHEDULES)}"),
    ("step_size", int, "epochs between decays (step schedule)"),
    ("gamma", float, "decay factor (step and plateau schedules)"),
    ("label_smoothing", float, "label smoothing in [0, 1)"),
    ("dropout", float, "dropout rate, for models that have dropout"),
    ("augment_rotation", float, "random rotation, max degrees"),
    ("augment_shift", float, "random shift, max fraction of the side"),
    ("augment_scale", float, "random zoom, max relative change"),
    ("augment_elastic", float, "elastic distortion, typical displacement in pixels"),
    ("augment_shear", float, "random slant, max columns per row either way"),
    ("early_stopping", int, "stop after N epochs without validation-loss improvement"),
    ("val_size", int, "validation samples carved from the training set"),
    ("train_limit", int, "use only the first N training samples (quick runs)"),
    ("extra_data", str, "an .npz of more digits (images, labels) added to the training part"),
    ("seed", int, "random seed (same seed and threads give the same result)"),
    ("threads", int, "torch CPU threads (default: all cores)"),
    ("precision", str, f"arithmetic: {', '.join(PRECISIONS)} (auto: bf16 where the CPU has it)"),
]


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a model and evaluate it",
        description="Train a model from a recipe; flags override the recipe's settings. "
        "Writes runs/<name>/ with the model, config, history, metrics and pictures.",
    )
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        help=f"named settings (default: the model's own recipe, else '{DEFAULT_RECIPE}')",
    )
    for name, kind, help_text in _FLAGS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=help_text)
    parser.add_argument(
        "--model-args", help="extra model arguments as JSON, e.g. '{\"width\": 32}'"
    )
    parser.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    parser.add_argument("--name", help="run name (default: <model>-<date>-<time>)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where runs go")
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="RUN",
        help="continue an interrupted run (a run folder, or the run named by --name)",
    )
    parser.add_argument("--no-progress", action="store_true", help="plain log lines, no bar")
    parser.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    parser.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    overrides = {name: getattr(args, name) for name, _, _ in _FLAGS}
    if args.model_args:
        try:
            overrides["model_args"] = json.loads(args.model_args)
        except json.JSONDecodeError as error:
            raise DigitrecError(f"--model-args is not valid JSON ({error.msg})") from None
        if not isinstance(overrides["model_args"], dict):
            raise DigitrecError("--model-args must be a JSON object")
    if args.no_augment:
        for name in (
            "augment_rotation",
            "augment_shift",
            "augment_scale",
            "augment_elastic",
            "augment_shear",
        ):
            overrides[name] = 0.0
    recipe = args.recipe
    if recipe is None:
        from digitrec.models.registry import get_spec

        recipe = get_spec(args.model).recipe if args.model else DEFAULT_RECIPE
        if not recipe:
            raise DigitrecError(f"model '{args.model}' is not trained directly (see --help)")
    return recipe_config(recipe, **overrides)


def resolve_run_dir(args: argparse.Namespace, config: TrainConfig | None) -> Path:
    if isinstance(args.resume, str):
        return Path(args.resume)
    if args.name:
        return args.runs_dir / args.name
    if args.resume:
        raise DigitrecError("--resume needs a run folder, or --name of the run")
    from digitrec.runs import default_run_name

    return args.runs_dir / default_run_name(config)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    from digitrec.runs import CONFIG_FILE, run_training

    if args.resume:
        run_dir = resolve_run_dir(args, None)
        config = TrainConfig.load(run_dir / CONFIG_FILE)
        # Extending a finished or interrupted run is allowed; other settings come from the run.
        if args.epochs:
            config.epochs = args.epochs
        if args.threads:
            config.threads = args.threads
    else:
        config = config_from_args(args)
        run_dir = resolve_run_dir(args, config)
    args.interrupt_hint = f"continue with: digitrec train --resume {run_dir}"
    summary = run_training(
        config,
        run_dir,
        resume=bool(args.resume),
        show_progress=not args.no_progress and sys.stderr.isatty(),
    )
    if args.json:
        print(json.dumps({"run_dir": str(summary.run_dir), **summary.metrics}))
        return 0
    metrics = summary.metrics
    epochs = f"{metrics['epochs']} epochs in " if metrics["epochs"] else "trained in "
    print(
        f"test accuracy {metrics['test_accuracy']:.2%} ({metrics['test_errors']} errors), "
        f"{epochs}{metrics['train_seconds']:.1f}s"
    )
    print(f"run folder: {summary.run_dir}")
    for label, path in summary.files.items():
        print(f"  {label:<10} {path}")
    return 0
