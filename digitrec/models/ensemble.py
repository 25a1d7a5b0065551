"""An ensemble: several trained torch models in one module, averaging their probabilities.

Averaging probabilities (not logits) is the classic committee: a member that is unsure
contributes a flat vector instead of outvoting the others with a large logit. The module
returns the log of the average, so the softmax every caller applies gives back the average
itself, and the ensemble trains, saves, loads and exports like any single model.

Members may have been trained with different input standardization (another training split,
another data set of the same classes): each member's arguments carry its own mean and std, and
the ensemble re-standardizes the input for each member from its own (the first member's).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from digitrec.errors import DigitrecError
from digitrec.models.classifier import TorchClassifier
from digitrec.models.registry import create_model, register_model

_TINY = 1e-12  # log(0) would be -inf; any probability that small is "no" anyway


@register_model(
    "ensemble",
    description="averages the probabilities of several trained models (build: digitrec ensemble)",
    recipe="",
)
class Ensemble(nn.Module):
    def __init__(self, members: list[dict[str, Any]], num_classes: int = 10) -> None:
        super().__init__()
        if not members:
            raise DigitrecError("an ensemble needs at least one member")
        self.members = nn.ModuleList(
            create_model(member["architecture"], **member["arguments"]) for member in members
        )
        mean0, std0 = float(members[0]["mean"]), float(members[0]["std"])
        # x_member = (raw - mean_m) / std_m = x * (std0 / std_m) + (mean0 - mean_m) / std_m
        scale = [std0 / float(member["std"]) for member in members]
        offset = [(mean0 - float(member["mean"])) / float(member["std"]) for member in members]
        self.register_buffer("scale", torch.tensor(scale), persistent=False)
        self.register_buffer("offset", torch.tensor(offset), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probabilities = [
            torch.softmax(member(x * self.scale[index] + self.offset[index]).float(), dim=1)
            for index, member in enumerate(self.members)
        ]
        return torch.stack(probabilities).mean(dim=0).clamp_min(_TINY).log()


def build_ensemble(members: list[TorchClassifier]) -> TorchClassifier:
    """One classifier from trained torch classifiers of the same classes."""
    if len(members) < 2:
        raise DigitrecError("an ensemble needs at least two models")
    classes = members[0].classes
    for member in members[1:]:
        if member.classes != classes:
            raise DigitrecError(
                f"models disagree on the classes: {list(classes)} vs {list(member.classes)}"
            )
    specs = [
        {
            "architecture": member.architecture,
            "arguments": member.arguments,
            "mean": member.mean,
            "std": member.std,
        }
        for member in members
    ]
    arguments = {"members": specs, "num_classes": len(classes)}
    module = Ensemble(**arguments)
    for target, member in zip(module.members, members, strict=True):
        target.load_state_dict(member.module.state_dict())
    return TorchClassifier(module, "ensemble", arguments, classes, members[0].mean, members[0].std)
