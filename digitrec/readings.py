"""What the reader answers for one image: each digit with its confidence and box."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Below this top probability a digit is flagged. On the MNIST test set the default model reads
# its right answers with a median confidence of 0.957 (0.7% of them fall below 0.6) and 27 of
# its 39 errors (69%) below 0.6 (the model shipped 2026-12-02, trained with handwriting fonts);
# read as the Predictor does (as given and deskewed: Predictor.probabilities), 0.74% of its right
# answers and 22 of its 31 errors.
LOW_CONFIDENCE = 0.6


@dataclass
class DigitReading:
    digit: str
    confidence: float
    top: list[tuple[str, float]]
    box: tuple[int, int, int, int] | None = None  # x, y, w, h in the input image
    low_confidence: bool = False

    def to_json(self) -> dict[str, Any]:
        def label(name: str) -> int | str:
            return int(name) if name.isdigit() else name

        return {
            "digit": label(self.digit),
            "confidence": round(self.confidence, 6),
            "top": [[label(name), round(p, 6)] for name, p in self.top],
            "box": list(self.box) if self.box is not None else None,
            "low_confidence": self.low_confidence,
        }


@dataclass
class Reading:
    """What was read in one image: `text` is "" when there is no digit."""

    digits: list[DigitReading] = field(default_factory=list)
    inputs: list[np.ndarray] = field(default_factory=list)  # the 28x28 images the model saw

    @property
    def text(self) -> str:
        return "".join(reading.digit for reading in self.digits)


def reading_json(name: str, reading: Reading | None, error: str | None) -> dict[str, Any]:
    """One image's result as `predict --json` prints it and the REST API returns it."""
    if reading is None:
        return {"file": name, "text": None, "digits": [], "error": error}
    return {
        "file": name,
        "text": reading.text,
        "digits": [digit.to_json() for digit in reading.digits],
        "error": None,
    }
