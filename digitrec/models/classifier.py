"""The one interface every trained model meets, and its torch implementation.

`predict_proba` takes MNIST-style images, float (N, 28, 28) in [0, 1] with the ink bright,
and returns class probabilities (N, K). Whatever a model needs beyond that (its input
normalization, its architecture arguments) travels inside it and inside its model file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from digitrec import __version__
from digitrec.errors import ModelFileError
from digitrec.models.registry import create_model
from digitrec.store import MODEL_FORMAT, write_arrays_file

PREDICT_BATCH = 4096


class Classifier(Protocol):
    kind: str
    architecture: str
    classes: tuple[str, ...]
    metrics: dict[str, Any]

    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...

    def parameter_count(self) -> int: ...

    def save(self, path: Path, **extra: Any) -> Path: ...


class TorchClassifier:
    """An nn.Module plus what is needed to use it on raw [0, 1] images and to rebuild it."""

    kind = "torch"

    def __init__(
        self,
        module: nn.Module,
        architecture: str,
        arguments: dict[str, Any],
        classes: tuple[str, ...],
        mean: float,
        std: float,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        self.module = module.eval()
        self.architecture = architecture
        self.arguments = dict(arguments)
        self.classes = tuple(classes)
        self.mean, self.std = float(mean), float(std)
        self.metrics = dict(metrics or {})
        # The sha256 of the weights in the model file this was loaded from, if any: an ONNX
        # twin of the file carries the same digest, which is how a stale twin is told apart.
        self.digest: str | None = None

    def normalize(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """[0, 1] images (N, H, W) -> the (N, 1, H, W) standardized tensor the net was fed."""
        x = torch.as_tensor(images, dtype=torch.float32)
        if x.ndim == 3:
            x = x.unsqueeze(1)
        return (x - self.mean) / self.std

    @torch.inference_mode()
    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        self.module.eval()
        images = np.asarray(images, dtype=np.float32)
        if len(images) == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        chunks = [
            torch.softmax(self.module(self.normalize(images[start : start + PREDICT_BATCH])), 1)
            for start in range(0, len(images), PREDICT_BATCH)
        ]
        return torch.cat(chunks).numpy()

    def parameter_count(self) -> int:
        return sum(parameter.numel() for parameter in self.module.parameters())

    def save(self, path: Path, **extra: Any) -> Path:
        arrays = {name: t.detach().cpu().numpy() for name, t in self.module.state_dict().items()}
        metadata = {
            "kind": self.kind,
            "architecture": self.architecture,
            "arguments": self.arguments,
            "classes": list(self.classes),
            "input": {
                "size": 28,
                "digit_box": 20,
                "ink": "bright",
                "mean": self.mean,
                "std": self.std,
            },
            "metrics": self.metrics,
            "parameters": self.parameter_count(),
            "versions": {"digitrec": __version__, "torch": torch.__version__},
            **extra,
        }
        return write_arrays_file(path, arrays, metadata, kind=MODEL_FORMAT)

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], document: dict[str, Any], path: Path
    ) -> TorchClassifier:
        try:
            architecture = document["architecture"]
            arguments = document.get("arguments", {})
            classes = tuple(document["classes"])
            mean, std = document["input"]["mean"], document["input"]["std"]
        except (KeyError, TypeError) as error:
            raise ModelFileError(f"{path}: incomplete metadata (missing {error})") from None
        module = create_model(architecture, **arguments)
        state = {name: torch.from_numpy(array.copy()) for name, array in arrays.items()}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as error:
            first_line = str(error).strip().splitlines()[-1].strip()
            raise ModelFileError(
                f"{path}: weights do not fit architecture '{architecture}' ({first_line})"
            ) from None
        classifier = cls(
            module, architecture, arguments, classes, mean, std, document.get("metrics")
        )
        classifier.digest = document.get("arrays_sha256")
        return classifier
