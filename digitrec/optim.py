"""Optimizers and learning-rate schedules named in TrainConfig."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from digitrec.config import TrainConfig


def build_optimizer(module: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    parameters = module.parameters()
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.optimizer == "adadelta":
        return torch.optim.Adadelta(parameters, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {config.optimizer!r}")


class Schedule:
    """Wraps a torch scheduler so the loop need not know when each kind steps:
    one-cycle steps every batch, the others once an epoch (plateau on validation loss)."""

    def __init__(
        self, optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
    ) -> None:
        self.kind = config.schedule
        self.scheduler: Any = None
        if self.kind == "onecycle":
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer,
                max_lr=config.lr,
                total_steps=config.epochs * steps_per_epoch,
                pct_start=0.25,
                # Adadelta/SGD without momentum have no momentum to cycle.
                cycle_momentum=config.optimizer in ("adam", "adamw", "sgd"),
            )
        elif self.kind == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(
                optimizer, step_size=config.step_size, gamma=config.gamma
            )
        elif self.kind == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=config.epochs
            )
        elif self.kind == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, factor=config.gamma, patience=1
            )

    def after_batch(self) -> None:
        if self.kind == "onecycle":
            self.scheduler.step()

    def after_epoch(self, val_loss: float) -> None:
        if self.kind == "plateau":
            self.scheduler.step(val_loss)
        elif self.kind in ("step", "cosine"):
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)
