"""A tightly cropped image, framed by a margin of its own paper.

Cropped to the ink (a digit cut out of a scan, a photo cropped to the digit), the strokes touch
the image's edge. There segmentation takes what touches the edge and spans much of the image
for the paper's edge or the table around it, and the clean fast path (clean.py) sees no
background around the ink, so the digit is lost. Framed by a margin of the colour along the
edge, the same digit stands on paper again.
"""

import numpy as np

# The margin on each side, as a share of the image's longer side: about MNIST's (4 px around a
# digit's 20-px box, a fifth of it). The first value tried, and kept; not tuned.
FRAME_SHARE = 0.25
# A box this close to the image's edge (share of its longer side) reaches it: a box's fringe
# and the rounding of a shrunk copy's pixels leave a little room.
EDGE_SHARE = 0.01


def frame_margin(shape: tuple[int, ...], share: float = FRAME_SHARE) -> int:
    """The margin, in px, to frame an image of `shape` (H, W, ...) by: `share` of its longer
    side."""
    return max(1, round(share * max(shape[:2])))


def framed(image: np.ndarray, margin: int) -> np.ndarray:
    """The image (H, W) or (H, W, C) inside a margin of `margin` px on every side, filled with
    the median colour along its edge (the paper's, where the ink only touches it)."""
    image = np.asarray(image)
    height, width = image.shape[:2]
    paper = np.median(edge_values(image), axis=0).astype(image.dtype)
    out = np.empty((height + 2 * margin, width + 2 * margin, *image.shape[2:]), image.dtype)
    out[...] = paper
    out[margin : margin + height, margin : margin + width] = image
    return out


def edge_values(image: np.ndarray) -> np.ndarray:
    """The values (or colours) of the image's pixels along its four edges, one after another."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def fills(shape: tuple[int, ...], boxes: list[tuple[int, int, int, int]], share: float) -> bool:
    """Whether the union of the (x, y, w, h) boxes spans at least `share` of the (H, W) image's
    width and of its height."""
    if not boxes:
        return False
    left = min(x for x, _, _, _ in boxes)
    top = min(y for _, y, _, _ in boxes)
    right = max(x + w for x, _, w, _ in boxes)
    bottom = max(y + h for _, y, _, h in boxes)
    return right - left >= share * shape[1] and bottom - top >= share * shape[0]


def reaches_edge(
    shape: tuple[int, ...], boxes: list[tuple[int, int, int, int]], share: float = EDGE_SHARE
) -> bool:
    """Whether any of the (x, y, w, h) boxes comes within `share` of the (H, W) image's longer
    side (at least a pixel: with `share` 0, touches it) of its edge."""
    height, width = shape[:2]
    near = max(1, round(share * max(height, width)))
    return any(
        x < near or y < near or x + w > width - near or y + h > height - near
        for x, y, w, h in boxes
    )
