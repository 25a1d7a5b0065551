"""A text line's ink as one strip image, for a reader of whole numbers (digitrec.line_reader).

Segmentation must decide where one digit ends and the next begins; where two digits touch or
overlap, no cut between pieces separates them, and the reader sees a poor half or both as one.
A strip shows the whole line instead, at one scale, its tilt taken out, so that a sequence model
can read the digits without being told where they are.

Each blob of the line is pasted with its own ink only (not a neighbour's, not a rule's), scaled
so that the line's digits are STRIP_DIGIT px tall, and moved up or down onto the line's fitted
centre line; wide gaps shrink to MAX_GAP digit heights, as the gap carries nothing but "apart".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from digitrec.vision.grouping import Blob, own_ink, upper_quartile

STRIP_HEIGHT = 32
STRIP_DIGIT = 20  # px a digit of the line's height is tall in the strip, as MNIST's 20-px box
STRIP_PAD = 4  # blank columns before the first blob and after the last
MAX_GAP = 1.0  # a gap between blobs is at most this many digit heights in the strip
MAX_TILT = 0.3  # the centre line's slope is taken as at most this (rows per column)
MAX_WIDTH = 1024  # px: a longer strip is no line of one number


@dataclass(frozen=True)
class LineStrip:
    """One text line's ink, and where its columns lie in the original image."""

    image: np.ndarray  # (STRIP_HEIGHT, W) float32 in [0, 1]
    line: int  # the text line's index, as DigitCrop.line
    columns: np.ndarray  # (W,) float: the original image's x at each strip column
    top: int  # the line's ink spans rows top..bottom of the original image
    bottom: int

    def moved(self, dx: int, dy: int, scale: float = 1.0) -> LineStrip:
        """The strip with its coordinates scaled by `scale`, then moved by (dx, dy)."""
        return replace(
            self,
            columns=self.columns * scale + dx,
            top=round(self.top * scale) + dy,
            bottom=round(self.bottom * scale) + dy,
        )


def line_strip(
    ink: np.ndarray,
    labels: np.ndarray,
    rules: np.ndarray,
    blobs: Sequence[Blob],
    line: int,
    scale: tuple[float, float],
) -> LineStrip | None:
    """The strip of one line's blobs (left to right) in the working image `ink`; `scale` is
    (y, x) from working to original pixels. None if the line is too long to be one number."""
    if not blobs:
        return None
    blobs = sorted(blobs, key=lambda b: b.box[1])
    height = max(upper_quartile(b.height for b in blobs), 1)
    factor = STRIP_DIGIT / height
    # A blob much taller than the line's digits (a 7 with a long tail) is shrunk to fit.
    factor = min(factor, (STRIP_HEIGHT - 2) / max(b.height for b in blobs))
    centres_x = np.array([(b.box[1] + b.box[3]) / 2 for b in blobs])
    centres_y = np.array([(b.box[0] + b.box[2]) / 2 for b in blobs])
    slope = 0.0
    if len(blobs) > 1 and np.ptp(centres_x) > 0:
        slope = float(np.clip(np.polyfit(centres_x, centres_y, 1)[0], -MAX_TILT, MAX_TILT))
    offset = float(np.median(centres_y - slope * centres_x))

    patches, starts, widths = [], [], []
    cursor = float(STRIP_PAD)
    # The rightmost edge of the blobs placed so far, in the image and in the strip: a blob
    # starting left of it overlaps the blob that reaches that far (not the last one placed,
    # which may lie inside a wide one) as much as it does in the image.
    right: int | None = None
    right_at = cursor
    for blob in blobs:
        y0, x0, y1, x1 = blob.box
        if right is not None:
            gap = min(max(x0 - right, 0) * factor, MAX_GAP * STRIP_DIGIT)
            cursor = right_at + (gap if x0 >= right else (x0 - right) * factor)
        patch = own_ink(ink, labels, blob, rules, fringe=0)[0].astype(np.float32)
        size = (max(1, round(blob.width * factor)), max(1, round(blob.height * factor)))
        patch = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
        # Its centre onto the strip's middle row, less its offset from the line's centre line.
        drift = ((y0 + y1) / 2 - (slope * (x0 + x1) / 2 + offset)) * factor
        top = round(STRIP_HEIGHT / 2 + drift - size[1] / 2)
        top = int(np.clip(top, 0, STRIP_HEIGHT - size[1]))
        patches.append((patch, top))
        starts.append(cursor)
        widths.append(size[0])
        if right is None or x1 > right:
            right, right_at = x1, cursor + size[0]
    width = int(np.ceil(max(s + w for s, w in zip(starts, widths, strict=True)))) + STRIP_PAD
    if width > MAX_WIDTH:
        return None
    image = np.zeros((STRIP_HEIGHT, width), np.float32)
    columns = np.zeros(width, np.float64)
    covered = np.zeros(width, bool)
    for blob, (patch, top), start in zip(blobs, patches, starts, strict=True):
        left = round(start)
        area = image[top : top + patch.shape[0], left : left + patch.shape[1]]
        np.maximum(area, patch[:, : area.shape[1]], out=area)
        span = np.arange(left, min(left + patch.shape[1], width))
        columns[span] = blob.box[1] + (span - left + 0.5) / factor
        covered[span] = True
    # Columns between blobs: the original x between their neighbours'.
    known = np.flatnonzero(covered)
    columns = np.interp(np.arange(width), known, columns[known]) * scale[1]
    image /= max(float(image.max()), 1e-6)
    top_row = min(b.box[0] for b in blobs) * scale[0]
    bottom_row = max(b.box[2] for b in blobs) * scale[0]
    return LineStrip(image, line, columns, round(top_row), round(bottom_row))
