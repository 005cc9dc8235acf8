"""When each frame starts (acsumgan.media.times.FrameTimes): known answers."""

from __future__ import annotations

import numpy as np
import pytest

from acsumgan.media.times import FrameTimes


def test_constant_rate_is_index_over_fps_whatever_the_times():
    t = FrameTimes(4, 25.0, np.array([0.0, 0.041, 0.079, 0.121]), constant_rate=True)
    assert [t.at(i) for i in range(5)] == [0.0, 0.04, 0.08, 0.12, 0.16]
    assert t.duration == 0.16 == 4 / 25.0
    assert FrameTimes(3, 30.0).duration == 0.1  # no times at all: i / fps


def test_variable_rate_uses_each_frames_time_and_the_median_step_after_the_last():
    times = np.array([0.0, 1.0, 2.0, 3600.0])  # a gap of an hour before the last frame
    t = FrameTimes(4, 1 / 1001, times, constant_rate=False)
    assert [t.at(i) for i in range(4)] == [0.0, 1.0, 2.0, 3600.0]
    assert t.step == 1.0  # median of 1, 1, 3598
    assert t.at(4) == t.duration == 3601.0  # the end of the last frame
    assert t.at(6) == 3603.0


def test_one_frame_lasts_one_frame_of_the_rate():
    t = FrameTimes(1, 4.0, np.array([0.5]), constant_rate=False)
    assert t.step == 0.25 and t.at(0) == 0.5 and t.duration == 0.75


def test_non_positive_steps_fall_back_to_one_over_fps():
    same = FrameTimes(3, 10.0, np.array([1.0, 1.0, 1.0]), constant_rate=False)  # median step 0
    assert same.step == 0.1 and same.duration == pytest.approx(1.1)
    backwards = FrameTimes(3, 5.0, np.array([2.0, 1.0, 0.0]), constant_rate=False)  # median step -1
    assert backwards.step == 0.2 and backwards.duration == pytest.approx(0.2)


def test_empty_times_at_a_variable_rate_are_index_over_fps():
    t = FrameTimes(0, 25.0, np.array([]), constant_rate=False)
    assert t.at(0) == 0.0 and t.duration == 0.0 and t.at(5) == 0.2


def test_times_given_as_a_list_are_the_same():
    a = FrameTimes(3, 30.0, [0.0, 0.5, 0.75], constant_rate=False)
    b = FrameTimes(3, 30.0, np.array([0.0, 0.5, 0.75]), constant_rate=False)
    # after the last frame: steps of the median, 0.375
    assert [a.at(i) for i in range(5)] == [b.at(i) for i in range(5)] == [0.0, 0.5, 0.75, 1.125, 1.5]
    assert "variable rate" in repr(a)
