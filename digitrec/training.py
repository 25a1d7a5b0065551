"""The one training loop that every torch model goes through.

The whole data set lives in memory as one normalized tensor; a batch is an index into it, so
the hot path has no per-sample Python. Every epoch is seeded from (seed, epoch): shuffling,
augmentation and dropout replay identically, which is what lets a resumed run end with the
same weights as an uninterrupted one without saving random-number-generator state.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from digitrec.checkpoint import CHECKPOINT_FILE, TrainingState, load_checkpoint, save_checkpoint
from digitrec.config import TrainConfig
from digitrec.data.augment import AugmentConfig, random_affine
from digitrec.data.datasets import DataSplits, DigitSet, load_extra_set
from digitrec.errors import DigitrecError
from digitrec.models.classifier import Classifier, TorchClassifier
from digitrec.models.registry import create_model, get_spec
from digitrec.optim import Schedule, build_optimizer

log = logging.getLogger(__name__)

EVAL_BATCH = 4096


@dataclass
class TrainResult:
    classifier: Classifier
    history: list[dict[str, float]]
    seconds: float
    stopped_early: bool


def to_tensor(digits: DigitSet, mean: float, std: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 1, H, W) standardized float images and (N,) labels."""
    images = torch.from_numpy(digits.images).unsqueeze(1).float().div_(255.0)
    return images.sub_(mean).div_(std), torch.from_numpy(digits.labels)


def use_bf16(precision: str) -> bool:
    """Whether to train under bf16 autocast: asked for, or "auto" on a CPU that has it."""
    if precision == "auto":
        return bool(torch.backends.mkldnn.is_available()) and bool(
            torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    return precision == "bf16"


def epoch_seed(seed: int, epoch: int) -> int:
    return seed * 1_000_003 + epoch


def build_module(config: TrainConfig, num_classes: int) -> nn.Module:
    spec = get_spec(config.model)
    if spec.kind != "torch":
        raise DigitrecError(f"model '{config.model}' is not a torch model")
    torch.manual_seed(config.seed)  # the same seed builds the same initial weights
    return create_model(config.model, **model_arguments(config, num_classes))


def model_arguments(config: TrainConfig, num_classes: int) -> dict[str, object]:
    """The constructor arguments of the model: built from these, and saved with it."""
    arguments: dict[str, object] = {"num_classes": num_classes, **config.model_args}
    if config.dropout is not None:
        arguments["dropout"] = config.dropout
    return arguments


def train(
    config: TrainConfig,
    splits: DataSplits,
    run_dir: Path | None = None,
    *,
    resume: bool = False,
    show_progress: bool = False,
    after_epoch: Callable[[int, nn.Module, float], None] | None = None,
) -> TrainResult:
    """Train `config.model` on `splits`; checkpoint every epoch into `run_dir` if given.

    `after_epoch(epoch, module, training_seconds)` is called after each epoch outside the
    timed part (benchmarks use it to follow test accuracy over time)."""
    config.validate()
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    train_set = training_part(config, splits)
    # Standardize with the training part's own statistics, so other data sets work too.
    pixels = train_set.images
    mean, std = float(pixels.mean() / 255.0), float(pixels.std() / 255.0) or 1.0
    train_x, train_y = to_tensor(train_set, mean, std)
    val_x, val_y = to_tensor(splits.val, mean, std)
    # Channels-last lets oneDNN pick its fastest convolution kernels (measured ~25% faster
    # per step in fp32 and ~2x with bf16 on this CPU); with one input channel the images'
    # memory layout is the same either way, so only the weights change layout.
    train_x = train_x.contiguous(memory_format=torch.channels_last)

    module = build_module(config, len(splits.classes)).to(memory_format=torch.channels_last)
    steps_per_epoch = max(1, len(train_x) // config.batch_size)
    optimizer = build_optimizer(module, config)
    schedule = Schedule(optimizer, config, steps_per_epoch)
    state = TrainingState()
    checkpoint_path = None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint_path = run_dir / CHECKPOINT_FILE
    if resume and checkpoint_path is not None:
        state = _restore(checkpoint_path, module, optimizer, schedule, config)
    augment = AugmentConfig(
        config.augment_rotation,
        config.augment_shift,
        config.augment_scale,
        config.augment_elastic,
        config.augment_shear,
    )
    stopped_early = False

    for epoch in range(state.epochs_done + 1, config.epochs + 1):
        started = time.perf_counter()
        train_loss, train_acc = _train_epoch(
            module, optimizer, schedule, train_x, train_y, config, augment, epoch, show_progress
        )
        val_loss, val_acc = evaluate_tensors(module, val_x, val_y)
        schedule.after_epoch(val_loss)
        state.seconds += time.perf_counter() - started
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": round(state.seconds, 3),
        }
        state.history.append(row)
        state.epochs_done = epoch
        log.info(
            "epoch %d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  (%.1fs)",
            epoch,
            config.epochs,
            train_loss,
            train_acc,
            val_loss,
            val_acc,
            state.seconds,
        )
        if val_loss < state.best_val_loss:
            state.best_val_loss, state.best_epoch = val_loss, epoch
            if config.early_stopping:
                state.best_weights = {k: v.clone() for k, v in module.state_dict().items()}
        patience_over = bool(config.early_stopping) and (
            epoch - state.best_epoch >= config.early_stopping  # type: ignore[operator]
        )
        if checkpoint_path is not None:
            save_checkpoint(
                checkpoint_path, module, optimizer, schedule.state_dict(), state, config.to_dict()
            )
        if after_epoch is not None:
            after_epoch(epoch, module, state.seconds)
            module.train()
        if patience_over:
            log.info("early stop: no validation improvement since epoch %d", state.best_epoch)
            stopped_early = True
            break

    if config.early_stopping and state.best_weights is not None:
        module.load_state_dict(state.best_weights)
    module = module.to(memory_format=torch.contiguous_format)  # saved and exported as NCHW
    classifier = TorchClassifier(
        module,
        config.model,
        model_arguments(config, len(splits.classes)),
        splits.classes,
        mean,
        std,
    )
    return TrainResult(classifier, state.history, state.seconds, stopped_early)


def training_part(config: TrainConfig, splits: DataSplits) -> DigitSet:
    """The digits trained on: the training split plus `config.extra_data`, if any (never
    added to validation or test, which must stay what every other run is measured on)."""
    if config.extra_data is None:
        return splits.train
    extra, holdout = load_extra_set(config.extra_data, splits.train)
    carving = (config.val_size, config.seed)
    if holdout is not None and (
        config.data != "mnist" or config.train_limit is not None or holdout != carving
    ):
        # Its digits were drawn from the training part of that carving: any other split could
        # hold some of them in its validation set.
        raise DigitrecError(
            f"{config.extra_data} was made from MNIST training digits outside a validation set "
            f"of {holdout[0]} with seed {holdout[1]}: train on mnist with --val-size "
            f"{holdout[0]} --seed {holdout[1]} and no --train-limit"
        )
    log.info("training part: plus %d digits from %s", len(extra), config.extra_data)
    images = np.concatenate([splits.train.images, extra.images])
    return DigitSet(images, np.concatenate([splits.train.labels, extra.labels]), splits.classes)


def _restore(
    path: Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: Schedule,
    config: TrainConfig,
) -> TrainingState:
    tree, state, saved_config = load_checkpoint(path)
    # Only the epoch count may change on resume (to extend a run); all else must match.
    differing = [
        key
        for key, value in config.to_dict().items()
        if key not in ("epochs", "threads") and saved_config.get(key) != value
    ]
    if differing:
        raise DigitrecError(
            f"cannot resume: settings differ from the run's: {', '.join(differing)}"
        )
    if config.schedule == "onecycle" and saved_config.get("epochs") != config.epochs:
        raise DigitrecError("cannot change the epochs of a one-cycle run: its schedule is fixed")
    module.load_state_dict(tree["model"])
    optimizer.load_state_dict(tree["optimizer"])
    schedule.load_state_dict(tree["schedule"])
    log.info("resuming after epoch %d", state.epochs_done)
    return state


def _train_epoch(
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: Schedule,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: TrainConfig,
    augment: AugmentConfig,
    epoch: int,
    show_progress: bool,
) -> tuple[float, float]:
    seed = epoch_seed(config.seed, epoch)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout draws from the global generator
    module.train()
    order = torch.randperm(len(images), generator=generator)
    steps = max(1, len(images) // config.batch_size)
    total_loss, total_correct, seen = 0.0, 0, 0
    autocast: Callable[[], contextlib.AbstractContextManager] = (
        functools.partial(torch.autocast, "cpu", dtype=torch.bfloat16)
        if use_bf16(config.precision)
        else contextlib.nullcontext
    )
    bar = tqdm(
        range(steps),
        desc=f"epoch {epoch}/{config.epochs}",
        unit="batch",
        disable=not show_progress,
        leave=True,
        dynamic_ncols=True,
    )
    for step in bar:
        index = order[step * config.batch_size : (step + 1) * config.batch_size]
        x = random_affine(images[index], augment, generator)  # (B, 1, 28, 28)
        y = labels[index]
        with autocast():
            logits = module(x).float()
        loss = F.cross_entropy(logits, y, label_smoothing=config.label_smoothing)
        if not math.isfinite(loss.item()):
            raise DigitrecError(
                f"training diverged at epoch {epoch} (loss {loss.item()}): lower the learning rate"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.after_batch()
        total_loss += loss.item() * len(y)
        total_correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
        if step % 20 == 0 or step == steps - 1:
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{total_correct / seen:.4f}")
    return total_loss / seen, total_correct / seen


@torch.inference_mode()
def evaluate_tensors(
    module: nn.Module, images: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a module on standardized tensors."""
    if len(images) == 0:
        return float("nan"), float("nan")
    module.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(images), EVAL_BATCH):
        logits = module(images[start : start + EVAL_BATCH])
        target = labels[start : start + EVAL_BATCH]
        total_loss += F.cross_entropy(logits, target, reduction="sum").item()
        correct += int((logits.argmax(1) == target).sum())
    return total_loss / len(images), correct / len(images)
