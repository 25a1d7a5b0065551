"""MNIST-style normalisation of one handwritten digit, as pure functions on numpy arrays.

MNIST's recipe: bright ink (1.0) on black (0.0); the ink's bounding box scaled, aspect kept
and anti-aliased, so its longer side is 20 px; pasted into a 28x28 frame with its centre of
mass at the frame centre. normalize_digit chains the steps below; each also works alone:

    preprocess.ink_map -> preprocess.ink_mask -> crop_to_ink -> fit_box -> center_by_mass
"""

import math

import cv2
import numpy as np
from PIL import Image

from digitrec.vision import filters
from digitrec.vision.preprocess import WORK_SIZE, _as_float, _shrink, ink_map, ink_mask

DIGIT_BOX = 20
FRAME = 28

# crop_to_ink keeps the faint anti-aliased fringe above this level next to the mask.
FRINGE_LEVEL = 0.05
# A digit written large with a fine pen comes out of the 20-px box with strokes under a pixel
# wide, thinner than the model ever saw. Strokes that measure under THIN_STROKE px there
# (stroke_width; all but 1% of MNIST's test digits measure more, median 1.8) are widened by what
# they lack of STROKE_TARGET (MNIST's lower quartile). In the box a stroke under a pixel wide
# still measures about one, so such strokes come out a little over a pixel wide. The first 200
# MNIST test digits' skeletons drawn 2, 3 and 5 px wide, 240 px tall, on a 400-px noisy JPEG
# page read 192, 194 and 195 instead of 184, 187 and 191 (198 drawn 25 px wide) not told there
# is one digit, and 198, 200, 200 instead of 196, 199, 198 told so. Synthetic photos (tune half),
# whose strokes scale with the digit, read as before but for two numbers of 1,800: a slanted 8
# with narrow loops, widened, read as a 0 (at a target of 1.3, one).
THIN_STROKE = 1.0
STROKE_TARGET = 1.6


def crop_to_ink(ink: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The ink values (grey levels kept) in the mask's bounding box; None if the mask is empty.

    The box is widened by the faint anti-aliased fringe next to the mask, and ink outside
    the mask and that fringe (such as removed specks) is zeroed.
    """
    ink = np.asarray(ink, dtype=np.float32)
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return None
    grow = max(2, round(max(mask.shape) / 100))
    near = filters.dilate(mask, grow)
    # Faint fringe must stand out from the noise seen away from the ink, or it is noise too.
    far = ink[~near]
    level = max(FRINGE_LEVEL, float(np.percentile(far, 99))) if far.size else FRINGE_LEVEL
    support = mask | (near & (ink > level))
    rows = np.flatnonzero(support.any(axis=1))
    cols = np.flatnonzero(support.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return np.where(support, ink, 0.0)[box].astype(np.float32)


def fit_box(crop: np.ndarray, box: int = DIGIT_BOX) -> np.ndarray:
    """Resize so the longer side is `box` px, aspect kept, anti-aliased; values in [0, 1]."""
    crop = np.ascontiguousarray(crop, dtype=np.float32)
    height, width = crop.shape
    if height == 0 or width == 0:
        raise ValueError(f"cannot resize an empty crop of shape {crop.shape}")
    factor = box / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    # Shrinking averages areas, as MNIST's anti-aliasing did; enlarging interpolates.
    resample = Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR
    resized = Image.fromarray(crop).resize(size, resample)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def center_by_mass(digit: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """Paste into a frame x frame black image with the centre of mass at the centre.

    Convention (measured on MNIST, whose digits were shifted by whole pixels): the centre of
    mass lands within half a pixel of array index (frame/2, frame/2), i.e. (14, 14) for 28 —
    half a pixel below and right of the geometric centre 13.5. The shift is clamped so no
    ink is cut off.
    """
    digit = np.asarray(digit, dtype=np.float32)
    height, width = digit.shape
    if height > frame or width > frame:
        raise ValueError(f"digit of shape {digit.shape} does not fit a {frame}x{frame} frame")
    out = np.zeros((frame, frame), dtype=np.float32)
    total = float(digit.sum())
    if total > 0:
        cy = float(digit.sum(axis=1) @ np.arange(height)) / total
        cx = float(digit.sum(axis=0) @ np.arange(width)) / total
    else:
        cy, cx = (height - 1) / 2, (width - 1) / 2
    top = _clamped_offset(frame / 2 - cy, frame - height)
    left = _clamped_offset(frame / 2 - cx, frame - width)
    out[top : top + height, left : left + width] = digit
    return out


def normalize_digit(gray: np.ndarray) -> np.ndarray | None:
    """An image holding one digit -> float32 (28, 28) MNIST-style, or None if there is none."""
    g = _shrink(_as_float(gray), WORK_SIZE)
    ink = ink_map(g)
    crop = crop_to_ink(ink, ink_mask(ink))
    if crop is None:
        return None
    return mnist_digit(crop)


def mnist_digit(crop: np.ndarray) -> np.ndarray:
    """A crop of one digit's ink (ink bright, background 0) as MNIST's float32 (28, 28): the
    longer side scaled to DIGIT_BOX, the strongest ink to 1, centred by mass in FRAME. Strokes
    that come out thinner than THIN_STROKE are widened first (see THIN_STROKE)."""
    digit = _boxed(crop)
    width = stroke_width(digit)
    if width < THIN_STROKE:
        # Widened in the crop's own pixels, each side by half of what they lack in the box's.
        radius = round((STROKE_TARGET - width) / 2 * max(np.shape(crop)) / DIGIT_BOX)
        if radius >= 1:
            padded = np.pad(np.asarray(crop, dtype=np.float32), radius)
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
            digit = _boxed(cv2.dilate(padded, disc))
    return center_by_mass(digit, FRAME)


def _boxed(crop: np.ndarray) -> np.ndarray:
    """The crop with its longer side scaled to DIGIT_BOX and its strongest ink to 1."""
    digit = fit_box(crop, DIGIT_BOX)
    # Every MNIST digit reaches full intensity (254 or 255); rescaling the strongest ink to 1
    # undoes what faint ink, bright specks elsewhere and area-averaging took away.
    digit /= max(float(digit.max()), 1e-6)
    return digit


def stroke_width(digit: np.ndarray) -> float:
    """The mean width (px) of a digit's strokes, its ink bright on 0: twice the ink over the
    length of its outline, counted as the changes in and out of the ink between neighbours
    (across the image's border too)."""
    ink = np.pad(digit > 0.4, 1)
    outline = np.count_nonzero(ink[:, 1:] != ink[:, :-1]) + np.count_nonzero(ink[1:] != ink[:-1])
    return 2 * float(digit.sum()) / max(1, outline)


def _clamped_offset(shift: float, room: int) -> int:
    # floor(x + 0.5), not round(): Python rounds halves to even, which would bias the placement.
    return min(max(math.floor(shift + 0.5), 0), room)
