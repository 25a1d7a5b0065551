"""The drawing surface every plot shares: a figure on its own Agg canvas (no pyplot), the
destination check and the PNG writing."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PathArg = str | os.PathLike[str]

_DPI = 100


def checked_target(path: PathArg) -> Path:
    """Check the destination before drawing anything, so a typo fails fast and clearly."""
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"folder does not exist: {target.parent}")
    return target


@contextmanager
def new_figure(figsize: tuple[float, float], *, constrained: bool = True) -> Iterator[Figure]:
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


def save_png(fig: Figure, target: Path) -> Path:
    # format="png" explicitly: the suffix of `path` must not change what gets written.
    fig.savefig(target, format="png", dpi=_DPI)
    return target
