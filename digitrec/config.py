"""Training configuration: one typed dataclass, and named recipes that fill it in.

A recipe is a model plus the settings that train it well (or, for the tutorial recipes, the
settings the tutorials used, so that we can compare against them). The CLI starts from a recipe
and lets flags override single fields; the resolved config is saved in every run folder.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from digitrec.errors import DigitrecError

Optimizer = Literal["adam", "adamw", "sgd", "adadelta"]
Schedule = Literal["constant", "step", "onecycle", "plateau", "cosine"]
Precision = Literal["auto", "fp32", "bf16"]
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd", "adadelta")
SCHEDULES: tuple[str, ...] = ("constant", "step", "onecycle", "plateau", "cosine")
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


@dataclass
class TrainConfig:
    model: str = "fastcnn"
    model_args: dict[str, Any] = field(default_factory=dict)  # e.g. {"width": 32}
    data: str = "mnist"
    val_size: int = 5000
    train_limit: int | None = None  # keep only the first N training samples (quick runs)
    # An .npz of more labelled 28x28 uint8 digits (`images`, `labels`), added to the training
    # part only, never to validation or test: e.g. photo crops (digitrec.data.photo_crops).
    extra_data: str | None = None
    epochs: int = 6
    batch_size: int = 128
    optimizer: Optimizer = "adamw"
    lr: float = 3e-3  # peak learning rate for onecycle
    momentum: float = 0.9  # sgd only
    weight_decay: float = 5e-4
    schedule: Schedule = "onecycle"
    step_size: int = 1  # epochs between decays, for "step"
    gamma: float = 0.7  # decay factor for "step" and "plateau"
    label_smoothing: float = 0.0
    dropout: float | None = None  # None keeps the model's own default
    augment_rotation: float = 0.0  # degrees
    augment_shift: float = 0.0  # fraction of the side
    augment_scale: float = 0.0  # relative zoom
    augment_elastic: float = 0.0  # elastic distortion, typical displacement in pixels
    augment_shear: float = 0.0  # horizontal shear (slant), columns per row
    early_stopping: int | None = None  # patience in epochs on validation loss
    seed: int = 0
    threads: int | None = None  # torch intra-op threads; None = all cores
    # Forward/backward arithmetic. "auto" is bf16 autocast (weights and optimizer stay fp32)
    # where the CPU does bf16 natively, which roughly halves a conv net's step time; fp32
    # elsewhere, because emulated bf16 is slower than fp32.
    precision: Precision = "auto"

    def validate(self) -> TrainConfig:
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr}
        for name, value in positive.items():
            if value <= 0:
                raise DigitrecError(f"{name.replace('_', '-')} must be positive, got {value}")
        if self.optimizer not in OPTIMIZERS:
            raise DigitrecError(f"unknown optimizer '{self.optimizer}' ({', '.join(OPTIMIZERS)})")
        if self.schedule not in SCHEDULES:
            raise DigitrecError(f"unknown schedule '{self.schedule}' ({', '.join(SCHEDULES)})")
        if not 0 <= self.label_smoothing < 1:
            raise DigitrecError(f"label-smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise DigitrecError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.val_size < 1:
            raise DigitrecError(f"val-size must be at least 1, got {self.val_size}")
        if self.precision not in PRECISIONS:
            raise DigitrecError(f"unknown precision '{self.precision}' ({', '.join(PRECISIONS)})")
        if self.augment_elastic < 0:
            raise DigitrecError(f"augment-elastic must be >= 0, got {self.augment_elastic}")
        if self.augment_shear < 0:
            raise DigitrecError(f"augment-shear must be >= 0, got {self.augment_shear}")
        if self.extra_data is not None and not Path(self.extra_data).is_file():
            raise DigitrecError(f"extra-data: no such file {self.extra_data}")
        if self.threads is not None and self.threads < 1:
            raise DigitrecError(f"threads must be at least 1, got {self.threads}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise DigitrecError(f"unknown config keys: {', '.join(sorted(unknown))}")
        return cls(**values).validate()

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError, TypeError) as error:
            raise DigitrecError(f"{path}: cannot read the run's config ({error})") from None


# Each recipe lists only what differs from TrainConfig's defaults.
RECIPES: dict[str, dict[str, Any]] = {
    # The default (what `make run` and a bare `digitrec train` use): the small batch-norm CNN
    # with a steep one-cycle schedule over three epochs, mild augmentation (real handwriting
    # is rotated and off-centre more than MNIST is), bf16 where the CPU has it. 99% of MNIST
    # in well under 20 seconds on two cores; `--epochs 8` goes further in about a minute.
    "fast": {
        "model": "fastcnn",
        "epochs": 3,
        "augment_rotation": 10.0,
        "augment_shift": 0.08,
        "augment_scale": 0.1,
        "label_smoothing": 0.05,
    },
    # The same net for six epochs: the shipped `default` model was trained with it.
    "fastcnn": {
        "model": "fastcnn",
        "epochs": 6,
        "augment_rotation": 10.0,
        "augment_shift": 0.08,
        "augment_scale": 0.1,
        "label_smoothing": 0.05,
    },
    # The accuracy frontier: the deeper CNN, the same mild affine augmentation as `fast` plus
    # a light elastic distortion, more epochs. (A first try with stronger augmentation, 12
    # degrees, 10% shift, 12% zoom and 1.5-px elastic, underfit: 98.96% train, 99.42% test.)
    "best": {
        "model": "deepcnn",
        "epochs": 15,
        "augment_rotation": 10.0,
        "augment_shift": 0.08,
        "augment_scale": 0.1,
        "augment_elastic": 0.5,
        "label_smoothing": 0.05,
    },
    # The Keras MLP tutorial: adam, batch 32, 20 epochs.
    "tutorial-mlp": {
        "precision": "fp32",  # as the tutorial ran; bf16 is our speed-up
        "model": "mlp",
        "epochs": 20,
        "batch_size": 32,
        "optimizer": "adam",
        "lr": 1e-3,
        "weight_decay": 0.0,
        "schedule": "constant",
    },
    # The Keras CNN tutorial: adam, batch 64, 10 epochs.
    "tutorial-cnn": {
        "precision": "fp32",  # as the tutorial ran; bf16 is our speed-up
        "model": "cnn",
        "epochs": 10,
        "batch_size": 64,
        "optimizer": "adam",
        "lr": 1e-3,
        "weight_decay": 0.0,
        "schedule": "constant",
    },
    # The PyTorch beginner tutorial: SGD with momentum 0.5, lr 0.01, batch 64, 10 epochs.
    "pytorch-tutorial": {
        "precision": "fp32",  # as the tutorial ran; bf16 is our speed-up
        "model": "tutorial-cnn",
        "epochs": 10,
        "batch_size": 64,
        "optimizer": "sgd",
        "lr": 0.01,
        "momentum": 0.5,
        "weight_decay": 0.0,
        "schedule": "constant",
    },
    # LeNet-5 with a modern optimizer: adam and a step decay.
    "lenet5": {
        "model": "lenet5",
        "epochs": 10,
        "batch_size": 64,
        "optimizer": "adam",
        "lr": 1e-3,
        "weight_decay": 0.0,
        "schedule": "step",
        "step_size": 3,
        "gamma": 0.5,
    },
    # k nearest neighbours on raw pixels; distance-weighted votes break three-way ties toward
    # the nearest neighbour instead of the lowest class number (97.1% vs 97.0%).
    "knn": {"model": "knn", "model_args": {"k": 3, "weights": "distance"}},
    # Linear SVM on an RBF (Nystroem, 2,000 landmarks) approximation of two-scale HOG features.
    "svm": {
        "model": "svm",
        "model_args": {"cells": [4, 7], "landmarks": 2000, "gamma": 0.03, "C": 5.0},
    },
    # Extremely randomized trees: +0.3 points over a plain random forest at the same fit time.
    "forest": {"model": "forest", "model_args": {"trees": 100, "extra_trees": True}},
    # The network of Nielsen's "Neural networks and deep learning", in NumPy: [784, 30, 10]
    # sigmoid, plain SGD; a bigger batch than the book's 10 with a cosine-decayed rate.
    "numpy-mlp-book": {
        "model": "numpy-mlp",
        "model_args": {"layers": [784, 30, 10], "activation": "sigmoid"},
        "epochs": 10,
        "batch_size": 32,
        "lr": 1.0,
        "momentum": 0.0,
        "weight_decay": 0.0,
        "schedule": "cosine",
    },
    # The same from-scratch code, bigger and with ReLU: SGD with momentum.
    "numpy-mlp": {
        "model": "numpy-mlp",
        "model_args": {"layers": [784, 256, 128, 10], "activation": "relu"},
        "epochs": 20,
        "batch_size": 128,
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "schedule": "cosine",
    },
}


DEFAULT_RECIPE = "fast"


def recipe_names() -> list[str]:
    return sorted(RECIPES)


def recipe_config(name: str, **overrides: Any) -> TrainConfig:
    """The config of a named recipe, with `overrides` (None values are ignored) applied."""
    if name not in RECIPES:
        raise DigitrecError(f"unknown recipe '{name}' (known: {', '.join(recipe_names())})")
    values = {**RECIPES[name], **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig.from_dict(values)
