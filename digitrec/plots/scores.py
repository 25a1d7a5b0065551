"""How well models do: a run's loss and accuracy per epoch, and models side by side."""

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, PercentFormatter

from digitrec.plots.canvas import PathArg, checked_target, new_figure, save_png

_TRAIN_COLOR = "tab:blue"
_VAL_COLOR = "tab:orange"


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
    target = checked_target(path)
    if len(history) == 0:
        raise ValueError("history is empty: nothing to plot")

    epochs = _column(history, "epoch")
    # A row without an epoch number is placed where its position says it belongs.
    epochs = np.where(np.isfinite(epochs), epochs, np.arange(1, len(history) + 1))
    # Markers keep a single epoch (or a lone value between gaps) visible; shrink them for
    # long runs where they would merge into a thick line.
    marker_size = 4.0 if len(history) <= 50 else 2.0

    with new_figure((11.0, 4.2)) as fig:
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
        return save_png(fig, target)


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
    target = checked_target(path)
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

    with new_figure((7.5, 0.45 * len(names) + 1.4)) as fig:
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
        return save_png(fig, target)
