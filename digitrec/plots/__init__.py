"""Pictures of a training run: learning curves, confusion matrix, worst errors, leaderboard.

Every function renders with matplotlib's object API on an Agg canvas and writes one PNG.
pyplot is never imported: its global figure registry would keep figures alive (a leak in a
long-running server) and its backend selection can try to open a window on a desktop.

canvas.py holds that shared drawing and saving; scores.py draws how well models do (curves
per epoch, the leaderboard) and mistakes.py what they get wrong (confusion matrix, errors).
"""

from digitrec.plots.mistakes import plot_confusion, plot_errors
from digitrec.plots.scores import plot_curves, plot_leaderboard

__all__ = ["plot_confusion", "plot_curves", "plot_errors", "plot_leaderboard"]
