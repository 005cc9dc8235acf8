"""Splits files: a JSON list of ``{"train_keys": [...], "test_keys": [...]}``.

The standard files hold 5 random 80/20 splits (they overlap: a video can be tested
in several splits, and some never are). ``make_random_splits`` makes such a file,
seeded; ``make_kfold_splits`` makes a true k-fold partition, where every video is
tested exactly once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import AcsumganError, SplitsError
from ..fileio import check_input_file, write_json

Split = dict[str, list[str]]


def read_splits(path: str | os.PathLike, videos: Iterable[str] | None = None) -> list[Split]:
    """Read and check a splits file; with ``videos``, every key must be among them."""
    p = check_input_file(path, SplitsError, "a JSON splits file", allow_empty=True)
    try:
        obj = json.loads(p.read_bytes().decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # also numbers beyond Python's int-digit limit
        raise SplitsError(p, f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(obj, list) or not obj:
        raise SplitsError(p, "must be a non-empty JSON list of {train_keys, test_keys} objects")
    known = set(videos) if videos is not None else None
    splits = []
    for i, s in enumerate(obj):
        if not isinstance(s, dict):
            raise SplitsError(p, f"split {i}: must be an object with train_keys and test_keys")
        out: Split = {}
        for name in ("train_keys", "test_keys"):
            if name not in s:
                raise SplitsError(p, f"split {i}: missing {name}")
            keys = s[name]
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise SplitsError(p, f"split {i}: {name} must be a list of video names")
            if len(set(keys)) != len(keys):
                raise SplitsError(p, f"split {i}: {name} names a video twice")
            if known is not None:
                unknown = [k for k in keys if k not in known]
                if unknown:
                    raise SplitsError(p, f"split {i}: {name} names {unknown[0]!r}, which is not in the dataset")
            out[name] = list(keys)
        both = set(out["train_keys"]) & set(out["test_keys"])
        if both:
            raise SplitsError(p, f"split {i}: {sorted(both)[0]!r} is in both train_keys and test_keys")
        splits.append(out)
    return splits


def check_split_index(path: str | os.PathLike, index: int, n: int, error: type[AcsumganError] = SplitsError) -> int:
    """``index`` if it names one of the ``n`` splits of the file at ``path``, else a
    one-line ``error`` (SplitsError unless told): ``split index K out of range (file has N splits)``."""
    if not 0 <= index < n:
        raise error(path, f"split index {index} out of range (file has {n} splits)")
    return index


def check_split_keys(path: str | os.PathLike, index: int, split: Split, need_train: bool = True,
                     need_test: bool = False) -> Split:
    """``split`` (number ``index`` of the file at ``path``) if the parts asked for are non-empty."""
    if need_train and not split["train_keys"]:
        raise SplitsError(path, f"split {index}: train_keys is empty")
    if need_test and not split["test_keys"]:
        raise SplitsError(path, f"split {index}: test_keys is empty")
    return split


def get_split(path: str | os.PathLike, index: int, videos: Iterable[str] | None = None,
              need_train: bool = True, need_test: bool = False) -> Split:
    """One split of a file, checked (``index`` in range, non-empty parts as needed)."""
    splits = read_splits(path, videos)
    check_split_index(path, index, len(splits))
    return check_split_keys(path, index, splits[index], need_train, need_test)


def make_random_splits(keys: Sequence[str], n_splits: int = 5, test_fraction: float = 0.2, seed: int = 0) -> list[Split]:
    """``n_splits`` independent random splits, each testing ``round(test_fraction * n)`` videos."""
    if not keys:
        raise ValueError("no videos to split")
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be in (0, 1)")
    rng = np.random.default_rng(seed)
    n_test = max(1, min(len(keys) - 1, int(round(test_fraction * len(keys)))))
    out = []
    for _ in range(n_splits):
        perm = rng.permutation(len(keys))
        test = sorted(perm[:n_test].tolist())
        train = sorted(perm[n_test:].tolist())
        out.append({"train_keys": [keys[i] for i in train], "test_keys": [keys[i] for i in test]})
    return out


def make_kfold_splits(keys: Sequence[str], k: int = 5, seed: int = 0) -> list[Split]:
    """A shuffled k-fold partition: every video is in exactly one test set."""
    if not 2 <= k <= len(keys):
        raise ValueError(f"k must be between 2 and the number of videos ({len(keys)})")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(keys))
    folds = np.array_split(perm, k)
    out = []
    for f in folds:
        test = set(f.tolist())
        out.append({
            "train_keys": [keys[i] for i in range(len(keys)) if i not in test],
            "test_keys": [keys[i] for i in sorted(test)],
        })
    return out


def write_splits(path: str | os.PathLike, splits: list[Split]) -> Path:
    """Write a splits file atomically."""
    return write_json(path, splits)
