"""The PNG plots people read: ``scores.png`` of a summary and the shared style of the report's figures.

Rules every plot here follows:

- the legend sits outside the axes (:func:`legend_outside`), so it never covers data
  (the last score step, the last epochs);
- epoch axes have integer ticks (:func:`epoch_axis`) and the F-score per epoch starts at
  epoch -1, the evaluation before training;
- with many shots (more than :data:`MANY_SHOTS`) the shot boundaries are short light
  ticks along the bottom of the axes instead of full-height lines, so an hour of 600
  shots is no grey wall, and kept shots are drawn at least :data:`MIN_KEPT_FRACTION`
  of the axis wide, so they stay visible;
- an axes without data says so (:func:`no_data`) rather than being empty;
- figures are made with matplotlib's object API (:class:`matplotlib.figure.Figure`, Agg
  canvas): no pyplot state, no backend switch, no warning on stderr.

This module uses only :mod:`acsumgan.fileio` of acsumgan (and matplotlib, numpy).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from ..fileio import atomic_path, readable

#: Above this many shots, boundaries are drawn as light ticks along the time axis.
MANY_SHOTS = 60
#: A kept shot is drawn at least this fraction of the time axis wide.
MIN_KEPT_FRACTION = 0.003
#: Height of a boundary tick (fraction of the axes) when there are many shots.
TICK_HEIGHT = 0.05
KEPT_COLOR = "tab:orange"
CURVE_COLOR = "tab:blue"


def matplotlib_config_dir() -> None:
    """Before matplotlib is first imported: when its config folder (``MPLCONFIGDIR``, else
    ``$XDG_CONFIG_HOME/matplotlib`` or ``~/.config/matplotlib``) cannot be written (HOME
    unset, read-only or not a folder), give it a private temporary one, removed at exit,
    as matplotlib would itself, but without its warnings on stderr."""
    if "matplotlib" in sys.modules or os.environ.get("MPLCONFIGDIR"):
        return
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    default = os.path.join(base, "matplotlib")
    try:
        os.makedirs(default, exist_ok=True)
        if os.access(default, os.W_OK):
            return
    except OSError:
        pass
    try:
        folder = tempfile.mkdtemp(prefix="acsumgan-matplotlib-")
    except OSError:
        return  # no writable temporary folder either: matplotlib says where it looked
    atexit.register(shutil.rmtree, folder, True)
    os.environ["MPLCONFIGDIR"] = folder


def new_figure(width: float, height: float, dpi: int = 100):
    """A figure with a constrained layout on an Agg canvas (outside legends get room)."""
    matplotlib_config_dir()
    # matplotlib: imported when a figure is made (after its config folder is settled), not at start-up
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path: str | os.PathLike, dpi: int | None = None) -> Path:
    """Write the figure as a PNG, atomically (a character the font lacks, e.g. CJK in a video's
    name, is drawn as a box without a warning on stderr)."""
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        fig.savefig(tmp, format="png", dpi=dpi or fig.dpi)
    return Path(path)


def legend_outside(fig, ax, where: str = "right", fontsize: float = 8, ncol: int = 1):
    """The legend of ``ax``'s labelled artists outside the axes (``right`` of it, or
    ``below`` the x label, in rows); None, and no warning, when nothing is labelled."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    loc = "outside right upper" if where == "right" else "outside lower center"
    return fig.legend(handles, labels, loc=loc, fontsize=fontsize, ncol=ncol, frameon=False)


def epoch_axis(ax) -> None:
    """Integer ticks on the x axis (epochs)."""
    from matplotlib.ticker import MaxNLocator  # as in new_figure

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def no_data(ax, text: str) -> None:
    """Say in the middle of an empty axes why it is empty; no ticks."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", wrap=True, color="0.35")
    ax.set_xticks([])
    ax.set_yticks([])


def score_figure(
    step_times: Sequence[float],
    end_seconds: float,
    scores: Sequence[float],
    shots: Sequence[tuple[float, float]],
    selected: Sequence[int],
    title: str = "",
):
    """The ``scores.png`` figure: above, a thin track of the shots (kept ones solid, at
    least :data:`MIN_KEPT_FRACTION` of the axis wide); below, the importance of every step
    over time (a step line to the video's end) with the kept shots shaded and the shot
    boundaries (full-height lines, or with more than :data:`MANY_SHOTS` shots light ticks
    along the bottom); the legend under the axes.

    ``shots`` are ``(start, end)`` seconds of every shot, ``selected`` the indices of the
    kept ones. Returns the figure; its axes are ``fig.axes == [track, main]``."""
    fig = new_figure(10, 3.6)
    track, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 9]})
    end = max(float(end_seconds), 1e-6)
    min_w = MIN_KEPT_FRACTION * end
    for k, i in enumerate(selected):
        a, b = (float(x) for x in shots[i])
        ax.axvspan(a, b, color=KEPT_COLOR, alpha=0.3, lw=0, label="kept shots" if k == 0 else None)
        if b - a < min_w:  # widen around the middle, so the shot stays visible on the track
            a = min(max(0.0, (a + b) / 2 - min_w / 2), end - min_w)  # shifted, not cut, at either end
            b = a + min_w
        track.axvspan(a, b, color=KEPT_COLOR, lw=0)
    starts = [float(s) for s, _ in shots[1:]]
    if starts:
        if len(shots) > MANY_SHOTS:  # light ticks along the bottom: no grey wall over the curve
            ax.vlines(
                starts,
                0,
                TICK_HEIGHT,
                transform=ax.get_xaxis_transform(),
                colors="0.4",
                lw=0.6,
                alpha=0.6,
                label=f"shot boundaries ({len(shots)} shots)",
            )
        else:
            ax.vlines(starts, 0, 1, transform=ax.get_xaxis_transform(), colors="0.6", lw=0.5, label="shot boundaries")
    y = np.asarray(scores, dtype=np.float64)
    if y.size:
        x = np.append(np.asarray(step_times, dtype=np.float64), end)
        ax.step(x, np.append(y, y[-1]), where="post", color=CURVE_COLOR, lw=1.1, label="importance")
    else:
        no_data(ax, "no scores")
    track.set_yticks([])
    track.set_ylabel("kept", rotation=0, ha="right", va="center", fontsize=8)
    track.tick_params(axis="x", bottom=False, labelbottom=False)
    ax.set_xlim(0, end)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("importance score")
    if title:  # a file name's byte that is not UTF-8 as U+FFFD (a font draws no lone surrogate)
        track.set_title(readable(title), fontsize=10)
    legend_outside(fig, ax, where="below", ncol=3)
    return fig


def write_score_plot(
    path: str | os.PathLike,
    step_times: Sequence[float],
    end_seconds: float,
    scores: Sequence[float],
    shots: Sequence[tuple[float, float]],
    selected: Sequence[int],
    title: str = "",
) -> Path:
    """:func:`score_figure` written to ``path`` (PNG, atomically)."""
    return save_png(score_figure(step_times, end_seconds, scores, shots, selected, title), path)
