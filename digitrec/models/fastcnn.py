"""A small batch-normalized CNN designed for CPU training speed: the default model.

Three 3x3 conv blocks (with batch norm, so a steep one-cycle schedule is stable) at 28, 14 and
7 px, then global max pooling. Global pooling keeps the head tiny and makes the net tolerant of
where the digit's strokes sit, which helps on photos whose centring is imperfect. Padding keeps
every map a power-of-two-friendly size; channels widen as the maps shrink, so each block costs
about the same.
"""

from __future__ import annotations

import torch
from torch import nn

from digitrec.models.registry import register_model


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


@register_model(
    "fastcnn",
    description="small batch-norm CNN (3 conv blocks, global max pool) built to train fast on CPU",
    recipe="fastcnn",
)
class FastCNN(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_block(1, width),
            nn.MaxPool2d(2),  # 28 -> 14
            conv_block(width, 2 * width),
            nn.MaxPool2d(2),  # 14 -> 7
            conv_block(2 * width, 4 * width),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
