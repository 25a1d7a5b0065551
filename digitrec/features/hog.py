"""Histograms of oriented gradients (HOG) for a whole batch of images at once, in NumPy.

scikit-image's `skimage.feature.hog` works on one image at a time; over 70,000 MNIST digits
the Python loop dominates. Here every step is an array operation over the batch:

1. gradients by centred differences (zero on the border rows/columns), as skimage does;
2. each pixel votes its gradient magnitude for its unsigned orientation (0-180°);
3. votes are pooled into cells by one matrix product with a (pixels, cells) pooling matrix;
4. each block of cells is normalised with L2-Hys (L2, clip at 0.2, L2 again).

With `soft=False` this reproduces skimage's hog (hard orientation bins, cell means, same
feature order; tests/test_svm.py checks it). `soft=True` is the Dalal-Triggs variant: a vote
is split linearly between the two nearest orientation bins and bilinearly between the four
nearest cell centres, so a stroke moving by a pixel changes the features smoothly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_EPS = 1e-5  # skimage's block-normalisation epsilon


def gradients(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column gradients of (N, H, W) images by centred differences; the border
    rows/columns are 0, as in skimage (a one-sided difference there would add edge votes)."""
    g_row = np.zeros_like(images)
    g_col = np.zeros_like(images)
    g_row[:, 1:-1, :] = images[:, 2:, :] - images[:, :-2, :]
    g_col[:, :, 1:-1] = images[:, :, 2:] - images[:, :, :-2]
    return g_row, g_col


def orientation_votes(images: np.ndarray, orientations: int, soft: bool) -> np.ndarray:
    """(N, H*W, orientations): each pixel's gradient magnitude, put in its orientation bin(s)."""
    count, height, width = images.shape
    g_row, g_col = gradients(images)
    magnitude = np.hypot(g_row, g_col).reshape(count, height * width, 1)
    # Float64 angles even for float32 images: a rounded angle could cross a bin edge that
    # skimage's does not.
    angle = np.rad2deg(np.arctan2(g_row, g_col, dtype=np.float64)) % 180.0
    position = angle.reshape(count, height * width, 1) / (180.0 / orientations)
    votes = np.zeros((*magnitude.shape[:2], orientations), dtype=images.dtype)
    if not soft:
        index = np.minimum(np.floor(position).astype(np.intp), orientations - 1)
        np.put_along_axis(votes, index, magnitude, axis=2)
        return votes
    # Bin centres sit at (k + 0.5) widths; the split wraps around (170° is next to 10°).
    # Scattering into the two bins is much faster than building one-hot masks.
    position = position - 0.5
    low = np.floor(position)
    upper_share = (position - low).astype(images.dtype)
    low = low.astype(np.intp) % orientations
    np.put_along_axis(votes, low, magnitude * (1.0 - upper_share), axis=2)
    np.put_along_axis(votes, (low + 1) % orientations, magnitude * upper_share, axis=2)
    return votes


def _axis_weights(size: int, cell: int, soft: bool) -> np.ndarray:
    """(size, cells) weight of each pixel row (or column) in each cell along one axis."""
    count = size // cell
    pixel = np.arange(size)[:, None]
    if not soft:
        # Pixels past the last whole cell are dropped, as skimage drops them.
        return (pixel // cell == np.arange(count)[None, :]).astype(np.float64)
    centre = (np.arange(count)[None, :] + 0.5) * cell
    # Clamping to the outer cell centres keeps every pixel's weights summing to 1, so border
    # pixels are not under-counted.
    offset = np.clip(pixel + 0.5, centre[0, 0], centre[0, -1]) - centre
    return np.maximum(0.0, 1.0 - np.abs(offset) / cell)


def pooling_matrix(height: int, width: int, cell: int, soft: bool) -> np.ndarray:
    """(H*W, cells) matrix that turns per-pixel votes into cell means (row-major cells)."""
    rows = _axis_weights(height, cell, soft)
    cols = _axis_weights(width, cell, soft)
    pooling = np.einsum("ar,bc->abrc", rows, cols) / (cell * cell)
    return pooling.reshape(height * width, rows.shape[1] * cols.shape[1])


def normalise_blocks(histograms: np.ndarray, block: int) -> np.ndarray:
    """(N, cells_r, cells_c, O) -> (N, features): overlapping block x block groups of cells,
    each L2-Hys normalised, flattened in skimage's order (block row, block col, cell, O)."""
    windows = np.lib.stride_tricks.sliding_window_view(histograms, (block, block), axis=(1, 2))
    blocks = windows.transpose(0, 1, 2, 4, 5, 3)  # -> (N, br, bc, cell_r, cell_c, O)
    blocks = blocks.reshape(*blocks.shape[:3], block * block * histograms.shape[-1])
    blocks = blocks / np.sqrt(np.sum(blocks**2, axis=-1, keepdims=True) + _EPS**2)
    # The clip stops one very strong edge from drowning the rest of the block.
    blocks = np.minimum(blocks, 0.2)
    blocks = blocks / np.sqrt(np.sum(blocks**2, axis=-1, keepdims=True) + _EPS**2)
    return blocks.reshape(len(histograms), int(np.prod(blocks.shape[1:])))


def cell_histograms(
    images: np.ndarray, cells: Sequence[int], orientations: int, soft: bool
) -> list[np.ndarray]:
    """Per cell size, the (N, cells_r, cells_c, O) histograms of (N, H, W) float images.

    The votes are computed once and pooled for all cell sizes by one matrix product.
    """
    count, height, width = images.shape
    votes = orientation_votes(images, orientations, soft)
    poolings = [pooling_matrix(height, width, size, soft) for size in cells]
    pooled = np.matmul(np.concatenate(poolings, axis=1).T.astype(images.dtype), votes)
    histograms, start = [], 0
    for size, pooling in zip(cells, poolings, strict=True):
        part = pooled[:, start : start + pooling.shape[1]]
        histograms.append(part.reshape(count, height // size, width // size, orientations))
        start += pooling.shape[1]
    return histograms


def hog(
    images: np.ndarray,
    *,
    cell: int = 4,
    orientations: int = 9,
    block: int = 2,
    soft: bool = False,
) -> np.ndarray:
    """HOG features of (N, H, W) float images: (N, blocks * block² * orientations), computed
    in the images' float type (float64 for comparing with skimage)."""
    return multi_hog(images, (cell,), orientations=orientations, block=block, soft=soft)


def multi_hog(
    images: np.ndarray,
    cells: Sequence[int] = (4, 7),
    *,
    orientations: int = 9,
    block: int = 2,
    soft: bool = True,
    batch_size: int = 2000,
) -> np.ndarray:
    """HOG at several cell sizes, concatenated: (N, features); uint8 images become float32.

    Small cells see stroke details and large cells the digit's overall shape; together they
    classify better than either. Batches bound the memory of the (N, H*W, O) vote array.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    elif images.dtype not in (np.float32, np.float64):
        images = images.astype(np.float64)
    _, height, width = images.shape
    for size in cells:
        if height // size < block or width // size < block:
            raise ValueError(f"{height}x{width} images are too small for {size}-pixel cells")
    parts = [
        np.concatenate(
            [
                normalise_blocks(histograms, block)
                for histograms in cell_histograms(chunk, cells, orientations, soft)
            ],
            axis=1,
        )
        for chunk in np.array_split(images, max(1, -(-len(images) // batch_size)))
    ]
    return np.concatenate(parts, axis=0)
