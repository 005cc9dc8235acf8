"""Fragments (method.md section 2): the release's sizes, its quirk, and the short-video rule."""

import numpy as np
import pytest

from acsumgan.model.fragments import fragment_bounds, fragment_ids, fragment_sizes, termination_point


def test_known_answer_150_steps():
    # f = 2.5: 30 of size 2, 30 of size 3, rolled left by 15 -> the 3s in the middle.
    assert fragment_sizes(150).tolist() == [2] * 15 + [3] * 30 + [2] * 15


def test_known_answer_61_steps_quirk():
    # f = 61/60: one fragment of 2 lands at index 30; the last size is 1, so the quirk
    # sets index 30 to 1: all 60 fragments have one step and step 60 is in none.
    sizes = fragment_sizes(61)
    assert sizes.tolist() == [1] * 60
    ids = fragment_ids(61)
    assert ids[60] == -1 and ids[:60].tolist() == list(range(60))


@pytest.mark.parametrize("T", list(range(61, 119)))
def test_quirk_range_loses_last_step(T):
    sizes = fragment_sizes(T)
    assert len(sizes) == 60 and sizes.min() >= 1
    assert sizes.sum() == T - 1
    assert fragment_ids(T)[-1] == -1
    assert (fragment_ids(T)[:-1] >= 0).all()


@pytest.mark.parametrize("T", [60, 119, 120, 121, 179, 180, 300, 649, 1294, 5000])
def test_outside_quirk_range_covers_every_step(T):
    sizes = fragment_sizes(T)
    assert sizes.sum() == T and sizes.min() >= 1
    assert (fragment_ids(T) >= 0).all()
    # contiguous, ordered
    b = fragment_bounds(T)
    assert b[0, 0] == 0 and (b[1:, 0] == b[:-1, 1] + 1).all()


def test_summe_lengths_in_quirk_range():
    for T in (86, 108, 64, 117):  # the four SumMe videos the method page names
        assert fragment_sizes(T).sum() == T - 1


def test_larger_fragments_in_the_middle():
    sizes = fragment_sizes(1000)  # 16.67: 20 of 16 and 40 of 17
    assert sorted(set(sizes.tolist())) == [16, 17]
    assert sizes[0] == 16 and sizes[-1] == 16 and sizes[30] == 17


@pytest.mark.parametrize("T", [1, 2, 5, 6, 7, 30, 59])
def test_short_videos_one_step_fragments(T):
    b = fragment_bounds(T)
    assert b.shape == (T, 2) and (b[:, 0] == np.arange(T)).all() and (b[:, 1] == b[:, 0]).all()
    assert fragment_ids(T).tolist() == list(range(T))


def test_termination_point():
    assert termination_point(60) == 9
    assert [termination_point(m) for m in (1, 6, 7, 13, 14, 59)] == [0, 0, 1, 1, 2, 8]


def test_rejects_empty_video():
    with pytest.raises(ValueError):
        fragment_bounds(0)
