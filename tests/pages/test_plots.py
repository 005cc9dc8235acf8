"""scores.png as people read it (acsumgan.pages.plots): rendered for real, checked on matplotlib's artists.

The legend lies outside the axes (so it covers no score step, the last one included),
many shots give light ticks instead of a grey wall, kept shots stay visible on an hour
of video, and drawing emits no warning.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from acsumgan.pages.plots import MANY_SHOTS, MIN_KEPT_FRACTION, TICK_HEIGHT, score_figure, write_score_plot


def _video(n_shots: int, seconds: float, seed: int = 0):
    """(step times, end, scores, shots, kept) of a video with ``n_shots`` shots and 2 steps a second."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, int(seconds * 2)), n_shots - 1, replace=False)) / 2
    starts, ends = np.r_[0.0, cuts], np.r_[cuts, seconds]
    times = np.arange(0, seconds, 0.5)
    scores = rng.random(times.size)
    scores[-1] = scores.max() + 1  # the last step is the highest: where a legend in a corner sat
    kept = sorted(rng.choice(n_shots - 1, max(1, n_shots // 7), replace=False).tolist()) + [n_shots - 1]
    return times, seconds, scores, list(zip(starts, ends)), kept


def _boundaries(ax):
    return [c for c in ax.collections if c.get_label().startswith("shot boundaries")]


@pytest.mark.parametrize("n_shots,seconds", [(6, 30.0), (646, 3600.0)])
def test_the_legend_covers_no_data(n_shots, seconds):
    fig = score_figure(*_video(n_shots, seconds), title="video.mp4")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    track, ax = fig.axes
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert not box.overlaps(ax.get_window_extent(renderer)) and not box.overlaps(track.get_window_extent(renderer))
    # the last step's line, in pixels, lies inside the axes and outside the legend
    (step,) = [line for line in ax.get_lines() if line.get_label() == "importance"]
    x, y = step.get_xydata()[-1]
    px, py = ax.transData.transform((x, y))
    assert ax.get_window_extent(renderer).contains(px - 1, py - 1) and not box.contains(px, py)
    assert [t.get_text() for t in legend.get_texts()][0] == "kept shots"


def test_few_shots_have_full_lines_many_have_light_ticks():
    few = score_figure(*_video(MANY_SHOTS, 600.0)).axes[1]
    (lines,) = _boundaries(few)
    ys = np.concatenate([seg[:, 1] for seg in lines.get_segments()])
    assert (ys.min(), ys.max()) == (0, 1) and lines.get_alpha() is None
    assert len(lines.get_segments()) == MANY_SHOTS - 1
    many = score_figure(*_video(646, 3600.0)).axes[1]
    (ticks,) = _boundaries(many)
    assert ticks.get_transform() == many.get_xaxis_transform()  # y in axes fractions
    ys = np.concatenate([seg[:, 1] for seg in ticks.get_segments()])
    assert ys.min() == 0 and ys.max() == TICK_HEIGHT
    assert ticks.get_alpha() < 1 and ticks.get_linewidth()[0] <= 1
    assert ticks.get_label() == "shot boundaries (646 shots)"


def test_kept_shots_stay_visible_on_an_hour():
    times, end, scores, shots, kept = _video(646, 3600.0)
    fig = score_figure(times, end, scores, shots, kept)
    fig.canvas.draw()
    track = fig.axes[0]
    assert len(track.patches) == len(kept)
    to_data = track.transData.inverted()
    px_per_second = track.get_window_extent().width / end
    for patch, i in zip(track.patches, kept):
        ext = patch.get_extents()
        x0, x1 = to_data.transform([[ext.x0, 0], [ext.x1, 0]])[:, 0]
        a, b = shots[i]
        assert x0 - 1e-6 <= (a + b) / 2 <= x1 + 1e-6
        assert (x1 - x0) * px_per_second >= 1.5  # at least a pixel and a half at 100 dpi
        if b - a >= MIN_KEPT_FRACTION * end:
            assert (x0, x1) == pytest.approx((a, b), abs=end * 1e-3)
        assert patch.get_alpha() in (None, 1)  # solid on the track


SCRIPT = """
import sys
import numpy as np
from acsumgan.pages.plots import write_score_plot
out = sys.argv[1]
rng = np.random.default_rng(0)
cuts = np.sort(rng.choice(np.arange(1, 7200), 645, replace=False)) / 2
shots = list(zip(np.r_[0.0, cuts], np.r_[cuts, 3600.0]))
t = np.arange(0, 3600, 0.5)
write_score_plot(out + "/long.png", t, 3600.0, rng.random(t.size), shots, list(range(0, 646, 7)), title="long.mp4")
write_score_plot(out + "/short.png", [0, 0.5, 1], 1.5, [0.1, 0.2, 0.9], [(0, 0.5), (0.5, 1.5)], [1], title="short")
write_score_plot(out + "/empty.png", [], 5.0, [], [(0.0, 5.0)], [], title="no scores")
"""


def test_the_png_is_written_and_nothing_is_warned(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    for name in ("long", "short", "empty"):
        with Image.open(tmp_path / f"{name}.png") as img:
            assert img.size == (1000, 360)
    assert not list(tmp_path.glob("*.tmp"))


def test_write_score_plot_returns_the_path(tmp_path, recwarn):
    out = write_score_plot(tmp_path / "s.png", *_video(10, 60.0))
    assert out == tmp_path / "s.png" and out.stat().st_size > 0
    assert [str(w.message) for w in recwarn] == []
