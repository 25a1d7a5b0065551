"""Pictures of a training run: learning curves, confusion matrix, worst errors, leaderboard.

Every function renders with matplotlib's object API on an Agg canvas and writes one PNG.
pyplot is never imported: its global figure registry would keep figures alive (a leak in a
long-running server) and its backend selection can try to open a window on a desktop.
"""

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter, PercentFormatter

__all__ = ["plot_confusion", "plot_curves", "plot_errors", "plot_leaderboard"]

PathArg = str | os.PathLike[str]

_DPI = 100
_TRAIN_COLOR = "tab:blue"
_VAL_COLOR = "tab:orange"


def _target(path: PathArg) -> Path:
    """Check the destination before drawing anything, so a typo fails fast and clearly."""
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"folder does not exist: {target.parent}")
    return target


@contextmanager
def _figure(figsize: tuple[float, float], *, constrained: bool = True) -> Iterator[Figure]:
    """A figure on its own Agg canvas, emptied on exit.

    Clearing drops the artists (and the image arrays they hold) right away instead of waiting
    for the cyclic garbage collector to notice the figure <-> canvas <-> axes cycle.
    """
    fig = Figure(figsize=figsize, dpi=_DPI, layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    try:
        yield fig
    finally:
        fig.clear()


def _save(fig: Figure, target: Path) -> Path:
    # format="png" explicitly: the suffix of `path` must not change what gets written.
    fig.savefig(target, format="png", dpi=_DPI)
    return target


def _class_names(count: int, class_names: Sequence[str] | None) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(count)]
    names = [str(name) for name in class_names]
    if len(names) != count:
        raise ValueError(f"expected {count} class names, got {len(names)}")
    return names


def _legend_if_any(ax: Axes) -> None:
    # ax.legend() with nothing labelled emits a warning and draws an empty box.
    if ax.get_legend_handles_labels()[0]:
        ax.legend()


# --------------------------------------------------------------------------- curves


def _column(history: Sequence[Mapping[str, float]], key: str) -> np.ndarray:
    """One metric over epochs; missing or None becomes NaN so matplotlib leaves a gap."""
    values = []
    for row in history:
        value = row.get(key)
        values.append(math.nan if value is None else float(value))
    return np.asarray(values, dtype=float)


def plot_curves(history: Sequence[Mapping[str, float]], path: PathArg) -> Path:
    """Loss and accuracy per epoch, train vs validation, side by side.

    `history` has one row per epoch with `epoch`, `train_loss`, `train_acc`, `val_loss` and
    `val_acc` (accuracies as fractions). Validation values may be missing or NaN.
    """
    target = _target(path)
    if len(history) == 0:
        raise ValueError("history is empty: nothing to plot")

    epochs = _column(history, "epoch")
    # A row without an epoch number is placed where its position says it belongs.
    epochs = np.where(np.isfinite(epochs), epochs, np.arange(1, len(history) + 1))
    # Markers keep a single epoch (or a lone value between gaps) visible; shrink them for
    # long runs where they would merge into a thick line.
    marker_size = 4.0 if len(history) <= 50 else 2.0

    with _figure((11.0, 4.2)) as fig:
        loss_ax, acc_ax = fig.subplots(1, 2)
        panels = (
            (loss_ax, "loss", 1.0),
            (acc_ax, "acc", 100.0),
        )
        for ax, metric, scale in panels:
            for split, label, color in (
                ("train", "train", _TRAIN_COLOR),
                ("val", "validation", _VAL_COLOR),
            ):
                values = _column(history, f"{split}_{metric}") * scale
                if not np.isfinite(values).any():
                    continue  # e.g. no validation set: leave it out of the legend too
                ax.plot(
                    epochs, values, marker="o", markersize=marker_size, color=color, label=label
                )
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, alpha=0.3)
            _legend_if_any(ax)
            if epochs.min() == epochs.max():
                # The integer locator wants two ticks and falls back to fractional ones when
                # the range holds only one integer, so pin the single epoch's tick by hand.
                ax.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
                ax.set_xticks([epochs[0]])

        loss_ax.set_title("loss")
        loss_ax.set_ylabel("loss")

        acc_ax.set_ylabel("accuracy")
        acc_ax.yaxis.set_major_formatter(PercentFormatter(xmax=100))
        val_acc = _column(history, "val_acc")
        if np.isfinite(val_acc).any():
            best = int(np.nanargmax(val_acc))
            acc_ax.set_title(
                f"accuracy (best validation {val_acc[best]:.2%} at epoch {epochs[best]:g})"
            )
        else:
            acc_ax.set_title("accuracy")
        return _save(fig, target)


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
    target = _target(path)
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
    with _figure((side + 1.2, side)) as fig:
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
        return _save(fig, target)


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
    target = _target(path)
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
        with _figure((4.0, 2.0)) as fig:
            ax = fig.subplots()
            ax.axis("off")
            ax.text(0.5, 0.5, "no errors", ha="center", va="center", fontsize=16)
            return _save(fig, target)

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
    with _figure((max(cols * cell_w, 3.0), height), constrained=False) as fig:
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
        return _save(fig, target)


# --------------------------------------------------------------------------- leaderboard


def _axis_limits(values: np.ndarray) -> tuple[float, float]:
    """A zoomed x range in percent so that 97% vs 99% is a visible difference.

    The left edge sits below the worst model by half the spread (at least half a point), the
    right edge leaves a quarter of the range free for the value labels.
    """
    low, high = float(values.min()), float(values.max())
    spread = max(high - low, 1.0)
    left = max(0.0, low - 0.5 * spread)
    right = high + 0.25 * (high - left)
    return left, right


def plot_leaderboard(
    rows: Sequence[Mapping[str, object]], path: PathArg, metric: str = "accuracy"
) -> Path:
    """Horizontal bars comparing models on `metric` (a fraction, shown in %), best on top."""
    target = _target(path)
    if len(rows) == 0:
        raise ValueError("no models to compare")
    models: list[str] = []
    scores: list[float] = []
    for row in rows:
        if "model" not in row:
            raise ValueError(f"leaderboard row without a 'model': {dict(row)}")
        model = str(row["model"])
        value = row.get(metric)
        try:
            score = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"model {model!r} has no numeric {metric!r}: {value!r}") from None
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"model {model!r}: {metric} must be a fraction 0..1, got {score}")
        models.append(model)
        scores.append(score)

    # Stable sort: models with equal scores stay in the order the caller listed them.
    order = sorted(range(len(models)), key=lambda i: -scores[i])
    names = [models[i] for i in order]
    percents = np.array([scores[i] * 100.0 for i in order])
    left, right = _axis_limits(percents)

    with _figure((7.5, 0.45 * len(names) + 1.4)) as fig:
        ax = fig.subplots()
        colors = ["tab:green"] + ["tab:blue"] * (len(names) - 1)
        # Bars start at 0 and are cut by the zoomed axis; only their ends carry information.
        bars = ax.barh(range(len(names)), percents, color=colors, height=0.6)
        ax.bar_label(bars, labels=[f"{p:.2f}%" for p in percents], padding=3, fontsize=9)
        ax.set_yticks(range(len(names)), labels=names)
        ax.invert_yaxis()  # barh puts the first bar at the bottom; best belongs on top
        ax.set_xlim(left, right)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
        # The space right of 100% only holds labels; a "101%" tick would be nonsense.
        ax.set_xticks([t for t in ax.get_xticks() if left <= t <= min(right, 100.0)])
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=100))
        ax.set_xlabel(f"{metric} (axis zoomed)" if left > 0 else metric)
        ax.set_title(f"models by {metric}")
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        return _save(fig, target)
