"""The sampling rule (acsumgan.media.sampling): its two forms pick the same frames, with known answers."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from acsumgan.errors import ConfigError
from acsumgan.media.decode import FrameSampler
from acsumgan.media.sampling import PtsCells, StepRule, check_rate, pts_steps, sample_steps
from acsumgan.synthetic.media import counter_video


def by_time(pts, origin, time_base, rate):
    """The time form over the same frames: t = (pts - origin) * time_base, exactly."""
    return sample_steps([Fraction(q - origin) * time_base for q in pts], rate)


@pytest.mark.parametrize(
    "pts, origin, time_base, rate, want",
    [
        # 30 fps in 1/30: every 15th frame
        (list(range(61)), 0, Fraction(1, 30), Fraction(2), [0, 15, 30, 45, 60]),
        # 25 fps in 1/12800 (512 a frame): the first frame at or after each half second
        ([512 * i for i in range(51)], 0, Fraction(1, 12800), Fraction(2), [0, 13, 25, 38, 50]),
        # NTSC 29.97 fps in 1/30000 (1001 a frame), origin not 0
        ([7 + 1001 * i for i in range(46)], 7, Fraction(1, 30000), Fraction(2), [0, 15, 30, 45]),
        # 10 fps, one step a second
        (list(range(31)), 0, Fraction(1, 10), Fraction(1), [0, 10, 20, 30]),
        # a variable rate in 1/1000: 0, 0.1, 2.3 (a gap: several thresholds at once), 2.4, 3.0
        ([0, 100, 2300, 2400, 3000], 0, Fraction(1, 1000), Fraction(2), [0, 2, 4]),
        # an odd time base (1/7 s) and rate (3/2 steps a second): cells of 2/3 s
        (list(range(15)), 0, Fraction(1, 7), Fraction(3, 2), [0, 5, 10, 14]),
        # a frame before the origin (pts below the first frame's) is never a step
        ([10, 5, 20, 30], 10, Fraction(1, 20), Fraction(2), [0, 2, 3]),
    ],
)
def test_both_forms_give_the_known_answer(pts, origin, time_base, rate, want):
    assert pts_steps(pts, origin, time_base, rate) == want
    assert by_time(pts, origin, time_base, rate) == want


def by_thresholds(times, rate):
    """The rule as the sampler wrote it before: the next threshold ``k / rate`` after each step."""
    picks, nxt = [], Fraction(0)
    for i, t in enumerate(times):
        if t >= nxt:
            picks.append(i)
            nxt = Fraction(math.floor(t * rate) + 1) / rate
    return picks


@pytest.mark.parametrize("time_base", [Fraction(1, 90000), Fraction(1001, 30000), Fraction(3, 7), Fraction(1, 25)])
@pytest.mark.parametrize("rate", [Fraction(2), Fraction(1, 3), Fraction(7, 2), Fraction(1000)])
def test_both_forms_pick_the_same_frames_on_random_variable_rates(time_base, rate):
    rng = np.random.default_rng(11)
    for _ in range(5):
        origin = int(rng.integers(-1000, 1000))
        gaps = rng.integers(0, 40, 400)  # repeated pts (0) and gaps
        pts = [origin] + list(origin + np.cumsum(gaps))
        pts = [int(q) for q in pts]
        # the rate as both take it (checked: a float's exact value, as the sampler and the parts have it)
        picks = pts_steps(pts, origin, time_base, check_rate(rate))
        assert picks == by_time(pts, origin, time_base, rate)
        assert picks == by_thresholds([Fraction(q - origin) * time_base for q in pts], check_rate(rate))


def test_the_rule_can_start_mid_video():
    """A part that starts mid-video with one pass's state picks one pass's steps from there."""
    pts = list(range(100))
    tb, rate = Fraction(1, 30), Fraction(2)
    whole = pts_steps(pts, 0, tb, rate)
    cell = PtsCells(0, tb, rate)
    last_before = max(i for i in whole if i < 40)
    rule = StepRule(rate, need=cell(pts[last_before]) + 1)
    assert [i for i in pts[40:] if rule.take(cell(i))] == [i for i in whole if i >= 40]


def test_float_times_are_taken_exactly():
    """Floats as the decoder's float64 frame times give the same picks as their Fractions."""
    times = [i / 30 for i in range(100)]
    assert sample_steps(times) == sample_steps([Fraction(t) for t in times])
    # 1/30 * 15 as a float is 0.49999999999999994 or 0.5 exactly: whatever it is, taken exactly
    assert sample_steps([0.0, 0.49999999999999994, 0.5]) == [0, 2]


def test_the_sampler_is_the_rule_by_time_and_by_pts(tmp_path):
    """On a real video with an odd time base the sampler's picks are those of both forms."""
    g = counter_video(tmp_path / "c.mkv", 90, fps=24, size=(32, 24), fmt="matroska", codec="ffv1", pix_fmt="yuv444p")
    s = FrameSampler(g.path, rate=1.5, size=(8, 8))
    picks = [sf.index for sf in s]
    assert picks == sample_steps(s.frame_times, 1.5)
    pts = [int(q) for q in s.frame_pts]
    assert picks == pts_steps(pts, pts[0], Fraction(1, 1000), Fraction(3, 2))  # Matroska: milliseconds
    # 24 fps: the first frame at or after each 2/3 s, in milliseconds: frame 32 is at 1.333 s, before 4/3
    assert picks[:4] == [0, 16, 33, 48]


def test_rate_is_checked():
    assert check_rate(2) == Fraction(2) and check_rate(0.5) == Fraction(1, 2)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ConfigError):
            check_rate(bad)
