"""The JSON the API answers with: pydantic models for the OpenAPI description at /docs, and the
helpers that build it from a Reading.

Results are built as plain dicts (the CLI's `reading_json` plus the inputs) and sent without
pydantic validation, which would cost more than the model on a small image; the tests check
that every answer fits these models.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from digitrec.readings import Reading, reading_json


class DigitOut(BaseModel):
    digit: int | str = Field(description="the class read (0-9 for digit models)")
    confidence: float = Field(description="top probability")
    top: list[tuple[int | str, float]] = Field(description="the three likeliest classes")
    box: list[int] | None = Field(description="[x, y, width, height] in the uploaded image")
    low_confidence: bool = Field(
        description=(
            "top probability under 0.6, or the digitness check doubts that the reading's"
            " crops are digits at all"
        )
    )


class PredictionOut(BaseModel):
    file: str = Field(description="the upload's file name, or 'body' for a raw body")
    text: str | None = Field(description="the digits read in reading order; '' is no digit")
    digits: list[DigitOut]
    error: str | None = Field(description="why this image could not be read (batch only)")
    model: str
    inputs: list[str] = Field(description="the 28x28 images the model saw, base64 PNG")
    probabilities: list[list[float]] | None = Field(
        default=None, description="all class probabilities per digit, with ?probabilities=true"
    )


class BatchOut(BaseModel):
    results: list[PredictionOut]


class ModelOut(BaseModel):
    name: str
    default: bool
    shipped: bool
    architecture: str | None
    parameters: int | None
    classes: list[str] | None
    metrics: dict[str, Any]
    error: str | None


class ModelsOut(BaseModel):
    models: list[ModelOut]


class HealthOut(BaseModel):
    status: str
    model: str


class ErrorOut(BaseModel):
    detail: str = Field(description="one line naming the problem")


def png_base64(image: np.ndarray) -> str:
    """A 28x28 float image in [0, 1] as a base64 8-bit greyscale PNG (about 300 bytes)."""
    pixels = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    # compress_level 1: these images are tiny, and level 6 would only add time.
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def prediction_json(
    name: str,
    model: str,
    reading: Reading | None,
    error: str | None = None,
    probabilities: np.ndarray | None = None,
) -> dict[str, Any]:
    result = reading_json(name, reading, error)
    result["model"] = model
    result["inputs"] = [png_base64(image) for image in reading.inputs] if reading else []
    if probabilities is not None:
        result["probabilities"] = [[round(float(p), 6) for p in row] for row in probabilities]
    return result
