"""The ink of a photographed or scanned page, as pure functions on numpy arrays: where it is
(ink_map: background and shading taken out, either polarity), which of it counts (ink_mask:
Otsu's threshold with a contrast floor, soft shading and specks left out), and the measures
the segmentation builds on (edge sharpness, polarity, Otsu).

    ink_map -> ink_mask -> (mnist_frame.crop_to_ink -> fit_box -> center_by_mass)

Input is greyscale uint8 (0..255) or float in [0, 1]; an RGB array is turned to luminance.
"""

import numpy as np
from PIL import Image
from scipy import ndimage

from digitrec.vision import filters
from digitrec.vision.decode import to_gray

# Bigger images are shrunk to this longer side first: the digit ends up 20 px tall anyway,
# and the filters below cost time in proportion to the pixel count.
WORK_SIZE = 1024

# Smallest ink contrast (relative to the local paper brightness) that ink_map stretches to 1;
# a flatter image keeps its small values, so noise is not blown up into strokes. With MIN_PEAK
# this means ink fainter than about 6% of the paper's brightness is not found.
MIN_CONTRAST = 0.15
# Local light level below which ink contrast is not scaled up any more (dark ground, deep shadow).
MIN_LIGHT = 0.2
# Likewise never stretch noise: the divisor is at least this many noise standard deviations.
NOISE_SIGMAS = 8.0
# ink_mask finds no ink unless the slightly smoothed ink map reaches this level somewhere.
MIN_PEAK = 0.4
_PEAK_SMOOTHING = 0.7
# Otsu's threshold, clamped: a floor against noise, a ceiling against a few hot pixels
# pushing the cut above ordinary strokes.
THRESHOLD_RANGE = (0.25, 0.6)
# Specks: smaller than this share of the largest component or of the image, or further from
# the largest component than this share of its longer side.
SPECK_OF_LARGEST = 0.05
SPECK_OF_IMAGE = 5e-4
NEAR_LARGEST = 0.3
# Ink has crisp edges, shading fades in: a component is kept only if its edge slope times the
# smoothing scale, over its peak, reaches this (an ideal step edge gives 1/sqrt(2 pi) = 0.4;
# a bicubic 4-16x enlargement of an MNIST digit, soft as real blurry photos are, gives 0.11).
# The smoothing scale is a share of the image size, so blur up to about 1% of it is tolerated.
MIN_EDGE_SHARPNESS = 0.06
_EDGE_SMOOTHING = 1 / 200
# The strongest ink, which the ink map stretches to 1, is looked for this share of the shorter
# side inside the image's border: the table's sliver or the paper's edge along it may be far
# darker than the writing, which then fell under the threshold (a clear 8 on pink paper read as
# nothing). A digit cropped tight is as strong inside as at the border. On synthetic photos
# (tune half) single digits read 1 more right of 2,000 and blank pages "no digit" 3 more of
# 2,400, numbers as before; read with `single`, 1 more of 400 blank pages gave a digit. Shares
# of 0.01 to 0.04 measured alike.
PEAK_BORDER = 0.02
# Background estimate: structures narrower than this share of the image's longer side count as
# ink. Even a bold digit filling the picture has strokes well below that.
_BACKGROUND_WINDOW = 0.4
# dark_ink decides the polarity on copies of at most these longer sides (px).
POLARITY_COARSE_SIZE = 128
POLARITY_FINE_SIZE = 224

# edge_maps: the smoothing scale, the smoothed ink and its slope.
EdgeMaps = tuple[float, np.ndarray, np.ndarray]


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Where the ink is: float32 (H, W), background ~0, strongest ink ~1.

    Works for dark ink on light paper and for light ink on dark ground (MNIST itself). The
    background is estimated and taken out, and contrast is measured relative to the local
    light level, so that a shadow or gradient across a photo is not ink.
    """
    return ink_levels(gray)[0]


def ink_levels(
    gray: np.ndarray, window: int | None = None, *, dark: bool | None = None
) -> tuple[np.ndarray, float]:
    """ink_map, and the contrast relative to the light level that it maps to 1: how strong the
    page's strongest ink really is, which the stretched map no longer tells.

    `window`: structures narrower than this many px are ink (default: a share of the image, safe
    for any stroke width but blind to shading smaller than that). Knowing the stroke width, a
    window a few strokes wide also takes out the shadows and smudges wider than that.
    `dark`: the polarity if already known (see dark_ink), so that related copies of one image
    agree on it.
    """
    g = _as_float(gray)
    if min(g.shape) < 2:
        return np.zeros_like(g), 0.0
    if dark is None:
        dark = _dark_ink(g)
    signal = 1.0 - g if dark else g
    background = _background(signal, window)
    # Light falling on the page multiplies what it shows: ink in a shadow is fainter by the same
    # factor as the paper there, so dividing by the local light level evens it out.
    light = np.maximum(1.0 - background if dark else background, MIN_LIGHT)
    return _stretch((signal - background) / light)


def ink_mask(ink: np.ndarray) -> np.ndarray:
    """Boolean mask of the ink: Otsu threshold with a contrast floor.

    Soft-edged components (shading) and specks (small, or far from the largest component)
    are removed.
    """
    ink = np.asarray(ink, dtype=np.float32)
    labels, count = filters.label(threshold_ink(ink))
    sharp = _sharp_components(ink, labels, count)
    if sharp.size == 0:
        return np.zeros(ink.shape, dtype=bool)
    return np.isin(labels, _main_components(labels, sharp))


def threshold_ink(ink: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Ink above `threshold` (by default ink_threshold(ink), which a caller that needs it too
    passes); nothing if no ink stands out."""
    # Smoothing first: single hot noise pixels must not pass for a stroke.
    if ink.size == 0 or filters.gaussian(ink, _PEAK_SMOOTHING).max() < MIN_PEAK:
        return np.zeros(ink.shape, dtype=bool)
    return ink > (ink_threshold(ink) if threshold is None else threshold)


def ink_threshold(ink: np.ndarray) -> float:
    """Otsu's threshold of the ink map, clamped to THRESHOLD_RANGE."""
    return float(np.clip(_otsu(ink), *THRESHOLD_RANGE))


def _as_float(gray: np.ndarray) -> np.ndarray:
    """Integers 0..255 (uint16: 0..65535) or floats -> float32 in [0, 1]; RGB -> luminance."""
    arr = np.asarray(gray)
    # Scaled before the luminance is taken, which leaves floats (that no longer tell the range).
    if arr.dtype == np.uint16:
        arr = arr / np.float32(65535)
    elif arr.dtype.kind in "iu":
        arr = arr / np.float32(255)
    if arr.ndim == 3:
        arr = to_gray(arr)
    if arr.ndim != 2:
        raise ValueError(f"expected a greyscale image (H, W), got shape {arr.shape}")
    arr = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(arr, 0.0, 1.0)


def for_opencv(image: np.ndarray) -> np.ndarray:
    """The image as OpenCV resizes and turns it: uint8 as it is (RGB kept), anything else as
    float32 grey in [0, 1] (OpenCV takes few other types: not int32 or int64, say); contiguous."""
    return np.ascontiguousarray(image if image.dtype == np.uint8 else _as_float(image))


def _stretch(diff: np.ndarray) -> tuple[np.ndarray, float]:
    """Background to 0 and the strongest ink to 1.

    Not when that would magnify noise or a faint smudge: then the values stay small, for
    ink_mask to dismiss.
    """
    diff = diff - np.median(diff)
    # The background is the majority and ink only ever lies above it, so the spread below the
    # median is noise (and faint shading) alone, whatever its grain.
    below = diff[diff < 0]
    noise = 1.4826 * float(np.median(-below)) if below.size else 0.0
    ink = np.clip(diff, 0.0, None)
    # The strongest ink that is more than a hot pixel: the largest value that a 2x2 square
    # reaches everywhere. Not a top percentile: a small digit on a large page covers less than a
    # thousandth of it, so the percentile would fall on shading and stretch that to ink.
    peak = float(_inside_border(filters.opening(ink, (2, 2))).max()) if min(ink.shape) > 1 else 0.0
    scale = max(peak, MIN_CONTRAST, NOISE_SIGMAS * noise)
    return np.clip(ink / scale, 0.0, 1.0).astype(np.float32), scale


def _inside_border(image: np.ndarray) -> np.ndarray:
    """The image less a margin of PEAK_BORDER of its shorter side all round (none if that
    would leave nothing)."""
    margin = round(PEAK_BORDER * min(image.shape))
    if margin == 0 or min(image.shape) <= 2 * margin + 2:
        return image
    return image[margin:-margin, margin:-margin]


def _shrink(g: np.ndarray, longest: int) -> np.ndarray:
    if max(g.shape) <= longest:
        return g
    factor = longest / max(g.shape)
    size = (max(1, round(g.shape[1] * factor)), max(1, round(g.shape[0] * factor)))
    return np.asarray(Image.fromarray(g).resize(size, Image.Resampling.BOX), dtype=np.float32)


def dark_ink(gray: np.ndarray) -> bool:
    """True for dark ink on light paper: the ink is the minority, the long tail of values.

    The skewness of high-passed copies tells which tail is longer, high-passed so that a
    gradient does not skew it, at two scales whose skewnesses are added: a sixth of the image
    sees a bold digit whole (a finer scale sees only its edges, which are symmetric), a 37th
    sees a small digit's thin strokes, which at the coarse scale the highlights and shadows on
    the paper around it outweigh.
    """
    return _dark_ink(_as_float(gray))


def _dark_ink(g: np.ndarray) -> bool:
    """dark_ink of a float image already in [0, 1]."""
    coarse = _shrink(g, POLARITY_COARSE_SIZE)
    fine = _shrink(g, POLARITY_FINE_SIZE)
    return _skewness(coarse, 6) + _skewness(fine, 37) < 0.0


def _skewness(g: np.ndarray, parts: int) -> float:
    """The skewness of `g` less its local mean over a box of 1/`parts` of its longer side
    either way from the centre (a box filter: a tenth of a Gaussian's cost here)."""
    size = 2 * round(max(g.shape) / parts) + 1
    high = g - filters.box_mean(g, size)
    high -= high.mean()
    spread = float(np.std(high))
    # high * high * high: numpy's float32 power by 3 is a hundred times slower.
    return float(np.mean(high * high * high)) / spread**3 if spread > 0 else 0.0


def _background(signal: np.ndarray, window: int | None = None) -> np.ndarray:
    """Background level under bright ink: a smooth trend plus a grey opening of the rest.

    The opening removes every bright structure narrower than its window, so strokes do not
    leak into the estimate as they would with a plain blur, and it keeps steps such as a
    shadow's edge. It cannot follow a slope and a step at once, hence the trend first; with
    the trend gone, mirroring at the border is harmless, and unlike other padding it keeps a
    stroke lying along the edge narrow (merely doubled), so it is still ink.
    """
    longest = max(signal.shape)
    window = max(3, window or round(longest * _BACKGROUND_WINDOW))
    trend = _trend(signal)
    residual = filters.gaussian(signal - trend, max(0.5, longest / 300))
    return trend + filters.opening(residual, (window, window))


def _trend(signal: np.ndarray) -> np.ndarray:
    """Least-squares quadratic surface (gradient, vignetting) through the background.

    Ink is rejected as outliers. The fit starts from the lower half of the values, which is
    background wherever ink is the minority, so thick ink cannot pull the first fit up.
    """
    small = _shrink(signal, 64)
    basis = _quadratic_basis(small.shape)
    values = small.ravel().astype(np.float64)
    inliers = values <= np.median(values)
    for _ in range(6):
        # The normal equations of six unknowns: lstsq's LAPACK call costs ten times more here
        # (it spins up threads), and the basis is well conditioned on [-1, 1].
        chosen = basis[inliers]
        coef = np.linalg.solve(chosen.T @ chosen + 1e-9 * np.eye(6), chosen.T @ values[inliers])
        residual = values - basis @ coef
        spread = 1.4826 * np.median(np.abs(residual[inliers])) + 1e-3
        # One-sided: ink only ever lies above the background, noise on both sides of it.
        inliers = residual <= 2.5 * spread
    return _quadratic_surface(coef, signal.shape).astype(np.float32)


def _quadratic_basis(shape: tuple[int, ...]) -> np.ndarray:
    """Columns 1, y, x, y², xy, x² on a grid spanning [-1, 1], the same at any resolution."""
    rows = np.linspace(-1.0, 1.0, shape[0])
    cols = np.linspace(-1.0, 1.0, shape[1])
    y, x = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
    return np.stack([np.ones_like(y), y, x, y * y, x * y, x * x], axis=1)


def _quadratic_surface(coef: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """_quadratic_basis(shape) @ coef, from row and column terms: no (pixels x 6) matrix, which
    made the full-size evaluation dominate ink_map's time on large images."""
    y = np.linspace(-1.0, 1.0, shape[0])[:, None]
    x = np.linspace(-1.0, 1.0, shape[1])[None, :]
    rows = coef[0] + coef[1] * y + coef[3] * y * y
    return rows + x * (coef[2] + coef[4] * y + coef[5] * x)


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold on [0, 1] values: the cut maximising between-class variance."""
    counts, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts).astype(np.float64)
    mass = np.cumsum(counts * centres)
    total, total_mass = weight[-1], mass[-1]
    upper = total - weight
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - total * mass) ** 2 / (weight * upper)
    between = np.nan_to_num(between, nan=0.0, posinf=0.0)
    return float(edges[int(np.argmax(between)) + 1])


def _sharp_components(ink: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Labels of the components with crisp edges: shading fades in over many pixels, ink not."""
    index = np.arange(1, count + 1)
    return index[edge_sharpness(ink, labels, count) >= MIN_EDGE_SHARPNESS]


def edge_sharpness(
    ink: np.ndarray, labels: np.ndarray, count: int, maps: EdgeMaps | None = None
) -> np.ndarray:
    """Per component (label k at index k - 1): median edge slope times the smoothing scale, over
    the smoothed peak; compare with MIN_EDGE_SHARPNESS. `maps`: edge_maps(ink), if known."""
    if count == 0:
        return np.zeros(0)
    index = np.arange(1, count + 1)
    sigma, smooth, slope = maps or edge_maps(ink)
    mask = labels > 0
    edge = mask & ~filters.erode(mask)
    edge_slope = label_median(slope[edge], labels[edge], count)
    # Over the labelled pixels only: ndimage sorts whatever it is given.
    peak = np.asarray(ndimage.maximum(smooth[mask], labels[mask], index))
    return edge_slope * sigma / np.maximum(peak, 1e-6)


def label_median(values: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Median of `values` per label 1..count (0 where a label has none), from the labelled pixels
    alone: ndimage.median sorts the whole image, which costs far more on a large one."""
    if values.size == 0:
        return np.zeros(count)
    ordered = values[np.lexsort((values, labels))].astype(np.float64)
    sizes = np.bincount(labels, minlength=count + 1)[1:]
    starts = np.cumsum(sizes) - sizes
    last = values.size - 1
    low = ordered[np.minimum(starts + (sizes - 1) // 2, last)]
    high = ordered[np.minimum(starts + sizes // 2, last)]
    return np.where(sizes > 0, (low + high) / 2, 0.0)


def edge_maps(ink: np.ndarray) -> EdgeMaps:
    """The smoothing scale, the smoothed ink and its slope, which edge_sharpness compares."""
    # Smoothed, or pixel noise on a shadow's fringe would pass for a sharp edge; the peak is
    # taken after smoothing too, so that thin strokes, which it flattens, are judged fairly.
    sigma = max(0.5, max(ink.shape) * _EDGE_SMOOTHING)
    smooth = filters.gaussian(ink, sigma)
    return sigma, smooth, filters.gradient_magnitude(ink, sigma)


def _main_components(labels: np.ndarray, candidates: np.ndarray) -> list[int]:
    """Of the candidate labels, the largest and the sizeable ones near it (no specks)."""
    areas = np.bincount(labels.ravel(), minlength=int(labels.max()) + 1)
    boxes = ndimage.find_objects(labels)
    largest = int(candidates[np.argmax(areas[candidates])])
    min_area = max(SPECK_OF_LARGEST * areas[largest], SPECK_OF_IMAGE * labels.size)
    rows, cols = boxes[largest - 1]
    margin = NEAR_LARGEST * max(rows.stop - rows.start, cols.stop - cols.start)

    def near(r: slice, c: slice) -> bool:
        return (
            r.start - margin < rows.stop
            and rows.start - margin < r.stop
            and c.start - margin < cols.stop
            and cols.start - margin < c.stop
        )

    return [int(i) for i in candidates if areas[i] >= min_area and near(*boxes[i - 1])]
