"""Per-epoch training checkpoints, so an interrupted run resumes where it stopped.

Everything needed to continue exactly is saved: weights, optimizer and schedule state, the
history, early-stopping bookkeeping and the best weights so far. Random state need not be
saved because the loop reseeds every epoch from (seed, epoch). Stored via digitrec.store:
atomic and pickle-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from digitrec.errors import ModelFileError
from digitrec.store import (
    CHECKPOINT_FORMAT,
    flatten_tree,
    read_arrays_file,
    unflatten_tree,
    write_arrays_file,
)

CHECKPOINT_FILE = "checkpoint.safetensors"


@dataclass
class TrainingState:
    """What the loop carries from one epoch to the next."""

    epochs_done: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_val_loss: float = float("inf")
    best_epoch: int = 0
    best_weights: dict[str, torch.Tensor] | None = None
    seconds: float = 0.0


def save_checkpoint(
    path: Path,
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule_state: dict[str, Any],
    state: TrainingState,
    config: dict[str, Any],
) -> None:
    arrays: dict[str, np.ndarray] = {}
    tree = {
        "model": module.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule_state,
        "best_weights": state.best_weights,
    }
    document = {
        "tree": flatten_tree(tree, arrays),
        "epochs_done": state.epochs_done,
        "history": state.history,
        "best_val_loss": state.best_val_loss,
        "best_epoch": state.best_epoch,
        "seconds": state.seconds,
        "config": config,
    }
    write_arrays_file(path, arrays, document, kind=CHECKPOINT_FORMAT)


def load_checkpoint(path: Path) -> tuple[dict[str, Any], TrainingState, dict[str, Any]]:
    """(tree with model/optimizer/schedule state, training state, saved config)."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no checkpoint to resume from")
    arrays, document = read_arrays_file(path, kind=CHECKPOINT_FORMAT)
    tree = unflatten_tree(document["tree"], arrays)
    state = TrainingState(
        epochs_done=document["epochs_done"],
        history=document["history"],
        best_val_loss=document["best_val_loss"],
        best_epoch=document["best_epoch"],
        best_weights=tree.pop("best_weights"),
        seconds=document["seconds"],
    )
    return tree, state, document["config"]
