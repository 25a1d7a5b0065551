"""The base of models that are not trained by the torch loop: kNN, SVM, forests, the NumPy net.

They meet the same interface as torch models (`predict_proba` on [0, 1] images (N, 28, 28),
`save`, loading through digitrec.models.loading) and add `fit`. Their state is plain arrays,
stored the same safe way as torch weights: safetensors plus JSON, never pickle. A subclass
implements `fit`, `predict_proba`, `state_arrays` and `load_state`, and registers itself with
`@register_model(name, ..., kind="classic")`; its constructor takes its hyperparameters as
keyword arguments (saved in the file, so loading rebuilds it) plus `classes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from digitrec import __version__
from digitrec.data.datasets import DIGIT_CLASSES
from digitrec.errors import ModelFileError
from digitrec.store import MODEL_FORMAT, write_arrays_file

if TYPE_CHECKING:
    from digitrec.config import TrainConfig
    from digitrec.data.datasets import DigitSet


class ClassicClassifier:
    kind = "classic"
    architecture: str = ""  # set by register_model

    def __init__(self, classes: tuple[str, ...] = DIGIT_CLASSES, **arguments: Any) -> None:
        self.classes = tuple(classes)
        self.arguments = arguments
        self.metrics: dict[str, Any] = {}

    # --- what a subclass implements -------------------------------------------------------

    def fit(
        self, train: DigitSet, val: DigitSet, config: TrainConfig, show_progress: bool = False
    ) -> list[dict[str, float]]:
        """Learn from `train` (and optionally watch `val`); returns per-epoch history rows
        (keys epoch, train_loss, train_acc, val_loss, val_acc), or [] for one-shot models."""
        raise NotImplementedError

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Everything fit() learned, as named arrays."""
        raise NotImplementedError

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # --- shared ---------------------------------------------------------------------------

    def parameter_count(self) -> int:
        """Number of stored values: the closest thing a classic model has to parameters."""
        return int(sum(array.size for array in self.state_arrays().values()))

    def save(self, path: Path, **extra: Any) -> Path:
        metadata = {
            "kind": self.kind,
            "architecture": self.architecture,
            "arguments": self.arguments,
            "classes": list(self.classes),
            "input": {"size": 28, "digit_box": 20, "ink": "bright", "range": [0.0, 1.0]},
            "metrics": self.metrics,
            "parameters": self.parameter_count(),
            "versions": {"digitrec": __version__, "numpy": np.__version__},
            **extra,
        }
        return write_arrays_file(path, self.state_arrays(), metadata, kind=MODEL_FORMAT)

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], document: dict[str, Any], path: Path
    ) -> ClassicClassifier:
        try:
            model = cls(classes=tuple(document["classes"]), **document.get("arguments", {}))
            model.load_state(arrays)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"{path}: arrays do not fit model '{document.get('architecture')}' ({error})"
            ) from None
        model.metrics = dict(document.get("metrics") or {})
        return model


def batches(count: int, size: int):
    """(start, stop) pairs covering range(count) in chunks of `size`: bounds memory use."""
    for start in range(0, count, size):
        yield start, min(start + size, count)


def flat_pixels(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) images in [0, 1] (uint8 0-255 accepted) -> (N, 784) float32."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    # An explicit width, because reshape(0, -1) is ambiguous for an empty batch.
    width = int(np.prod(images.shape[1:]))
    return images.reshape(len(images), width).astype(np.float32, copy=False)
