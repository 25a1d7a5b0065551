"""From an image to digits: decode, normalize MNIST-style, classify. Shared by the CLI and,
later, the web app, so every way in gives the same answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digitrec.models.classifier import Classifier
from digitrec.vision.decode import DEFAULT_MAX_PIXELS, decode_image, read_image_file, to_gray
from digitrec.vision.preprocess import normalize_digit

TOP_K = 3


@dataclass
class DigitReading:
    digit: str
    confidence: float
    top: list[tuple[str, float]]

    def to_json(self) -> dict[str, Any]:
        return {
            "digit": int(self.digit) if self.digit.isdigit() else self.digit,
            "confidence": round(self.confidence, 6),
            "top": [[int(c) if c.isdigit() else c, round(p, 6)] for c, p in self.top],
        }


@dataclass
class Reading:
    """What was read in one image: `text` is "" when there is no digit."""

    digits: list[DigitReading] = field(default_factory=list)
    inputs: list[np.ndarray] = field(default_factory=list)  # the 28x28 images the model saw

    @property
    def text(self) -> str:
        return "".join(reading.digit for reading in self.digits)


class Predictor:
    def __init__(self, classifier: Classifier, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.classifier = classifier
        self.max_pixels = max_pixels

    def read_gray(self, gray: np.ndarray) -> Reading:
        """Read one digit from a grayscale image (H, W) in [0, 1]."""
        digit = normalize_digit(gray)
        if digit is None:
            return Reading()
        return Reading([self.classify(digit[None])[0]], [digit])

    def classify(self, digits: np.ndarray) -> list[DigitReading]:
        """Classify normalized 28x28 digits (N, 28, 28) in [0, 1]."""
        probabilities = self.classifier.predict_proba(digits)
        classes = self.classifier.classes
        readings = []
        for row in probabilities:
            order = np.argsort(row)[::-1][:TOP_K]
            top = [(classes[index], float(row[index])) for index in order]
            readings.append(DigitReading(top[0][0], top[0][1], top))
        return readings

    def read_bytes(self, data: bytes, *, source: str = "image") -> Reading:
        rgb = decode_image(data, source=source, max_pixels=self.max_pixels)
        return self.read_gray(to_gray(rgb))

    def read_file(self, path: str | Path) -> Reading:
        return self.read_gray(to_gray(read_image_file(path, max_pixels=self.max_pixels)))
