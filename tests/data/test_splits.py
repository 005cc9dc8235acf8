"""Splits (acsumgan.data.splits): random and k-fold splits, the standard files, get_split."""

import pytest

from acsumgan.data.splits import get_split, make_kfold_splits, make_random_splits, read_splits
from acsumgan.errors import SplitsError
from conftest import FIXTURES


def test_random_splits_like_the_standard_files():
    keys = [f"video_{i}" for i in range(1, 26)]
    splits = make_random_splits(keys, 5, 0.2, seed=3)
    assert len(splits) == 5
    for s in splits:
        assert len(s["test_keys"]) == 5 and len(s["train_keys"]) == 20
        assert set(s["test_keys"]) | set(s["train_keys"]) == set(keys)
    assert make_random_splits(keys, 5, 0.2, seed=3) == splits
    assert make_random_splits(keys, 5, 0.2, seed=4) != splits


def test_kfold_tests_every_video_exactly_once():
    keys = [f"video_{i}" for i in range(1, 51)]
    folds = make_kfold_splits(keys, 5, seed=0)
    tested = [k for f in folds for k in f["test_keys"]]
    assert sorted(tested) == sorted(keys) and len(tested) == 50
    for f in folds:
        assert not set(f["test_keys"]) & set(f["train_keys"])


def test_standard_splits_files_read_and_overlap():
    summe = read_splits(FIXTURES / "splits" / "summe_splits.json")
    assert len(summe) == 5 and all(len(s["test_keys"]) == 5 for s in summe)
    assert len({k for s in summe for k in s["test_keys"]}) == 18  # the overlap method.md describes
    tvsum = read_splits(FIXTURES / "splits" / "tvsum_splits.json")
    assert len({k for s in tvsum for k in s["test_keys"]}) == 34


def test_get_split_checks_index_and_empty_parts(tmp_path):
    f = tmp_path / "s.json"
    f.write_text('[{"train_keys": [], "test_keys": ["a"]}]')
    with pytest.raises(SplitsError, match="out of range"):
        get_split(f, 3)
    with pytest.raises(SplitsError, match="train_keys is empty"):
        get_split(f, 0)
