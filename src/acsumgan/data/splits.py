"""Splits files: a JSON list of ``{"train_keys": [...], "test_keys": [...]}``.

The standard files hold 5 random 80/20 splits (they overlap: a video can be tested
in several splits, and some never are). ``make_random_splits`` makes such a file,
seeded; ``make_kfold_splits`` makes a true k-fold partition, where every video is
tested exactly once.

The augmented and transfer settings (Zhang et al., ECCV 2016) split a merged file
(keys ``dataset/video``, :mod:`acsumgan.data.merge`) around a target dataset:
``make_augmented_splits`` tests a random 20 % of the target (or a k-fold partition of
it) and trains on the rest of the target plus every video of the other datasets;
``make_transfer_splits`` makes the one split that trains on the other datasets and
tests all of the target. Their split objects also hold ``"setting"`` and ``"target"``;
readers that know only ``train_keys`` and ``test_keys`` ignore them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import AcsumganError, SplitsError, shown
from ..fileio import check_input_file, write_json

Split = dict[str, Any]  # train_keys, test_keys: list[str]; optional setting, target: str

#: Values of a split's optional ``setting`` (``canonical``: train and test within one dataset).
SETTINGS = ("canonical", "augmented", "transfer")


def _dataset_of(key: str) -> str | None:
    return key.split("/", 1)[0] if "/" in key else None


def _check_setting(p, i: int, s: dict, out: Split) -> None:
    """The optional ``setting`` / ``target`` of split ``i``: known values, and the test
    keys (transfer: no train key) of the target dataset."""
    for name in ("setting", "target"):
        if name in s:
            val = s[name]
            if not isinstance(val, str) or not val:
                raise SplitsError(p, f"split {i}: {name} must be a non-empty string")
            out[name] = val
    setting, target = out.get("setting"), out.get("target")
    if setting is not None and setting not in SETTINGS:
        raise SplitsError(p, f"split {i}: setting must be one of {', '.join(SETTINGS)}, got {setting!r}")
    if setting in ("augmented", "transfer") and target is None:
        raise SplitsError(p, f"split {i}: setting {setting} needs a target")
    if target is None:
        return
    other = [k for k in out["test_keys"] if _dataset_of(k) != target]
    if other:
        raise SplitsError(p, f"split {i}: test key {other[0]!r} is not a video of the target {target!r}")
    if setting == "transfer":
        own = [k for k in out["train_keys"] if _dataset_of(k) == target]
        if own:
            raise SplitsError(p, f"split {i}: train key {own[0]!r} is a video of the target {target!r} (transfer)")


class _Object(dict):
    """A JSON object as read: ``twice`` is the first of its keys given more than once (JSON
    would keep the last one silently), or None."""

    twice: str | None = None


def _object(pairs: list[tuple[str, object]]) -> _Object:
    out = _Object()
    for k, value in pairs:
        if k in out and out.twice is None:
            out.twice = k
        out[k] = value
    return out


def read_splits(path: str | os.PathLike, videos: Iterable[str] | None = None) -> list[Split]:
    """Read and check a splits file; with ``videos``, every key must be among them.

    Each split is ``{"train_keys", "test_keys"}`` plus, when the file has them, its
    ``setting`` and ``target`` (checked: :data:`SETTINGS`; test keys of the target);
    other members are ignored."""
    p = check_input_file(path, SplitsError, "a JSON splits file", allow_empty=True)
    try:
        obj = json.loads(p.read_bytes().decode("utf-8"), object_pairs_hook=_object)
    except (ValueError, RecursionError) as exc:  # also numbers beyond Python's int-digit limit
        raise SplitsError(p, f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(obj, list) or not obj:
        raise SplitsError(p, "must be a non-empty JSON list of {train_keys, test_keys} objects")
    known = set(videos) if videos is not None else None
    splits = []
    for i, s in enumerate(obj):
        if not isinstance(s, dict):
            raise SplitsError(p, f"split {i}: must be an object with train_keys and test_keys")
        if getattr(s, "twice", None) is not None:
            raise SplitsError(p, f"split {i}: has the key {shown(s.twice)} twice")
        out: Split = {}
        for name in ("train_keys", "test_keys"):
            if name not in s:
                raise SplitsError(p, f"split {i}: missing {name}")
            keys = s[name]
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise SplitsError(p, f"split {i}: {name} must be a list of video names")
            seen: set[str] = set()
            for k in keys:
                if k in seen:
                    raise SplitsError(p, f"split {i}: {name} names {k!r} twice")
                seen.add(k)
            if known is not None:
                unknown = [k for k in keys if k not in known]
                if unknown:
                    raise SplitsError(p, f"split {i}: {name} names {unknown[0]!r}, which is not in the dataset")
            out[name] = list(keys)
        both = set(out["train_keys"]) & set(out["test_keys"])
        if both:
            raise SplitsError(p, f"split {i}: {sorted(both)[0]!r} is in both train_keys and test_keys")
        _check_setting(p, i, s, out)
        splits.append(out)
    return splits


def check_split_index(path: str | os.PathLike, index: int, n: int, error: type[AcsumganError] = SplitsError) -> int:
    """``index`` if it names one of the ``n`` splits of the file at ``path``, else a
    one-line ``error`` (SplitsError unless told): ``split index K out of range (file has N splits)``."""
    if not 0 <= index < n:
        raise error(path, f"split index {index} out of range (file has {n} splits)")
    return index


def check_split_keys(
    path: str | os.PathLike, index: int, split: Split, need_train: bool = True, need_test: bool = False
) -> Split:
    """``split`` (number ``index`` of the file at ``path``) if the parts asked for are non-empty."""
    if need_train and not split["train_keys"]:
        raise SplitsError(path, f"split {index}: train_keys is empty")
    if need_test and not split["test_keys"]:
        raise SplitsError(path, f"split {index}: test_keys is empty")
    return split


def get_split(
    path: str | os.PathLike,
    index: int,
    videos: Iterable[str] | None = None,
    need_train: bool = True,
    need_test: bool = False,
) -> Split:
    """One split of a file, checked (``index`` in range, non-empty parts as needed)."""
    splits = read_splits(path, videos)
    check_split_index(path, index, len(splits))
    return check_split_keys(path, index, splits[index], need_train, need_test)


def make_random_splits(
    keys: Sequence[str], n_splits: int = 5, test_fraction: float = 0.2, seed: int = 0
) -> list[Split]:
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
        out.append(
            {
                "train_keys": [keys[i] for i in range(len(keys)) if i not in test],
                "test_keys": [keys[i] for i in sorted(test)],
            }
        )
    return out


def _target_keys(keys: Sequence[str], target: str) -> tuple[list[str], list[str]]:
    """(the target's keys, the other datasets' keys) of a merged file's keys, in order."""
    datasets = list(dict.fromkeys(_dataset_of(k) for k in keys))
    if None in datasets:
        raise ValueError("keys without a dataset prefix: the settings need a merged file's keys (dataset/video)")
    if target not in datasets:
        raise ValueError(f"no dataset {target!r} among {', '.join(datasets)}")
    if len(datasets) < 2:
        raise ValueError(f"only one dataset ({target}): there is nothing to train on besides the target")
    mine = [k for k in keys if _dataset_of(k) == target]
    return mine, [k for k in keys if _dataset_of(k) != target]


def make_augmented_splits(
    keys: Sequence[str], target: str, n_splits: int = 5, test_fraction: float = 0.2, seed: int = 0, kfold: bool = False
) -> list[Split]:
    """The augmented setting: each split tests some of the ``target`` dataset's videos and
    trains on its others plus every video of the other datasets (keys ``dataset/video``).

    The test sets are those :func:`make_random_splits` (``n_splits``, ``test_fraction``,
    ``seed``) draws from the target's keys alone, in their order, or with ``kfold`` those
    of :func:`make_kfold_splits` (``k = n_splits``). Training keys keep the order of ``keys``."""
    mine, others = _target_keys(keys, target)
    if kfold:
        base = make_kfold_splits(mine, n_splits, seed)
    else:
        base = make_random_splits(mine, n_splits, test_fraction, seed)
    out = []
    for s in base:
        test = set(s["test_keys"])
        out.append(
            {
                "train_keys": [k for k in keys if k not in test],
                "test_keys": list(s["test_keys"]),
                "setting": "augmented",
                "target": target,
            }
        )
    return out


def make_transfer_splits(keys: Sequence[str], target: str) -> list[Split]:
    """The transfer setting: one split training on every video of the other datasets and
    testing every video of ``target`` (keys ``dataset/video``). One split only: the
    split's keys are fixed, and a copy would train the same run again."""
    mine, others = _target_keys(keys, target)
    return [{"train_keys": others, "test_keys": mine, "setting": "transfer", "target": target}]


def write_splits(path: str | os.PathLike, splits: list[Split]) -> Path:
    """Write ``splits`` (a list of ``{"train_keys": [...], "test_keys": [...]}``) as a JSON
    splits file, atomically (a temporary file renamed into place); returns the path."""
    return write_json(path, splits)
