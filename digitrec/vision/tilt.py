"""A number's line on a slope: how steep, and turning a photo taken askew back level.

Handwriting that climbs keeps its digits upright, and the reading order follows a sloping line
(lines.reading_order, which levels a steep one by steady_slope); a page photographed turned
leans the digits too, which the model, trained on upright MNIST digits, reads worse past 10
degrees or so. The angle of the line through the digits found tells how far to turn the image
back to read it again (the reader keeps whichever reading the model is surer of).
"""

import cv2
import numpy as np

from digitrec.vision.preprocess import for_opencv

Box = tuple[int, int, int, int]  # x, y, w, h

# The digits' centres must lie along a straight line (root mean square off it at most
# LEVEL_RESIDUAL of their height), at least MIN_DIGITS of them, each step to the next climbing
# at least STEADY_STEP of the line's rise: one number's line, not two level lines at two
# heights with one jump between them.
MIN_DIGITS = 3
LEVEL_RESIDUAL = 0.15
STEADY_STEP = 0.5
# Turned back only from MIN_TILT degrees on (less, the model reads the digits as well), up to
# MAX_TILT (more, the line is likelier a column or a diagonal layout than a turned page).
MIN_TILT = 8.0
MAX_TILT = 35.0


def steady_slope(x: np.ndarray, y: np.ndarray, height: float) -> float | None:
    """The slope (px down per px right) of the straight line that the digits' centres (x, y)
    climb steadily along, digits `height` px tall; None if they do not (see MIN_DIGITS)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < MIN_DIGITS or np.ptp(x) == 0:
        return None
    slope, offset = np.polyfit(x, y, 1)
    residual = float(np.sqrt(np.mean((y - slope * x - offset) ** 2)))
    order = np.argsort(x)
    dx, dy = np.diff(x[order]), np.diff(y[order])
    steady = bool(np.all(dy * np.sign(slope) >= STEADY_STEP * abs(slope) * dx))
    return float(slope) if steady and residual <= LEVEL_RESIDUAL * height else None


def line_angle(boxes: list[Box]) -> float | None:
    """The angle in degrees (positive: rising to the right) of the line that the centres of the
    digit `boxes` (x, y, w, h) climb steadily along, if it is steep enough to turn back
    (MIN_TILT to MAX_TILT); None otherwise."""
    if not boxes:
        return None
    x = [bx + bw / 2 for bx, _, bw, _ in boxes]
    y = [by + bh / 2 for _, by, _, bh in boxes]
    slope = steady_slope(np.array(x), np.array(y), float(np.median([b[3] for b in boxes])))
    if slope is None:
        return None
    angle = -float(np.degrees(np.arctan(slope)))
    return angle if MIN_TILT <= abs(angle) <= MAX_TILT else None


def turned(image: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """`image` turned by `angle` degrees clockwise (undoing a line rising by that angle) on a
    canvas that holds all of it, the border's pixels repeated outwards, and the 2x3 affine map
    from the turned image's coordinates back to the original's."""
    image = for_opencv(image)
    height, width = image.shape[:2]
    forward = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)
    cos, sin = abs(forward[0, 0]), abs(forward[0, 1])
    size = (round(height * sin + width * cos), round(height * cos + width * sin))
    forward[:, 2] += np.array(size) / 2 - np.array([width, height]) / 2
    out = cv2.warpAffine(
        image, forward, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return out, cv2.invertAffineTransform(forward)


def box_back(box: Box, back: np.ndarray, shape: tuple[int, ...]) -> Box:
    """The box (x, y, w, h) of the turned image as the bounding box of its corners mapped back
    by `back` (see turned), clipped to an image of `shape`."""
    x, y, w, h = box
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], float)
    mapped = corners @ back.T
    x0, y0 = np.clip(np.floor(mapped.min(axis=0)), 0, None).astype(int)
    x1 = min(int(np.ceil(mapped[:, 0].max())), shape[1])
    y1 = min(int(np.ceil(mapped[:, 1].max())), shape[0])
    return int(x0), int(y0), max(1, x1 - int(x0)), max(1, y1 - int(y0))
