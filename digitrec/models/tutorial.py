"""The networks of the classic MNIST tutorials, reproduced layer for layer.

`mlp` and `cnn` are the Keras tutorials' models, `tutorial-cnn` is the small two-convolution
net of the PyTorch beginner tutorials. They are here to be compared against, so their shapes
(and parameter counts, which the tests pin) must not drift.
"""

from __future__ import annotations

import torch
from torch import nn

from digitrec.models.registry import register_model

IMAGE_SIDE = 28


@register_model(
    "mlp",
    description="Keras tutorial MLP: 784-16-16-10 with dropout (13,002 parameters)",
    recipe="tutorial-mlp",
)
class TutorialMLP(nn.Module):
    def __init__(self, num_classes: int = 10, hidden: int = 16, dropout: float = 0.2) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(IMAGE_SIDE * IMAGE_SIDE, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, 28, 28) -> (B, classes)
        return self.layers(x)


def _side_after(side: int, convs: int, kernel: int, pools: int) -> int:
    """Side of a square map after `convs` valid convolutions, each followed by a 2x2 pool
    while `pools` remain (the tutorials' pattern)."""
    for index in range(convs):
        side = side - kernel + 1
        if index < pools:
            side //= 2
    return side


@register_model(
    "cnn",
    description="Keras tutorial CNN: conv32-pool-conv64-pool-conv64-dense64 (93,322 parameters)",
    recipe="tutorial-cnn",
)
class TutorialCNN(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        side = _side_after(IMAGE_SIDE, convs=3, kernel=3, pools=2)  # 28 -> 26/13 -> 11/5 -> 3
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * side * side, 64), nn.ReLU(), nn.Linear(64, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@register_model(
    "tutorial-cnn",
    description="PyTorch beginner CNN: conv10 5x5, conv20 5x5, each pooled, linear 320->10",
    recipe="pytorch-tutorial",
)
class PyTorchTutorialCNN(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        side = _side_after(IMAGE_SIDE, convs=2, kernel=5, pools=2)  # 28 -> 24/12 -> 8/4
        self.features = nn.Sequential(
            nn.Conv2d(1, 10, 5),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(10, 20, 5),
            nn.MaxPool2d(2),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(20 * side * side, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
