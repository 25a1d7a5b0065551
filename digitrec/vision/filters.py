"""The neighbourhood filters the vision pipeline leans on, computed with OpenCV.

Each gives what its scipy.ndimage namesake gives (same windows and origins, same borders, same
label numbers; tests/test_vision_filters.py holds them side by side) at 2-100 times the speed:
a phone photo's ink map takes a few dozen such passes, and they were half of its time in scipy.

Masks are bool arrays in and out; grey images are float32 or float64 (the dtype is kept).
"""

import cv2
import numpy as np
from scipy import ndimage

# The labelling algorithm that numbers components in raster order of their first pixel, as
# ndimage.label does (OpenCV's default numbers 8-connected ones in another order).
_RASTER_ORDER = cv2.CCL_SAUF
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
_SQUARE = np.ones((3, 3), dtype=np.uint8)
_ROW = np.ones((1, 3), dtype=np.uint8)


def min_filter(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """ndimage.grey_erosion(image, size=size): the minimum over a (rows, cols) window."""
    rows, cols = size
    return cv2.erode(
        _contiguous(image),
        np.ones(size, dtype=np.uint8),
        anchor=(cols // 2, rows // 2),
        borderType=cv2.BORDER_REFLECT,
    )


def max_filter(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """ndimage.grey_dilation(image, size=size): the maximum over a (rows, cols) window, whose
    origin an even size puts on the other side of the centre than min_filter's (so that an
    opening does not shift the image)."""
    rows, cols = size
    return cv2.dilate(
        _contiguous(image),
        np.ones(size, dtype=np.uint8),
        anchor=((cols - 1) // 2, (rows - 1) // 2),
        borderType=cv2.BORDER_REFLECT,
    )


def opening(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """ndimage.grey_opening(image, size=size): every bright structure narrower than the window
    taken down to its surroundings."""
    return max_filter(min_filter(image, size), size)


def median(image: np.ndarray, size: int) -> np.ndarray:
    """ndimage.median_filter(image, size, mode="nearest") of a 2-D float image."""
    if size in (3, 5):  # the sizes OpenCV filters floats with
        return cv2.medianBlur(_contiguous(image).astype(np.float32, copy=False), size)
    return ndimage.median_filter(image, size=size, mode="nearest")


def box_mean(image: np.ndarray, size: int) -> np.ndarray:
    """ndimage.uniform_filter(image, size) for an odd size: the mean over a square window."""
    if size % 2 == 0:
        raise ValueError(f"box_mean needs an odd size, got {size}")
    return cv2.blur(_contiguous(image), (size, size), borderType=cv2.BORDER_REFLECT)


def gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """ndimage.gaussian_filter(image, sigma): the kernel cut at 4 sigma, mirrored borders."""
    kernel = _gaussian_kernel(sigma, derivative=False)
    return cv2.sepFilter2D(_contiguous(image), -1, kernel, kernel, borderType=cv2.BORDER_REFLECT)


def gradient_magnitude(image: np.ndarray, sigma: float) -> np.ndarray:
    """ndimage.gaussian_gradient_magnitude(image, sigma): the length of the gradient of the
    image smoothed by a Gaussian of `sigma`."""
    image = _contiguous(image)
    smooth = _gaussian_kernel(sigma, derivative=False)
    slope = _gaussian_kernel(sigma, derivative=True)
    across = cv2.sepFilter2D(image, -1, slope, smooth, borderType=cv2.BORDER_REFLECT)
    down = cv2.sepFilter2D(image, -1, smooth, slope, borderType=cv2.BORDER_REFLECT)
    return cv2.magnitude(across, down)


def label(mask: np.ndarray, *, eight: bool = True) -> tuple[np.ndarray, int]:
    """ndimage.label(mask) with the 3x3 square (`eight`) or the cross as neighbourhood: int32
    labels numbered 1.. in raster order of each component's first pixel, and their count."""
    count, labels = cv2.connectedComponentsWithAlgorithm(
        _bytes(mask), 8 if eight else 4, cv2.CV_32S, _RASTER_ORDER
    )
    return labels, count - 1


def extent(mask: np.ndarray) -> np.ndarray:
    """Per pixel of the mask, the longer side of its component's box (3x3 neighbourhood); 0
    off the mask."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(_bytes(mask), 8, cv2.CV_32S)
    longer = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    longer[0] = 0
    return longer[labels]


def erode(mask: np.ndarray, iterations: int = 1, *, outside: bool = False) -> np.ndarray:
    """ndimage.binary_erosion(mask, iterations=..., border_value=outside) by the 3x3 cross
    (a 2-D mask) or by three pixels in a row (a 1-D one)."""
    return _morph(cv2.erode, mask, _CROSS, iterations, outside)


def dilate(mask: np.ndarray, iterations: int = 1, *, square: bool = False) -> np.ndarray:
    """ndimage.binary_dilation(mask, iterations=...) by the 3x3 cross, or the square (a 2-D
    mask), or by three pixels in a row (a 1-D one)."""
    return _morph(cv2.dilate, mask, _SQUARE if square else _CROSS, iterations, False)


def grow(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A bool mask dilated by a (rows, cols) rectangle centred on each pixel (odd sizes): what
    a maximum filter does, at a cost that does not grow with the rectangle."""
    if size[0] % 2 == 0 or size[1] % 2 == 0:
        raise ValueError(f"grow needs odd sizes, got {size}")
    return cv2.dilate(_bytes(mask), np.ones(size, dtype=np.uint8)).view(bool)


def shrink(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A bool mask eroded by a (rows, cols) rectangle centred on each pixel (odd sizes); what
    lies beyond the border counts as set, as in a minimum filter with mirrored borders."""
    if size[0] % 2 == 0 or size[1] % 2 == 0:
        raise ValueError(f"shrink needs odd sizes, got {size}")
    return cv2.erode(_bytes(mask), np.ones(size, dtype=np.uint8)).view(bool)


def _morph(operation, mask: np.ndarray, kernel: np.ndarray, iterations: int, border: bool):
    if iterations < 1:
        raise ValueError(f"iterations must be positive, got {iterations}")
    shape = np.shape(mask)
    if len(shape) == 1:  # OpenCV would read it as a column; the 1-D structure is a row of three
        mask, kernel = np.reshape(mask, (1, -1)), _ROW
    out = operation(
        _bytes(mask),
        kernel,
        iterations=iterations,
        borderType=cv2.BORDER_CONSTANT,
        borderValue=int(border),
    )
    return out.reshape(shape).view(bool)


def _gaussian_kernel(sigma: float, *, derivative: bool) -> np.ndarray:
    """The 1-D kernel ndimage correlates with for a Gaussian (or its first derivative)."""
    radius = int(4.0 * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 / sigma**2 * x**2)
    weights /= weights.sum()
    if derivative:
        weights = weights * -x / sigma**2
    return weights[::-1].copy()  # ndimage convolves; OpenCV correlates


def _contiguous(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype not in (np.float32, np.float64):
        image = image.astype(np.float32)
    return np.ascontiguousarray(image)


def _bytes(mask: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
