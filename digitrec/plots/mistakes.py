"""What a model gets wrong: the confusion matrix and a gallery of misclassified digits."""

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.ticker import FuncFormatter, NullFormatter

from digitrec.plots.canvas import PathArg, checked_target, new_figure, save_png


def _class_names(count: int, class_names: Sequence[str] | None) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(count)]
    names = [str(name) for name in class_names]
    if len(names) != count:
        raise ValueError(f"expected {count} class names, got {len(names)}")
    return names


# --------------------------------------------------------------------------- confusion


def _format_count(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:.3g}"


def plot_confusion(
    confusion: np.ndarray, path: PathArg, class_names: Sequence[str] | None = None
) -> Path:
    """A KxK confusion matrix (rows = true, columns = predicted) as an annotated heat map.

    Colour is the fraction of each true class on a log scale: with ~1000 correct per class a
    linear scale paints every error white, while a log scale tells 1 error from 20 apart.
    """
    target = checked_target(path)
    counts = np.asarray(confusion, dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"confusion must be a non-empty KxK matrix, got shape {counts.shape}")
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("confusion must hold finite, non-negative counts")
    k = counts.shape[0]
    names = _class_names(k, class_names)

    row_totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = counts / row_totals
    # Zero cells have no place on a log scale; masked, they show as plain white.
    shown = np.ma.masked_where(~(fractions > 0), fractions)
    positive = fractions[fractions > 0]
    # Keep vmin strictly below 1 so a perfect diagonal still gets a valid colour range.
    vmin = float(min(positive.min(), 1e-2)) if positive.size else 1e-2
    norm = LogNorm(vmin=vmin, vmax=1.0)
    # Blues starts at white, which would make a single error look like an empty cell; start
    # the map at a visible tint and keep pure white for the zeros.
    blues = colormaps["Blues"]
    cmap = ListedColormap(blues(np.linspace(0.15, 1.0, 256)), name="Blues_tinted")
    cmap = cmap.with_extremes(bad="white")

    total = counts.sum()
    correct = np.trace(counts)
    if total > 0:
        title = (
            f"confusion matrix: accuracy {correct / total:.2%} "
            f"({_format_count(correct)}/{_format_count(total)})"
        )
    else:
        title = "confusion matrix: no samples"

    # Cells must be wide enough for a 4-digit count; capped so a huge K cannot ask Agg for
    # an image of tens of thousands of pixels.
    side = min(0.6 * k + 2.0, 24.0)
    font_size = max(4.0, min(9.0, 100.0 / k))
    with new_figure((side + 1.2, side)) as fig:
        ax = fig.subplots()
        image = ax.imshow(shown, cmap=cmap, norm=norm, interpolation="nearest")
        colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
        colorbar.set_label("share of the true class (log scale)")
        # PercentFormatter rounds 0.1% to "0%"; %g keeps the one significant digit.
        colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:g}%"))
        colorbar.ax.yaxis.set_minor_formatter(NullFormatter())

        for i in range(k):
            for j in range(k):
                if counts[i, j] == 0 and i != j:
                    continue  # empty off-diagonal cells are the expected case: keep them quiet
                if np.ma.is_masked(shown[i, j]):
                    text_color = "black"
                else:
                    r, g, b, _ = cmap(norm(fractions[i, j]))
                    # White text on dark cells, black on light ones, by perceived brightness.
                    text_color = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
                ax.text(
                    j,
                    i,
                    _format_count(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=font_size,
                    color=text_color,
                )

        ax.set_xticks(range(k), labels=names)
        ax.set_yticks(range(k), labels=names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title)
        return save_png(fig, target)


# --------------------------------------------------------------------------- errors


def _most_confident(confidence: np.ndarray, max_items: int) -> np.ndarray:
    """Indices of the `max_items` most confident items, most confident first.

    Stable, so ties keep the caller's order; NaN confidences go last instead of first.
    """
    key = np.where(np.isfinite(confidence), confidence, -np.inf)
    return np.argsort(-key, kind="stable")[:max_items]


def _error_images(images: np.ndarray) -> np.ndarray:
    pixels = np.asarray(images, dtype=float)
    if pixels.ndim == 4 and pixels.shape[1] == 1:
        pixels = pixels[:, 0]  # (N, 1, H, W) as a model sees it
    if pixels.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W), got {pixels.shape}")
    return pixels


def plot_errors(
    images: np.ndarray,
    true: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    path: PathArg,
    max_items: int = 64,
    class_names: Sequence[str] | None = None,
) -> Path:
    """A grid of misclassified digits, the most confident mistakes first.

    The caller passes only the errors: `images` (N, 28, 28) in [0, 1] with bright ink, the
    true and predicted labels and the confidence (0..1) of each wrong prediction. Digits are
    drawn dark on white, like ink on paper. With no errors the PNG just says so.
    """
    target = checked_target(path)
    if max_items < 1:
        raise ValueError(f"max_items must be at least 1, got {max_items}")
    true_labels = np.asarray(true).astype(int).ravel()
    predicted_labels = np.asarray(predicted).astype(int).ravel()
    confidences = np.asarray(confidence, dtype=float).ravel()
    count = len(true_labels)
    lengths = {len(images), count, len(predicted_labels), len(confidences)}
    if len(lengths) != 1:
        raise ValueError(
            "images, true, predicted and confidence must have the same length, got "
            f"{len(images)}, {count}, {len(predicted_labels)}, {len(confidences)}"
        )

    if count == 0:
        with new_figure((4.0, 2.0)) as fig:
            ax = fig.subplots()
            ax.axis("off")
            ax.text(0.5, 0.5, "no errors", ha="center", va="center", fontsize=16)
            return save_png(fig, target)

    pixels = _error_images(images)
    if class_names is None:
        # Labels are not bounded by a known K here, so any integer gets its own name.
        def name(label: int) -> str:
            return str(label)
    else:
        names = [str(n) for n in class_names]
        labels = np.concatenate([true_labels, predicted_labels])
        if labels.min() < 0 or labels.max() >= len(names):
            raise ValueError(f"labels must lie in 0..{len(names) - 1} to match class_names")

        def name(label: int) -> str:
            return names[label]

    order = _most_confident(confidences, max_items)
    cols = min(len(order), 8)
    rows = math.ceil(len(order) / cols)
    heading = (
        f"{count} misclassified"
        if len(order) == count
        else f"{len(order)} most confident of {count} misclassified"
    )

    # Fixed spacing instead of constrained layout: solving the layout for 64 titled axes is
    # slow and buys nothing on a regular grid.
    header_in = 0.6
    cell_w, cell_h = 1.35, 1.5
    height = rows * cell_h + header_in
    # A minimum width keeps the heading readable above a single digit.
    with new_figure((max(cols * cell_w, 3.0), height), constrained=False) as fig:
        axes = fig.subplots(rows, cols, squeeze=False)
        fig.subplots_adjust(
            left=0.02, right=0.98, bottom=0.02, top=1 - header_in / height, wspace=0.1, hspace=0.35
        )
        fig.suptitle(heading, y=1 - 0.1 / height, va="top")
        for ax in axes.flat:
            ax.axis("off")
        for ax, index in zip(axes.flat, order, strict=False):
            ax.imshow(pixels[index], cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
            conf = confidences[index]
            conf_text = f"{conf:.0%}" if np.isfinite(conf) else "?"
            ax.set_title(
                f"true {name(true_labels[index])} → {name(predicted_labels[index])} ({conf_text})",
                fontsize=8,
            )
        return save_png(fig, target)
