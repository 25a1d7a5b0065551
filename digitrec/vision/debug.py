"""Pictures of every preprocessing stage, for `digitrec predict --debug DIR`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from digitrec.errors import DigitrecError

_CROP_SCALE = 4  # the 28x28 inputs are shown 4x enlarged, side by side
_MAX_SIDE = 2000  # big photos are shrunk for the debug pictures only
_BOX_COLOUR = (230, 30, 30)


def _to_pil(array: np.ndarray) -> Image.Image:
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        array = np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    image = Image.fromarray(array)
    if max(image.size) > _MAX_SIDE:
        image.thumbnail((_MAX_SIDE, _MAX_SIDE))
    return image


def draw_readings(
    image: np.ndarray, readings: list[tuple[tuple[int, int, int, int], str]]
) -> np.ndarray:
    """The input (shrunk to at most _MAX_SIDE) with each digit's final box (x, y, w, h in the
    input) and its label: what was read, after pieces were joined and small digits re-read."""
    picture = _to_pil(image).convert("RGB")
    scale = picture.width / np.shape(image)[1]
    draw = ImageDraw.Draw(picture)
    width = max(2, round(max(picture.size) / 400))
    for (x, y, w, h), text in readings:
        corners = [round(v * scale) for v in (x, y, x + w, y + h)]
        draw.rectangle(corners, outline=_BOX_COLOUR, width=width)
        draw.text((corners[0], max(0, corners[1] - 12)), text, fill=_BOX_COLOUR)
    return np.asarray(picture)


def crops_strip(inputs: list[np.ndarray]) -> np.ndarray:
    """The model's 28x28 inputs side by side with a 2-px gap, enlarged, as uint8."""
    if not inputs:
        return np.zeros((28 * _CROP_SCALE, 28 * _CROP_SCALE), dtype=np.uint8)
    gap = np.full((28, 2), 0.5, dtype=np.float32)
    parts = [part for digit in inputs for part in (digit, gap)][:-1]
    strip = np.hstack(parts)
    enlarged = np.kron(strip, np.ones((_CROP_SCALE, _CROP_SCALE), dtype=np.float32))
    return np.round(enlarged * 255).astype(np.uint8)


def save_debug_images(
    out_dir: Path,
    stem: str,
    image: np.ndarray,
    stages: dict[str, np.ndarray],
    inputs: list[np.ndarray],
) -> list[Path]:
    """Write <stem>-<n>-<stage>.png for the input, each stage and the model's inputs."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DigitrecError(f"{out_dir}: cannot write here ({error.strerror or error})") from None
    pictures = {"input": image, **stages, "model-inputs": crops_strip(inputs)}
    paths = []
    for index, (name, picture) in enumerate(pictures.items(), 1):
        path = out_dir / f"{stem}-{index}-{name}.png"
        _to_pil(picture).save(path)
        paths.append(path)
    return paths
