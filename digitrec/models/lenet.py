"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998), adapted to 28x28 inputs.

The paper's network took 32x32 images; padding the first 5x5 convolution by 2 gives the same
28x28 C1 maps from MNIST's 28x28. We keep the paper's layer sizes (6 and 16 maps, 120-84-10)
but use max pooling and ReLU, the usual modern reading, instead of trainable subsampling and
scaled tanh; C3 connects to all S2 maps rather than the paper's hand-picked table.
"""

from __future__ import annotations

import torch
from torch import nn

from digitrec.models.registry import register_model


@register_model(
    "lenet5",
    description="LeNet-5 (1998): 6 and 16 maps of 5x5 with pooling, then 120-84-10",
    recipe="lenet5",
)
class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),  # C1: 6 x 28 x 28
            nn.ReLU(),
            nn.MaxPool2d(2),  # S2: 6 x 14 x 14
            nn.Conv2d(6, 16, 5),  # C3: 16 x 10 x 10
            nn.ReLU(),
            nn.MaxPool2d(2),  # S4: 16 x 5 x 5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),  # C5
            nn.ReLU(),
            nn.Linear(120, 84),  # F6
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
